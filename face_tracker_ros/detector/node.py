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
from typing import List, Optional

from builtin_interfaces.msg import Time
import cv2
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import Image

from face_tracker_ros.common import qos
from face_tracker_ros.common.compat import array_to_image, ImageFormatError
from face_tracker_ros.common.health import NodeHealth, OK, STARTUP_GRACE_S, WARN
from face_tracker_ros.common.image_wire import (
    encode_point_stamped,
    read_image,
    stamp_problem,
    wire_to_array,
)
from face_tracker_ros.common.params import COMMON, declare, Param, ParameterError, Rule
from face_tracker_ros.common.runner import main_for
from face_tracker_ros.common.stats import RateMeter, WindowStats
from face_tracker_ros.detector.backends import Face
from face_tracker_ros.detector.selection import POLICIES
from face_tracker_ros.detector.tracking import build_tracker, ConfigError, DETECTOR_BACKENDS
from face_tracker_ros.geometry import pixel_to_offset

PARAMS = (
    Param('backend', 'auto', "Face detector: 'auto' = YuNet when a model is found "
          '(yunet.model_path, else the per-user and system model directories), else Haar',
          choices=DETECTOR_BACKENDS, why='the detector model is loaded at start'),
    Param('haar.cascade_path', '',
          "Haar cascade XML; empty = OpenCV's haarcascade_frontalface_alt2.xml (from cv2.data "
          'or the opencv-data package)'),
    Param('haar.scale_factor', 1.1, 'Haar image pyramid step', min=1.01, max=2.0, live=True),
    Param('haar.min_neighbors', 3, 'Haar detections needed to accept a face', min=0, max=50,
          live=True),
    Param('haar.min_size_px', 20, 'Smallest face Haar looks for, in the searched image',
          min=8, max=2000, unit='px', live=True),
    Param('haar.profile', True, "Where the frontal cascade finds nothing, search with OpenCV's "
          'profile cascade in both directions'),
    Param('yunet.model_path', '', 'YuNet ONNX model; empty = look in the per-user and system '
          'model directories (face_tracker_get_model downloads it)'),
    Param('yunet.sha256', '', 'Expected sha256 of the model; empty = check against known '
          'releases and warn if unknown'),
    Param('yunet.score_threshold', 0.7, 'YuNet confidence needed to accept a face',
          min=0.0, max=1.0, live=True),
    Param('yunet.nms_threshold', 0.3, 'YuNet non-maximum suppression IoU', min=0.0, max=1.0,
          live=True),
    Param('detect_width', 320, 'Full-frame searches run on a copy scaled to this width '
          '(0 = native size, else at least 32)', min=0, max=7680, unit='px'),
    Param('roi_search', True, 'Search around the last face first', live=True),
    Param('roi_scale', 2.5, 'Size of the search window around the last face, in face sizes',
          min=1.5, max=10.0),
    Param('roi_face_px', 48.0, 'In a search around the last face, the image is scaled so that '
          'face is about this wide (smaller is cheaper; below 48 Haar starts to miss)',
          min=24.0, max=256.0, unit='px'),
    Param('roi_size_band', [0.7, 1.6], 'Face widths a search around the last face accepts, as '
          'multiples of its width: [low, high], 0.1 <= low <= 1 <= high <= 10'),
    Param('min_face_px', 16.0, 'Smallest face a full search finds, in camera pixels: when the '
          'scaled search finds nothing, small faces are searched at native size; 0 = off',
          min=0.0, max=2000.0, unit='px'),
    Param('full_search_every', 15, 'Force a full-frame search every N frames',
          min=1, max=100000, live=True),
    Param('selection.max_jump', 1.0, 'Largest move (in face widths) between frames for the '
          'current face to be kept', min=0.0, min_exclusive=True, max=100.0, live=True),
    Param('selection.size_ratio', 2.0, 'Largest size change between frames for the current '
          'face to be kept', min=1.0, max=100.0, live=True),
    Param('selection.switch_after_s', 1.0, 'The followed face must be gone this long before '
          'another face is followed', min=0.0, max=60.0, unit='s', live=True),
    Param('selection.policy', 'largest', 'Which face becomes the target when none is followed',
          choices=POLICIES, live=True),
    Param('selection.bridge_s', 3.0, 'While the detector misses the followed face, follow its '
          'appearance (template) for at most this long; 0 = off', min=0.0, max=10.0, unit='s',
          live=True),
    Param('publish_debug_image', False, 'Publish face/debug_image with the faces drawn'),
    Param('diag.input_timeout_s', 2.0, 'No image for this long is WARN', min=0.1, max=600.0,
          unit='s', live=True),
) + COMMON


def _detect_width_problem(v):
    width = v['detect_width']
    if width == 0 or width >= 32:
        return None
    return f"parameter 'detect_width' = {width} is not allowed: 0 (native size) or >= 32"


