# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The one place where optional ROS 2 libraries are swapped for built-in equivalents.

In a ROS 2 distribution ``cv_bridge`` is installed and used.  On the
standalone path (ROS 2 client library wheels from PyPI) it does not exist, so
a small equivalent converts between ``sensor_msgs/Image`` and NumPy arrays.
Both paths validate the message first (:func:`check_image`), so a malformed
image gives the same :class:`ImageFormatError` whichever is installed, and the
tests hold both to the same results.
"""

from typing import Tuple

import numpy as np

try:  # pragma: no cover - depends on the installation
    from cv_bridge import CvBridge
    _BRIDGE = CvBridge()
except ImportError:  # the standalone path
    _BRIDGE = None

#: Name of the implementation in use, for logs and diagnostics.
IMAGE_BACKEND = 'cv_bridge' if _BRIDGE is not None else 'builtin'

#: 8-bit encodings the tracker accepts and their channel counts.
CHANNELS = {'bgr8': 3, 'rgb8': 3, 'mono8': 1, 'bgra8': 4, 'rgba8': 4}


class ImageFormatError(ValueError):
    """A ``sensor_msgs/Image`` whose fields do not describe its data."""


def check_image(msg) -> Tuple[int, int, int]:
    """Return ``(height, width, channels)`` or raise :class:`ImageFormatError`."""
    channels = CHANNELS.get(msg.encoding)
    if channels is None:
        raise ImageFormatError(
            f"unsupported encoding '{msg.encoding}' (supported: {', '.join(CHANNELS)})")
    if msg.height <= 0 or msg.width <= 0:
        raise ImageFormatError(f'empty image {msg.width}x{msg.height}')
    if msg.step < msg.width * channels:
        raise ImageFormatError(
            f'step {msg.step} is smaller than width*channels {msg.width * channels}')
    if len(msg.data) != msg.step * msg.height:
        raise ImageFormatError(
            f'data has {len(msg.data)} bytes, step*height is {msg.step * msg.height}')
    return msg.height, msg.width, channels


def image_to_array(msg) -> np.ndarray:
    """Return the pixels of a validated ``sensor_msgs/Image`` (a view where possible)."""
    height, width, channels = check_image(msg)
    if _BRIDGE is not None:  # pragma: no cover - depends on the installation
        return _BRIDGE.imgmsg_to_cv2(msg, desired_encoding='passthrough')
    flat = np.frombuffer(msg.data, dtype=np.uint8)
    rows = flat.reshape(height, msg.step)[:, :width * channels]
    if channels == 1:
        return rows
    return rows.reshape(height, width, channels)


def array_to_image(frame: np.ndarray, stamp, frame_id: str, encoding: str = 'bgr8'):
    """Build a ``sensor_msgs/Image`` from an 8-bit array (one copy of the pixels)."""
    from sensor_msgs.msg import Image

    if frame.dtype != np.uint8:
        raise ImageFormatError(f'only 8-bit images are supported, got {frame.dtype}')
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    if CHANNELS.get(encoding) != channels:
        raise ImageFormatError(f"encoding '{encoding}' does not fit {channels} channel(s)")
    if _BRIDGE is not None:  # pragma: no cover - depends on the installation
        msg = _BRIDGE.cv2_to_imgmsg(np.ascontiguousarray(frame), encoding=encoding)
    else:
        msg = Image()
        msg.height, msg.width = int(frame.shape[0]), int(frame.shape[1])
        msg.encoding = encoding
        msg.is_bigendian = 0
        msg.step = msg.width * channels
        msg.data = np.ascontiguousarray(frame).tobytes()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    return msg
