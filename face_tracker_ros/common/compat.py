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

from face_tracker_ros.common.status import STARTING_MESSAGE
from face_tracker_ros.interface import DIAGNOSTICS_TOPIC

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


# --------------------------------------------------------------------------------------------
# diagnostic_updater
#
# In a ROS 2 distribution the real diagnostic_updater is used.  Without it, the classes below
# behave the same way for what the tracker uses (held to it by test/test_diagnostics.py):
# ``Updater(node, period=1.0)`` declares the parameter ``diagnostic_updater.period``, publishes
# one ``diagnostic_msgs/DiagnosticArray`` on ``/diagnostics`` per period, names each status
# ``"<node name>: <task name>"``, stamps the hardware id set with ``setHardwareID`` on every
# status, announces each task with an OK "Node starting up" status when it is added, and starts
# every task at ERROR "No message was set" so a task that forgets its summary is visible.
# ``DiagnosticStatusWrapper`` offers ``summary``, ``clearSummary``, ``mergeSummary`` and
# ``add`` (values converted to strings).
# --------------------------------------------------------------------------------------------

try:  # pragma: no cover - depends on the installation
    from diagnostic_updater import DiagnosticStatusWrapper, Updater
    DIAGNOSTICS_BACKEND = 'diagnostic_updater'
except ImportError:  # the standalone path
    DIAGNOSTICS_BACKEND = 'builtin'

    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    class DiagnosticStatusWrapper(DiagnosticStatus):
        """A ``DiagnosticStatus`` with helpers to set its level, message and values."""

        def summary(self, *args) -> None:
            """Set level and message, given as ``(level, message)`` or as one status."""
            if len(args) == 1:
                self.level, self.message = args[0].level, args[0].message
            else:
                self.level, self.message = args[0], args[1]

        def clearSummary(self) -> None:  # noqa: N802 - diagnostic_updater's name
            """Reset the level to OK and the message to empty."""
            self.summary(DiagnosticStatus.OK, '')

        def mergeSummary(self, *args) -> None:  # noqa: N802 - diagnostic_updater's name
            """Merge a level and message into the current ones (worst level wins).

            Messages of equal severity class (both OK, or both not OK) are joined
            with '; '; a non-OK message replaces an OK one.
            """
            if len(args) == 1:
                level, message = args[0].level, args[0].message
            else:
                level, message = args[0], args[1]
            ok = DiagnosticStatus.OK
            if (level > ok) == (self.level > ok):
                self.message = f'{self.message}; {message}' if self.message else message
            elif level > self.level:
                self.message = message
            if level > self.level:
                self.level = level

        def add(self, key, value) -> None:
            """Append a key/value pair (the value is converted to a string)."""
            self.values.append(KeyValue(key=str(key), value=str(value)))

    class Updater:
        """Runs diagnostic tasks once per period and publishes them on ``/diagnostics``."""

        def __init__(self, node, period: float = 1.0):
            """Declare ``diagnostic_updater.period`` and start the publishing timer."""
            self.node = node
            self.publisher = node.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 1)
            self.period_parameter = 'diagnostic_updater.period'
            self._period = node.declare_parameter(self.period_parameter, period).value
            self.timer = node.create_timer(self._period, self.update)
            self.hwid = ''
            self.node_name = node.get_name()
            self.tasks = []

        @property
        def period(self) -> float:
            """The publishing period in seconds."""
            return self._period

        def setHardwareID(self, hwid: str) -> None:  # noqa: N802 - diagnostic_updater's name
            """Set the hardware id put on every status."""
            self.hwid = hwid

        def add(self, *args) -> None:
            """Add a task, given as ``(name, function)`` or as one task (with getName/run)."""
            if len(args) == 1:
                name, function = args[0].getName(), args[0].run
            else:
                name, function = args
            self.tasks.append((name, function))
            status = DiagnosticStatusWrapper()
            status.name = name
            status.summary(DiagnosticStatus.OK, STARTING_MESSAGE)
            self.publish(status)

        def removeByName(self, name: str) -> bool:  # noqa: N802 - diagnostic_updater's name
            """Remove the first task called ``name``; return whether one was removed."""
            for i, (task_name, _) in enumerate(self.tasks):
                if task_name == name:
                    del self.tasks[i]
                    return True
            return False

        def update(self) -> None:
            """Run every task and publish the results."""
            statuses = []
            for name, function in list(self.tasks):
                status = DiagnosticStatusWrapper()
                status.level = DiagnosticStatus.ERROR
                status.name = name
                status.message = 'No message was set'
                status.hardware_id = self.hwid
                statuses.append(function(status))
            self.publish(statuses)

        def force_update(self) -> None:
            """Publish now, outside the period."""
            self.update()

        def publish(self, statuses) -> None:
            """Publish one status or a list of them, names prefixed with the node name."""
            if not isinstance(statuses, list):
                statuses = [statuses]
            array = DiagnosticArray()
            array.header.stamp = self.node.get_clock().now().to_msg()
            for status in statuses:
                out = DiagnosticStatus()
                out.name = f'{self.node_name}: {status.name}'
                out.level = status.level
                out.message = status.message
                out.hardware_id = status.hardware_id
                out.values = status.values
                array.status.append(out)
            self.publisher.publish(array)
