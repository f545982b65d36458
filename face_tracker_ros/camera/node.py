# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The camera node: publishes frames from a V4L2 device, a video file or the simulation.

Topics:

* ``camera/image_raw`` (``sensor_msgs/Image``, bgr8, reliable): every captured
  frame, ``header.stamp`` = capture time, ``frame_id`` = ``frame_id`` parameter.
  It is serialized here straight from the frame's array (one copy,
  :mod:`face_tracker_ros.common.image_wire`) and published as serialized
  data; subscribers receive an ordinary ``sensor_msgs/Image``.
* ``camera/camera_info`` (``sensor_msgs/CameraInfo``, reliable): one per frame,
  same header.  The simulated camera's true pinhole intrinsics; for a real
  camera or a file an uncalibrated model (``K`` all zero, as ROS defines it),
  since this node loads no calibration.  Small, so the diagnostics node
  measures the frame rate and watches the camera's output on it rather than
  receiving every 900 KB image.
* ``camera/preview/compressed`` (``sensor_msgs/CompressedImage``, JPEG): a
  small copy at ``preview_rate_hz`` (off by default) for bag recordings and
  viewing over a network.
* ``sim/true_target`` (``geometry_msgs/PointStamped``, simulation only): where
  the face truly is in that frame (same stamp): ``x``/``y`` its normalised
  offset, ``z`` its distance from the image centre over the half-width, or -1
  when the face centre is outside the image.
* ``/diagnostics``: the status ``camera: camera`` (state, measured ``fps``
  against the configured rate, ``frame_age_s``, frame and error counts, pid).
* subscribes ``sim/joint_states`` (``sensor_msgs/JointState``, simulation
  only): the simulated controller's true pan/tilt, which aim the simulated view.

Capture runs in its own thread (:class:`CaptureThread`), so a read that blocks
never stalls the executor; frames are published from that thread.  Failed,
blocked (``frame_timeout_s``) and frozen (``frozen_timeout_s``) reads count as
errors; more than ``max_consecutive_errors`` in a row reopen the source with
backoff (a blocked reader is abandoned and replaced); after ``max_recovery_s``
without a frame the node exits non-zero so launch restarts it.