def _size_band_problem(v):
    band = v['roi_size_band']
    if len(band) == 2 and 0.1 <= band[0] <= 1.0 <= band[1] <= 10.0:
        return None
    return (f"parameter 'roi_size_band' = {list(band)!r} is not allowed: [low, high] with "
            '0.1 <= low <= 1 <= high <= 10')


#: Rules of the detector's parameters the ranges cannot say, checked at start.
RULES = (Rule(('detect_width',), _detect_width_problem),
         Rule(('roi_size_band',), _size_band_problem))


#: Images with a stamp that is not a time within this many seconds make the status WARN.
BAD_STAMP_WARN_S = 5.0


class DetectorNode(Node):
    """Detects faces in the newest frame in a worker thread and publishes the target."""

    def __init__(self, **kwargs):
        """Declare parameters, load the backend and start the worker."""
        super().__init__('detector', **kwargs)
        self.params = p = declare(self, PARAMS, RULES, apply=self._apply_params)
        try:
            self.tracker, choice = build_tracker(p)
        except ConfigError as exc:
            raise ParameterError(str(exc)) from None
        self.finder = self.tracker.finder
        self.selector = self.tracker.selector
        self.backend_warning = choice.warning
        if choice.warning:
            self.get_logger().warning(choice.warning)
        elif choice.info:
            self.get_logger().info(choice.info)
        self.backend_name = choice.name
        self.frames_received = 0
        self.frames_processed = 0
        self.frames_rejected = 0
        self.frames_bad_stamp = 0
        self._bad_stamp_time = None
        self.frames_skipped = 0
        self._pending: Optional[bytes] = None
        self._detect_queued = False
        self.detections = 0
        self.faces_last_frame = 0
        self.processing_ms_last = 0.0
        self.last_input_age = None
        self._last_input_time = None
        self._started = time.monotonic()
        self._processing_ms = WindowStats(window_s=5.0)
        self._detected = WindowStats(window_s=5.0)
        self._processed_rate = RateMeter(window_s=5.0)
        self._target_pub = self.create_publisher(PointStamped, 'face/target', qos.TRACE_PUB)
        self._debug_pub = None
        if p['publish_debug_image']:
            self._debug_pub = self.create_publisher(Image, 'face/debug_image', qos.IMAGE_PUB)
        # Taken serialized and decoded here without copying the pixels (image_wire).
        self.create_subscription(Image, 'camera/image_raw', self._on_image, qos.LATEST_ONLY,
                                 raw=True)
        self.health = NodeHealth(self, hardware_id='none')
        self.health.add('detector', self._report)
        self.get_logger().info(f"detector started: backend '{p['backend']}' "
                               f'({self.backend_name} in use)')

    def _apply_params(self, changed) -> None:
        # Live tuning: values checked and stored in self.params; runs in the executor's
        # thread, between detections.
        p = self.params
        backend = self.finder.backend
        if self.backend_name == 'haar':
            backend.scale_factor = p['haar.scale_factor']
            backend.min_neighbors = p['haar.min_neighbors']
            backend.min_size_px = p['haar.min_size_px']
        else:
            backend.set_thresholds(p['yunet.score_threshold'], p['yunet.nms_threshold'])
        self.finder.roi_search = p['roi_search']
        self.finder.full_search_every = p['full_search_every']
        self.selector.max_jump = p['selection.max_jump']
        self.selector.size_ratio = p['selection.size_ratio']
        self.selector.switch_after_s = p['selection.switch_after_s']
        self.selector.policy = p['selection.policy']
        self.tracker.bridge_s = p['selection.bridge_s']

    def _on_image(self, data: bytes) -> None:
        # Only keeps the newest frame and queues its detection as a task of the executor:
        # detection runs in the executor's thread (no worker thread waits for the
        # interpreter lock) but not inside the subscription's callback.  A callback slower
        # than its input starves everything else of the executor: the EventsExecutor queues
        # one handler per arriving message, first come first served, so with detection in
        # the callback the queue grew without bound and the status timer and parameter
        # services waited behind it (one status in 16 s at 30 Hz with 80 ms per frame,
        # and the watchdog ended a working detector).  Now a frame's handler returns at
        # once, the status timer runs between detections, and a frame replaced before its
        # turn counts as skipped.
        self.frames_received += 1
        self._last_input_time = time.monotonic()
        if self._pending is not None:
            self.frames_skipped += 1
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
            self.get_logger().error('detection failed on a frame; skipped:\n'
                                    + _traceback(), throttle_duration_sec=5.0)

    def _process(self, data: bytes) -> None:
        try:
            image = read_image(data)
            problem = stamp_problem(image.stamp_sec, image.stamp_nanosec)
            if problem is not None:
                # Passed on, it would become a target with a stamp no receiver can use.
                self.frames_bad_stamp += 1
                self._bad_stamp_time = time.monotonic()
                self.get_logger().warning(
                    f'image skipped: {problem} ({self.frames_bad_stamp} so far)',
                    throttle_duration_sec=5.0)
                return
            frame = wire_to_array(image)
        except ImageFormatError as exc:
            self.frames_rejected += 1
            self.get_logger().warning(f'malformed image skipped: {exc}',
                                      throttle_duration_sec=5.0)
            return
        encoding = image.encoding
        if encoding == 'rgb8':
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        elif encoding in ('bgra8', 'rgba8'):
            code = cv2.COLOR_BGRA2BGR if encoding == 'bgra8' else cv2.COLOR_RGBA2BGR
            frame = cv2.cvtColor(frame, code)
        started = time.perf_counter()
        faces, chosen = self.tracker.step(frame, image.stamp)
        self.processing_ms_last = (time.perf_counter() - started) * 1000.0
        for event in self.selector.pop_events():
            self.get_logger().info(event)
        height, width = frame.shape[:2]
        x = y = z = 0.0
        if chosen is not None:
            cx, cy = chosen.center
            x, y = pixel_to_offset(cx, cy, width, height)
            z = chosen.w / float(width)
        # First, and serialized here: the servo is waiting for it.
        self._target_pub.publish(encode_point_stamped(
            image.stamp_sec, image.stamp_nanosec, image.frame_id, x, y, z))
        self.frames_processed += 1
        self.detections += chosen is not None
        self.faces_last_frame = len(faces)
        self._processing_ms.add(self.processing_ms_last)
        self._detected.add(1.0 if chosen is not None else 0.0)
        self._processed_rate.tick()
        self.last_input_age = self.get_clock().now().nanoseconds * 1e-9 - image.stamp
        if self._debug_pub is not None and self._debug_pub.get_subscription_count() > 0:
            stamp = Time(sec=image.stamp_sec, nanosec=image.stamp_nanosec)
            self._debug_pub.publish(array_to_image(
                _annotate(frame, faces, chosen), stamp, image.frame_id))

    def _report(self):
        now = time.monotonic()
        rate = self._processed_rate.rate()
        mean_ms = self._processing_ms.mean
        figures = {
            'backend': self.backend_name,
            'processing_ms_mean': mean_ms, 'processing_ms_max': self._processing_ms.max,
            'processing_hz': rate,
            'frames_received': self.frames_received, 'frames_processed': self.frames_processed,
            'frames_rejected': self.frames_rejected, 'frames_skipped': self.frames_skipped,
            'detections_total': self.detections,
            'detection_rate': self._detected.mean, 'faces_last_frame': self.faces_last_frame,
            'input_age_s': self.last_input_age,
        }
        figures['frames_bad_stamp'] = self.frames_bad_stamp
        silent = now - (self._last_input_time or self._started)
        if silent > self.params['diag.input_timeout_s'] and \
                now - self._started > STARTUP_GRACE_S:
            return WARN, f'no images for {silent:.1f} s', figures
        if self._bad_stamp_time is not None and now - self._bad_stamp_time < BAD_STAMP_WARN_S:
            return WARN, (f'skipping images whose stamp is not a time '
                          f'({self.frames_bad_stamp} in all)'), figures
        if self._last_input_time is None:
            if self.backend_warning:
                return WARN, f'waiting for images; {self.backend_warning}', figures
            return OK, 'waiting for images', figures
        faces = 'no face' if self.faces_last_frame == 0 else \
            f'{self.faces_last_frame} face' + ('s' if self.faces_last_frame > 1 else '')
        ms = f', {mean_ms:.1f} ms/frame' if mean_ms is not None else ''
        if self.backend_warning:
            return WARN, f'detecting {rate:.1f} Hz{ms}, {faces}; {self.backend_warning}', figures
        return OK, f'detecting {rate:.1f} Hz{ms}, {faces}', figures


def _annotate(frame, faces: List[Face], chosen: Optional[Face]):
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    for face in faces:
        colour = (0, 255, 0) if face is chosen else (0, 160, 255)
        cv2.rectangle(out, (int(face.x), int(face.y)),
                      (int(face.x + face.w), int(face.y + face.h)), colour, 2)
    h, w = out.shape[:2]
    cv2.drawMarker(out, (w // 2, h // 2), (255, 255, 255), cv2.MARKER_CROSS, 20, 1)
    return out


def _traceback() -> str:
    import traceback
    return traceback.format_exc()


def main(args=None):
    """Run the detector node."""
    main_for(DetectorNode, 'detector', tune_malloc=True)


if __name__ == '__main__':
    main()
