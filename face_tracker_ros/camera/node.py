# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The camera node: publishes the frames of a V4L2 device or a video file.

Topics: ``camera/image_raw`` (``sensor_msgs/Image``, bgr8, reliable; stamp = capture
time), ``camera/camera_info`` (one per frame, same header; uncalibrated: ``K`` all zero),
``camera/preview/compressed`` (a small JPEG at ``preview_rate_hz``, off by default) and the
status ``camera: camera`` on ``/diagnostics``.

Capture runs in threads of its own (:class:`CaptureThread`: self-healing, see
:mod:`face_tracker_ros.camera.capture`); after ``max_recovery_s`` without a frame the node
exits non-zero so launch restarts it.  The simulated camera
(:mod:`face_tracker_ros.sim.camera_node`) is this node with another frame source.
"""

import atexit
import time

from rclpy.node import Node

from face_tracker_ros.camera.capture import CaptureThread
from face_tracker_ros.camera.native_log import NativeStderr
from face_tracker_ros.camera.params import CameraConfig, PARAMS, RULES
from face_tracker_ros.camera.publisher import camera_info, FramePublisher  # noqa: F401
from face_tracker_ros.camera.sources import check_video_file, V4L2Source, VideoFileSource
from face_tracker_ros.camera.status import CameraReport
from face_tracker_ros.common.health import NodeHealth, STARTUP_GRACE_S
from face_tracker_ros.common.params import declare, ParameterError
from face_tracker_ros.common.runner import EXIT_FATAL, main_for, request_exit
from face_tracker_ros.common.stats import RateMeter
from face_tracker_ros.interface import CAMERA_NODE, CAMERA_TASK

__all__ = ('CameraNode', 'PARAMS', 'RULES', 'camera_info', 'main')


class CameraNode(Node):
    """Publishes camera frames, captured in threads of their own.

    A camera with another frame source subclasses it, passes its own parameter
    table and rules, and overrides the hooks :meth:`source_factory`,
    :meth:`identity`, :meth:`ready`, :meth:`on_published` and :meth:`extra_figures`.
    """

    def __init__(self, params=PARAMS, rules=RULES, **kwargs):
        """Declare parameters, open the source and start capturing."""
        super().__init__(CAMERA_NODE, **kwargs)
        # FFmpeg's and OpenCV's own messages (stderr, from C++) into the node's log, from the
        # start: a video file refused while the parameters are checked shows why there too.
        self._native = NativeStderr(self.get_logger().warning)
        if self._native.start():
            atexit.register(self._native.stop)  # drained also when the constructor fails
        self.params = declare(self, params, rules, apply=self._apply)
        self.config = config = CameraConfig.from_params(self.params)
        self._fatal_reason = ''
        factory, hfov = self.source_factory(self.params, config)
        self.publisher = FramePublisher(self, config, hfov)
        try:
            self.capture = CaptureThread(
                factory, self._on_frame, config.capture, on_fatal=self._on_fatal,
                logger=_RosLogAdapter(self.get_logger()))
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        self.create_timer(0.2, self._check_fatal)
        self._rate = RateMeter(window_s=5.0)
        self._report = CameraReport()
        self._started = time.monotonic()
        self._source, self._device = self.identity(config)
        self.health = NodeHealth(self, hardware_id=self._device)
        self.health.add(CAMERA_TASK, self._status)
        self.capture.start()
        self.get_logger().info(f"camera started: source '{self._source}', publishing "
                               f'{self.publisher.image_pub.topic_name}')

    # -- hooks of a camera with another frame source ---------------------------------------

    def source_factory(self, values, config: CameraConfig):
        """Return ``(factory of fresh frame sources, hfov of the CameraInfo or None)``."""
        source = config.source
        if source.kind == 'file':
            # A missing or unplayable file is a configuration error (exit 2, not restarted),
            # not a camera to wait for.
            problem = check_video_file(source.video_path)
            if problem:
                raise ParameterError(f"parameter 'video_path': {problem}")
        if source.kind == 'v4l2':
            return (lambda: V4L2Source(source.device, width=source.width, height=source.height,
                                       fps=source.fps, fourcc=source.fourcc)), None
        return (lambda: VideoFileSource(source.video_path, loop=source.loop,
                                        fps=source.fps)), None

    def identity(self, config: CameraConfig):
        """Return ``(source kind, device)`` for the log and the status figures."""
        source = config.source
        return source.kind, source.device if source.kind == 'v4l2' else source.video_path

    def ready(self) -> bool:
        """Return whether frames may be published now."""
        return True

    def on_published(self, header) -> None:
        """Act after each published frame, given its header (in a capture thread)."""

    def extra_figures(self):
        """Return figures to add after the camera's own in its status."""
        return {}

    # -- plumbing --------------------------------------------------------------------------

    def _apply(self, changed) -> None:
        self.config = CameraConfig.from_params(self.params)

    def _on_fatal(self, reason: str) -> None:
        # Called from a capture thread: the executor's timer ends the node (exit 1).
        self._fatal_reason = reason

    def _check_fatal(self) -> None:
        if self._fatal_reason:
            # An expected end: one line and exit 1 (respawned), no traceback from the executor.
            request_exit(f'fatal: camera recovery gave up: {self._fatal_reason}', EXIT_FATAL)

    def _on_frame(self, frame, stamp_ns: int) -> None:
        if not self.ready():
            return
        header = self.publisher.publish(frame, stamp_ns, self.config)
        if header is None:
            return
        self._rate.tick()
        self.on_published(header)

    @property
    def frames_published(self) -> int:
        """Frames published so far."""
        return self.publisher.frames_published

    def _status(self):
        config = self.config
        wanted = float(getattr(self.capture.source, 'fps', 0.0) or config.fps or 0.0)
        pub = self.publisher
        return self._report.report(
            self.capture.stats(), config, now=time.time(), fps=self._rate.rate(),
            wanted=wanted, warming_up=time.monotonic() - self._started < STARTUP_GRACE_S,
            head={'source': self._source, 'device': self._device},
            tail={'frame_bytes': pub.frame_bytes, 'shm_segment_bytes': pub.segment,
                  **self.extra_figures()},
            transport_problem=pub.transport_problem)

    def shutdown(self) -> None:
        """Stop the capture thread and release the source."""
        self.capture.stop()
        self._native.stop()


class _RosLogAdapter:
    """Lets ROS-free code log through the node's logger (with throttling of repeats)."""

    def __init__(self, logger):
        self._logger = logger

    def debug(self, msg: str) -> None:
        self._logger.debug(msg)

    def info(self, msg: str) -> None:
        self._logger.info(msg)

    def warning(self, msg: str) -> None:
        self._logger.warning(msg, throttle_duration_sec=2.0)

    def error(self, msg: str) -> None:
        self._logger.error(msg, throttle_duration_sec=2.0)

    def exception(self, msg: str) -> None:
        self.error(msg)


def main(args=None):
    """Run the camera node."""
    main_for(CameraNode, CAMERA_NODE, tune_malloc=True)


if __name__ == '__main__':
    main()