The simulated camera also takes faults (``sim.faults``, or at run time from
``sim/inject_fault``, ``std_msgs/String`` ``"camera:<kind>:<duration_s>[:<value>]"``).
"""

import atexit
import math
import threading
import time

from builtin_interfaces.msg import Time as BuiltinTime
import cv2
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, JointState
from std_msgs.msg import String

from face_tracker_ros.camera.capture import CaptureThread
from face_tracker_ros.camera.native_log import NativeStderr
from face_tracker_ros.camera.sources import (
    check_video_file,
    DEFAULT_CAMERA_FPS,
    make_source,
    SOURCES,
)
from face_tracker_ros.common import qos
from face_tracker_ros.common.health import ERROR, NodeHealth, OK, STARTUP_GRACE_S, WARN
from face_tracker_ros.common.image_wire import encode_image
from face_tracker_ros.common.params import (
    at_most,
    COMMON,
    declare,
    Param,
    ParameterError,
    required_when,
    Rule,
)
from face_tracker_ros.common.runner import (
    EXIT_FATAL,
    main_for,
    publish_from_thread,
    request_exit,
)
from face_tracker_ros.common.stats import RateMeter
from face_tracker_ros.common.transport import shm_segment, transport_problem
from face_tracker_ros.geometry import focal_length_px
from face_tracker_ros.sim.paths import PATHS

#: Why the capture settings are read-only.
_OPENED = 'the source is opened with it at start'

PARAMS = (
    Param('source', 'v4l2', 'Frame source: a V4L2 device, a video file, or the simulation',
          choices=SOURCES, why=_OPENED),
    Param('device', '/dev/video0',
          'V4L2 device: /dev/videoN, a /dev/v4l/by-id/... link, or an index (source v4l2)',
          why=_OPENED),
    Param('video_path', '', 'Video file to play (source file)'),
    Param('loop_video', True, 'Start the video file again at its end (source file)'),
    Param('width', 640, 'Requested frame width', min=16, max=7680, unit='px'),
    Param('height', 480, 'Requested frame height', min=16, max=4320, unit='px'),
    Param('fps', 0.0, "Frame rate: 0 = the source's own (a video file plays at its own rate; "
          'v4l2 and sim are asked for 30 Hz); > 0 requests it (a file plays at it)',
          min=0.0, max=240.0, unit='Hz'),
    Param('fourcc', 'MJPG', 'Requested V4L2 pixel format, four characters (MJPG, YUYV)'),
    Param('frame_id', 'camera_optical_frame', 'frame_id of the published images'),
    Param('max_consecutive_errors', 10,
          'Failed reads in a row after which the source is closed and reopened',
          min=1, max=10000),
    Param('reopen_backoff_s', 0.5, 'First wait before reopening a failed source',
          min=0.01, max=60.0, unit='s'),
    Param('reopen_backoff_max_s', 1.0, 'Longest wait between reopen attempts',
          min=0.01, max=600.0, unit='s'),
    Param('frame_timeout_s', 2.0, 'A frame older than this means the camera is stuck',
          min=0.05, max=60.0, unit='s'),
    Param('diag.fps_warn_ratio', 0.8, 'Measured frame rate below this fraction of the '
          'configured one is WARN', min=0.0, max=1.0, live=True),
    Param('diag.fps_error_ratio', 0.5, 'Measured frame rate below this fraction of the '
          'configured one is ERROR', min=0.0, max=1.0, live=True),
    Param('frozen_timeout_s', 2.0, 'Byte-identical frames for this long count as read '
          'errors (a stuck driver); 0 = off', min=0.0, max=600.0, unit='s'),
    Param('max_recovery_s', 60.0, 'No frame for this long while recovering: the node exits '
          'non-zero so launch restarts it; 0 = never give up', min=0.0, max=86400.0, unit='s'),
    Param('preview_rate_hz', 0.0, 'Rate of camera/preview/compressed, a small JPEG for bag '
          'recordings and remote viewing; 0 = off', min=0.0, max=30.0, unit='Hz'),
    Param('preview_width', 320, 'Width of the preview images', min=16, max=7680, unit='px',
          live=True),
    Param('preview_jpeg_quality', 70, 'JPEG quality of the preview', min=1, max=100,
          live=True),
    Param('sim.path', 'drift', 'Simulated face motion', choices=PATHS),
    Param('sim.seed', 0, 'Seed of the simulated motion and sensor noise', min=0, max=2 ** 31),
    Param('sim.hfov', math.radians(60.0), 'Horizontal field of view of the simulated camera',
          min=0.1, max=3.0, unit='rad'),
    Param('sim.face_size', 0.15, 'Angular width of the simulated face', min=0.02, max=1.0,
          unit='rad'),
    Param('sim.faults', '', 'Fault schedule of the simulated camera: comma-separated '
          '<kind>:<start_s>:<duration_s>[:<value>], kinds read_fail, frozen, black, slow, '
          'hang, disappear, leak, future_stamp, past_stamp (e.g. "read_fail:10:3")'),
    Param('sim.wait_for_pose', False, "Publish no frame before the simulated servos' angles "
          'arrive on sim/joint_states (the bring-up sets it: it starts the simulated controller)'),
    Param('sim.noise_sigma', 2.0, 'Gaussian sensor noise of the simulated camera',
          min=0.0, max=50.0, unit='grey levels'),
) + COMMON


def _face_size_problem(v):
    if v['source'] != 'sim' or v['sim.face_size'] < v['sim.hfov']:
        return None
    return (f"parameter 'sim.face_size' = {v['sim.face_size']!r} must be < 'sim.hfov' = "
            f"{v['sim.hfov']!r} (the simulated face must fit the view)")


#: Rules between the camera's parameters, checked at start and for every change.
RULES = (
    required_when('video_path', 'source', ('file',)),
    required_when('device', 'source', ('v4l2',)),
    Rule(('sim.face_size', 'sim.hfov', 'source'), _face_size_problem),
    at_most('reopen_backoff_s', 'reopen_backoff_max_s'),
    at_most('diag.fps_error_ratio', 'diag.fps_warn_ratio',
            why='a rate low enough to be ERROR is WARN first'),
)


class CameraNode(Node):
    """Publishes camera frames, captured in a thread of their own."""

    def __init__(self, **kwargs):
        """Declare parameters, open the source and start capturing."""
        super().__init__('camera', **kwargs)
        # FFmpeg's and OpenCV's own messages (stderr, from C++) into the node's log, from the
        # start: a video file refused while the parameters are checked shows why there too.
        self._native = NativeStderr(self.get_logger().warning)
        if self._native.start():
            atexit.register(self._native.stop)  # drained also when the constructor fails
        # Live parameters (diag.*, preview_*) are read from self.params where used.
        self.params = p = declare(self, PARAMS, RULES)
        if len(p['fourcc']) != 4:
            raise ParameterError(f"parameter 'fourcc' = {p['fourcc']!r} must be 4 characters")
        if p['source'] == 'file':
            # A missing or unplayable file is a configuration error (exit 2, not restarted),
            # not a camera to wait for.
            problem = check_video_file(p['video_path'])
            if problem:
                raise ParameterError(f"parameter 'video_path': {problem}")
        self._frame_id = p['frame_id']
        self._pose = (0.0, 0.0)
        self._pose_received = p['source'] != 'sim' or not p['sim.wait_for_pose']
        self._pose_lock = threading.Lock()
        self._image_pub = self.create_publisher(Image, 'camera/image_raw', qos.IMAGE_PUB)
        self._info_pub = self.create_publisher(CameraInfo, 'camera/camera_info', qos.IMAGE_PUB)
        self._info_template = camera_info(
            p['width'], p['height'], p['sim.hfov'] if p['source'] == 'sim' else None)
        self._info_size = (p['width'], p['height'])
        self._preview_pub = None
        self._next_preview = 0.0
        if p['preview_rate_hz'] > 0.0:
            self._preview_pub = self.create_publisher(CompressedImage,
                                                      'camera/preview/compressed',
                                                      qos.STREAM_PUB)
        self._truth_pub = None
        scene = None
        if p['source'] == 'sim':
            from face_tracker_ros.sim.scene import SimScene
            scene = SimScene(width=p['width'], height=p['height'], hfov=p['sim.hfov'],
                             path=p['sim.path'], seed=p['sim.seed'],
                             face_size_rad=p['sim.face_size'],
                             noise_sigma=p['sim.noise_sigma'])
            self._truth_pub = self.create_publisher(PointStamped, 'sim/true_target',
                                                    qos.TRACE_PUB)
            self.create_subscription(JointState, 'sim/joint_states', self._on_sim_pose,
                                     qos.LATEST_ONLY)
        self._fatal_reason = ''
        self._schedule = None
        start_time = time.time()

        def make():
            return make_source(
                p['source'], device=p['device'], video_path=p['video_path'],
                width=p['width'], height=p['height'],
                fps=p['fps'] or (0.0 if p['source'] == 'file' else DEFAULT_CAMERA_FPS),
                fourcc=p['fourcc'],
                loop=p['loop_video'], scene=scene, pose=self._current_pose,
                start_time=start_time)
        try:
            factory = make
            if p['source'] == 'sim':
                from face_tracker_ros.sim.faults import FaultSchedule, faulty_factory, parse_faults
                self._schedule = FaultSchedule(parse_faults(p['sim.faults'], 'sim.faults'))
                factory = faulty_factory(make, self._schedule)
            self.capture = CaptureThread(
                factory, self._on_frame,
                max_consecutive_errors=p['max_consecutive_errors'],
                reopen_backoff_s=p['reopen_backoff_s'],
                reopen_backoff_max_s=p['reopen_backoff_max_s'],
                frame_timeout_s=p['frame_timeout_s'], frozen_timeout_s=p['frozen_timeout_s'],
                max_recovery_s=p['max_recovery_s'], on_fatal=self._on_fatal,
                logger=_RosLogAdapter(self.get_logger()))
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        if self._schedule is not None:
            self.create_subscription(String, 'sim/inject_fault', self._on_inject, 10)
        self.create_timer(0.2, self._check_fatal)
        self.frames_published = 0
        self._rate = RateMeter(window_s=5.0)
        self._black_seen = 0
        self._errors_seen = 0
        self._started = time.monotonic()
        kind = p['source']
        self._device = {'v4l2': p['device'], 'file': p['video_path'],
                        'sim': 'simulation'}[kind]
        self.health = NodeHealth(self, hardware_id=self._device)
        self.health.add('camera', self._report)
        # Frames larger than the shared-memory segment go as lossy fragmented UDP: said once.
        import rclpy
        self._segment, self._segment_source = shm_segment(
            rclpy.get_rmw_implementation_identifier())
        self._frame_bytes = 0
        self._transport_problem = None
        self.capture.start()
        self.get_logger().info(f"camera started: source '{p['source']}', publishing "
                               f'{self._image_pub.topic_name}')

    def _on_fatal(self, reason: str) -> None:
        # Called from a capture thread: the executor's timer ends the node (exit 1).
        self._fatal_reason = reason

    def _check_fatal(self) -> None:
        if self._fatal_reason:
            # An expected end: one line and exit 1 (respawned), no traceback from the executor.
            request_exit(f'fatal: camera recovery gave up: {self._fatal_reason}', EXIT_FATAL)

    def _on_inject(self, msg: String) -> None:
        """Start a fault now: ``camera:<kind>:<duration_s>[:<value>]`` (others are ignored)."""
        target, _, rest = msg.data.partition(':')
        if target != 'camera':
            return
        try:
            parts = rest.split(':')
            value = float(parts[2]) if len(parts) > 2 else None
            self._schedule.inject(parts[0], float(parts[1]), value)
        except (ValueError, IndexError) as exc:
            self.get_logger().warning(f"fault injection '{msg.data}' ignored: {exc}")
            return
        self.get_logger().warning(f'injected camera fault {rest}')

    def _current_pose(self):
        with self._pose_lock:
            return self._pose

    def _on_sim_pose(self, msg: JointState) -> None:
        try:
            pan = msg.position[list(msg.name).index('pan')]
            tilt = msg.position[list(msg.name).index('tilt')]
        except (ValueError, IndexError):
            self.get_logger().warning('sim/joint_states without pan and tilt: ignored',
                                      throttle_duration_sec=10.0)
            return
        with self._pose_lock:
            self._pose = (float(pan), float(tilt))
            self._pose_received = True

    def _on_frame(self, frame, stamp_ns: int) -> None:
        if not self._pose_received:
            # The simulated view is aimed by the simulated servos: until their angles
            # arrive, a frame would show the scene from a head that is not there.
            self.get_logger().info('waiting for sim/joint_states before publishing',
                                   throttle_duration_sec=5.0)
            return
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        data = encode_image(frame, sec, nanosec, self._frame_id)
        if len(data) != self._frame_bytes:
            self._check_transport(len(data))
        if not publish_from_thread(self, self._image_pub, data):
            return
        # Everything else once the frame is on its way.
        stamp = BuiltinTime(sec=sec, nanosec=nanosec)
        self.frames_published += 1
        self._rate.tick()
        height, width = frame.shape[:2]
        if (width, height) != self._info_size:  # a source that ignored the requested size
            self._info_template = camera_info(width, height, None)
            self._info_size = (width, height)
        info = self._info_template
        info.header.stamp = stamp
        info.header.frame_id = self._frame_id
        publish_from_thread(self, self._info_pub, info)
        if self._preview_pub is not None and time.monotonic() >= self._next_preview:
            self._next_preview = time.monotonic() + 1.0 / self.params['preview_rate_hz']
            self._publish_preview(frame, info.header)
        if self._truth_pub is not None:
            truth = getattr(self.capture.source, 'last_truth', None)
            if truth is not None:
                point = PointStamped()
                point.header = info.header
                point.point.x = float(truth.offset_x)
                point.point.y = float(truth.offset_y)
                point.point.z = float(truth.error) if truth.visible else -1.0
                publish_from_thread(self, self._truth_pub, point)

    def _check_transport(self, size: int) -> None:
        self._frame_bytes = size
        problem = transport_problem(size, self._segment, self._segment_source)
        if problem is not None and problem != self._transport_problem:
            self.get_logger().warning(f'{self._image_pub.topic_name}: {problem}')
        self._transport_problem = problem

    def _publish_preview(self, frame, header) -> None:
        width = self.params['preview_width']
        if frame.shape[1] > width:
            height = max(1, round(frame.shape[0] * width / frame.shape[1]))
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode('.jpg', frame,
                                [cv2.IMWRITE_JPEG_QUALITY, self.params['preview_jpeg_quality']])
        if ok:
            preview = CompressedImage(format='jpeg', data=jpeg.tobytes())
            preview.header = header
            publish_from_thread(self, self._preview_pub, preview)

    def _report(self):
        p = self.params
        st = self.capture.stats()
        now = time.time()
        age = None if st.last_frame_time is None else max(0.0, now - st.last_frame_time)
        wanted = float(getattr(self.capture.source, 'fps', 0.0) or p['fps'] or 0.0)
        fps = self._rate.rate()
        figures = {
            'source': p['source'], 'device': self._device, 'state': st.state,
            'fps': fps, 'fps_configured': wanted, 'frame_age_s': age,
            'frames_total': st.frames_total, 'read_errors_total': st.read_errors_total,
            'consecutive_errors': st.consecutive_errors, 'reinit_attempts': st.reinit_attempts,
            'stuck_reads_total': st.stuck_reads_total,
            'frozen_errors_total': st.frozen_errors_total,
            'duplicate_frames_total': st.duplicate_frames_total,
            'black_frames_total': st.black_frames_total,
            'recovering_s': None if st.recovering_since is None else
            max(0.0, now - st.recovering_since),
            'last_error': st.last_error,
            'frame_bytes': self._frame_bytes, 'shm_segment_bytes': self._segment,
        }
        if self._schedule is not None:
            figures['active_faults'] = ','.join(self._schedule.active()) or 'none'
        warming_up = time.monotonic() - self._started < STARTUP_GRACE_S
        black = st.black_frames_total - self._black_seen
        self._black_seen = st.black_frames_total
        errors = st.read_errors_total - self._errors_seen
        self._errors_seen = st.read_errors_total
        if st.state == 'streaming':
            if age is not None and age > p['frame_timeout_s']:
                return ERROR, f'no frame for {age:.1f} s', figures
            if wanted > 0.0 and not warming_up:
                if fps < wanted * p['diag.fps_error_ratio']:
                    return ERROR, f'frame rate {fps:.1f} Hz of {wanted:.1f} Hz', figures
                if fps < wanted * p['diag.fps_warn_ratio']:
                    return WARN, f'slow: {fps:.1f} Hz of {wanted:.1f} Hz', figures
            if errors > 0:
                return WARN, (f'streaming {fps:.1f} Hz, {errors} read error(s) since the last '
                              f'report: {st.last_error or "failed reads"}'), figures
            if black > 0:
                return WARN, (f'streaming {fps:.1f} Hz, {black} black frame(s) since the last '
                              'report (lens covered, no light?)'), figures
            if self._transport_problem is not None:
                return WARN, f'streaming {fps:.1f} Hz, but {self._transport_problem}', figures
            return OK, f'streaming {fps:.1f} Hz', figures
        if st.state == 'starting':
            if warming_up:
                return OK, 'starting', figures
            return WARN, 'starting: no frame yet', figures
        if st.state == 'reconnecting':
            return ERROR, (f'reconnecting (attempt {st.reinit_attempts}): '
                           f'{st.last_error or "read errors"}'), figures
        if st.state == 'failed':
            return ERROR, f'failed: {st.failure_reason}', figures
        return WARN, st.state, figures

    def shutdown(self) -> None:
        """Stop the capture thread and release the source."""
        self.capture.stop()
        self._native.stop()


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
    main_for(CameraNode, 'camera', tune_malloc=True)


if __name__ == '__main__':
    main()
