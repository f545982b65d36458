# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The detector node: finds faces in the newest frame and publishes the one to follow.

Topics:

* subscribes ``camera/image_raw`` (``sensor_msgs/Image``) best-effort with a
  queue of one and detects in the subscription callback, so it always takes the
  newest frame and there is never a backlog: a frame that arrives while another
  is processed replaces any older one waiting (``processing_hz`` below the
  camera's rate shows how many were passed over).
* ``face/target`` (``geometry_msgs/PointStamped``): one message per processed
  frame, with that frame's header (stamp = capture time).  ``point.x`` and
  ``point.y`` are the chosen face's offset from the image centre, normalised to
  [-1, 1] (x right, y down, optical frame); ``point.z`` is the face width over
  the image width, and **``point.z == 0`` means "no face"** (x and y are 0).
* ``/diagnostics``: the status ``detector: detector`` (processing time, rates,
  frame counts, detection rate, input age, pid).
* ``face/debug_image`` (``sensor_msgs/Image``): the frame with the faces drawn,
  only when ``publish_debug_image`` is true and someone subscribes.
"""

import time
from typing import Optional

from builtin_interfaces.msg import Time
import cv2
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import Image

from face_tracker_ros import interface
from face_tracker_ros.common import qos
from face_tracker_ros.common.compat import array_to_image, ImageFormatError
from face_tracker_ros.common.health import NodeHealth
from face_tracker_ros.common.image_wire import (
    encode_point_stamped,
    read_image,
    stamp_problem,
    wire_to_array,
)
from face_tracker_ros.common.params import declare, ParameterError
from face_tracker_ros.common.runner import main_for
from face_tracker_ros.detector.params import DetectorConfig, PARAMS, RULES
from face_tracker_ros.detector.status import annotate, BAD_STAMP_WARN_S, DetectorStatus
from face_tracker_ros.detector.tracking import build_tracker, ConfigError
from face_tracker_ros.geometry import pixel_to_offset

__all__ = ['BAD_STAMP_WARN_S', 'DetectorNode', 'main', 'PARAMS', 'RULES']

_TO_BGR = {'rgb8': cv2.COLOR_RGB2BGR, 'bgra8': cv2.COLOR_BGRA2BGR, 'rgba8': cv2.COLOR_RGBA2BGR}


class DetectorNode(Node):
    """Detects faces in the newest frame (a task of the executor) and publishes the target."""

    def __init__(self, **kwargs):
        """Declare parameters, load the backend and subscribe to the camera."""
        super().__init__(interface.DETECTOR_NODE, **kwargs)
        self.params = declare(self, PARAMS, RULES, apply=self._apply_params)
        self.config = DetectorConfig.from_params(self.params)
        try:
            self.tracker, choice = build_tracker(self.config)
        except ConfigError as exc:
            raise ParameterError(str(exc)) from None
        self.finder = self.tracker.finder
        self.selector = self.tracker.selector
        if choice.warning:
            self.get_logger().warning(choice.warning)
        elif choice.info:
            self.get_logger().info(choice.info)
        self.backend_name = choice.name
        self.status = DetectorStatus(choice.name, choice.warning)
        self._pending: Optional[bytes] = None
        self._detect_queued = False
        self._target_pub = self.create_publisher(PointStamped, interface.TARGET_TOPIC,
                                                 qos.TRACE_PUB)
        self._debug_pub = None
        if self.config.publish_debug_image:
            self._debug_pub = self.create_publisher(Image, interface.DEBUG_IMAGE_TOPIC,
                                                    qos.IMAGE_PUB)
        # Taken serialized and decoded here without copying the pixels (image_wire).
        self.create_subscription(Image, interface.IMAGE_TOPIC, self._on_image, qos.LATEST_ONLY,
                                 raw=True)
        self.health = NodeHealth(self, hardware_id='none')
        self.health.add(interface.DETECTOR_TASK,
                        lambda: self.status.report(self.config.input_timeout_s))
        self.get_logger().info(f"detector started: backend '{self.config.backend}' "
                               f'({self.backend_name} in use)')

    def _apply_params(self, changed) -> None:
        # Live tuning: runs in the executor's thread, between detections.
        self.config = DetectorConfig.from_params(self.params)
        self.tracker.configure(self.config)

    def _on_image(self, data: bytes) -> None:
        # Only keeps the newest frame and queues its detection as a task of the executor,
        # so the handler returns at once: detection inside the subscription callback made
        # the EventsExecutor's queue grow without bound (one handler per message), starving
        # the status timer and the parameter services.  A frame replaced before its turn
        # counts as skipped.
        self.status.received(skipped=self._pending is not None)
        self._pending = data
        if not self._detect_queued:
            self._detect_queued = True
            self.executor.create_task(self._detect_newest)

    def _detect_newest(self) -> None:
        data, self._pending = self._pending, None
        self._detect_queued = False
        if data is None:
            return
        try:
            self._process(data)
        except Exception:  # noqa: BLE001 - no frame may end the node
            import traceback
            self.get_logger().error('detection failed on a frame; skipped:\n'
                                    + traceback.format_exc(), throttle_duration_sec=5.0)

    def _process(self, data: bytes) -> None:
        log = self.get_logger()
        try:
            image = read_image(data)
            problem = stamp_problem(image.stamp_sec, image.stamp_nanosec)
            if problem is not None:
                # Passed on, it would become a target with a stamp no receiver can use.
                self.status.bad_stamp()
                so_far = self.status.counts.frames_bad_stamp
                log.warning(f'image skipped: {problem} ({so_far} so far)',
                            throttle_duration_sec=5.0)
                return
            frame = wire_to_array(image)
        except ImageFormatError as exc:
            self.status.rejected()
            log.warning(f'malformed image skipped: {exc}', throttle_duration_sec=5.0)
            return
        if image.encoding in _TO_BGR:
            frame = cv2.cvtColor(frame, _TO_BGR[image.encoding])
        started = time.perf_counter()
        faces, chosen = self.tracker.step(frame, image.stamp)
        ms = (time.perf_counter() - started) * 1000.0
        for event in self.selector.pop_events():
            log.info(event)
        height, width = frame.shape[:2]
        x = y = z = 0.0
        if chosen is not None:
            x, y = pixel_to_offset(*chosen.center, width, height)
            z = chosen.w / float(width)
        # First, and serialized here: the servo is waiting for it.
        self._target_pub.publish(encode_point_stamped(
            image.stamp_sec, image.stamp_nanosec, image.frame_id, x, y, z))
        self.status.processed(ms, len(faces), chosen is not None,
                              self.get_clock().now().nanoseconds * 1e-9 - image.stamp)
        if self._debug_pub is not None and self._debug_pub.get_subscription_count() > 0:
            stamp = Time(sec=image.stamp_sec, nanosec=image.stamp_nanosec)
            self._debug_pub.publish(array_to_image(annotate(frame, faces, chosen), stamp,
                                                   image.frame_id))


def main(args=None):
    """Run the detector node."""
    main_for(DetectorNode, interface.DETECTOR_NODE, tune_malloc=True)


if __name__ == '__main__':
    main()
