# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Publishes a camera's frames: the image, its ``CameraInfo`` and the small JPEG preview.

The image is serialized straight from the frame's array (one copy,
:mod:`face_tracker_ros.common.image_wire`) and published as serialized data;
subscribers receive an ordinary ``sensor_msgs/Image``.  Used by the camera node
and the simulated camera node alike.
"""

import time

from builtin_interfaces.msg import Time as BuiltinTime
import cv2
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from face_tracker_ros.camera.params import CameraConfig
from face_tracker_ros.common import qos
from face_tracker_ros.common.image_wire import encode_image
from face_tracker_ros.common.runner import publish_from_thread
from face_tracker_ros.common.transport import shm_segment, transport_problem
from face_tracker_ros.geometry import focal_length_px
from face_tracker_ros.interface import CAMERA_INFO_TOPIC, IMAGE_TOPIC, PREVIEW_TOPIC


def camera_info(width: int, height: int, hfov=None) -> CameraInfo:
    """Return the ``CameraInfo`` of a ``width`` x ``height`` camera (header left empty).

    With ``hfov`` (radians) an ideal pinhole of that horizontal field of view,
    square pixels, centred, no distortion (the simulated camera).  Without it,
    an uncalibrated camera: only the size, ``K``, ``R`` and ``P`` all zero.
    """
    info = CameraInfo(width=int(width), height=int(height), distortion_model='plumb_bob')
    info.d = [0.0] * 5
    if hfov is not None:
        f = focal_length_px(width, hfov)
        cx, cy = width / 2.0, height / 2.0
        info.k = [f, 0.0, cx, 0.0, f, cy, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [f, 0.0, cx, 0.0, 0.0, f, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


class FramePublisher:
    """The publishers of one camera node and what it takes to publish a frame on them."""

    def __init__(self, node, config: CameraConfig, hfov=None) -> None:
        """Create the publishers; ``hfov`` gives the ideal pinhole's ``CameraInfo``."""
        self._node = node
        self.frames_published = 0
        self.image_pub = node.create_publisher(Image, IMAGE_TOPIC, qos.IMAGE_PUB)
        self._info_pub = node.create_publisher(CameraInfo, CAMERA_INFO_TOPIC, qos.IMAGE_PUB)
        self._info_template = camera_info(config.width, config.height, hfov)
        self._info_size = (config.width, config.height)
        self._preview_pub = None
        self._next_preview = 0.0
        if config.preview_rate_hz > 0.0:
            self._preview_pub = node.create_publisher(CompressedImage, PREVIEW_TOPIC,
                                                      qos.STREAM_PUB)
        # Frames larger than the shared-memory segment go as lossy fragmented UDP: said once.
        import rclpy
        self.segment, self._segment_source = shm_segment(
            rclpy.get_rmw_implementation_identifier())
        self.frame_bytes = 0
        self.transport_problem = None

    def publish(self, frame, stamp_ns: int, config: CameraConfig):
        """Publish ``frame`` (from a capture thread); return its header, None if not sent."""
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        data = encode_image(frame, sec, nanosec, config.frame_id)
        if len(data) != self.frame_bytes:
            self._check_transport(len(data))
        if not publish_from_thread(self._node, self.image_pub, data):
            return None
        # Everything else once the frame is on its way.
        self.frames_published += 1
        height, width = frame.shape[:2]
        if (width, height) != self._info_size:  # a source that ignored the requested size
            self._info_template = camera_info(width, height, None)
            self._info_size = (width, height)
        info = self._info_template
        info.header.stamp = BuiltinTime(sec=sec, nanosec=nanosec)
        info.header.frame_id = config.frame_id
        publish_from_thread(self._node, self._info_pub, info)
        if self._preview_pub is not None and time.monotonic() >= self._next_preview:
            self._next_preview = time.monotonic() + 1.0 / config.preview_rate_hz
            self._publish_preview(frame, info.header, config)
        return info.header

    def _check_transport(self, size: int) -> None:
        self.frame_bytes = size
        problem = transport_problem(size, self.segment, self._segment_source)
        if problem is not None and problem != self.transport_problem:
            self._node.get_logger().warning(f'{self.image_pub.topic_name}: {problem}')
        self.transport_problem = problem

    def _publish_preview(self, frame, header, config: CameraConfig) -> None:
        width = config.preview_width
        if frame.shape[1] > width:
            height = max(1, round(frame.shape[0] * width / frame.shape[1]))
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode('.jpg', frame,
                                [cv2.IMWRITE_JPEG_QUALITY, config.preview_jpeg_quality])
        if ok:
            preview = CompressedImage(format='jpeg', data=jpeg.tobytes())
            preview.header = header
            publish_from_thread(self._node, self._preview_pub, preview)
