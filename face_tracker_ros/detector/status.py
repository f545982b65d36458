# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The detector's counters and its status report (level, message, figures), free of ROS.

:class:`DetectorStatus` counts the frames the node receives, skips, rejects and
processes and turns them into the ``detector: detector`` status; :func:`annotate`
draws the faces for ``face/debug_image``.  Times come from an injected clock.
"""

import time
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.common.stats import RateMeter, WindowStats
from face_tracker_ros.common.status import OK, STARTUP_GRACE_S, WARN
from face_tracker_ros.detector.backends import Face

BAD_STAMP_WARN_S = 5.0
"""Images with a stamp that is not a time within this many seconds make the status WARN."""


class DetectorStatus:
    """The detector's frame counters and rates, and the status they make."""

    def __init__(self, backend_name: str, backend_warning: str = '',
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backend_name = backend_name
        self.backend_warning = backend_warning
        self._clock = clock
        self.counts = Counters('frames_received', 'frames_processed', 'frames_rejected',
                               'frames_skipped', 'detections_total', 'frames_bad_stamp')
        self.faces_last_frame = 0
        self.processing_ms_last = 0.0
        self.last_input_age: Optional[float] = None
        self._bad_stamp_time: Optional[float] = None
        self._last_input_time: Optional[float] = None
        self._started = clock()
        self._processing_ms = WindowStats(window_s=5.0)
        self._detected = WindowStats(window_s=5.0)
        self._processed_rate = RateMeter(window_s=5.0)

    def received(self, skipped: bool) -> None:
        """Count an arriving frame (``skipped``: it replaced one never processed)."""
        self.counts.frames_received += 1
        self.counts.frames_skipped += skipped
        self._last_input_time = self._clock()

    def rejected(self) -> None:
        """Count a malformed frame."""
        self.counts.frames_rejected += 1

    def bad_stamp(self) -> None:
        """Count a frame skipped for a stamp that is not a time."""
        self.counts.frames_bad_stamp += 1
        self._bad_stamp_time = self._clock()

    def processed(self, ms: float, faces: int, found: bool, input_age: float) -> None:
        """Count a processed frame: its time, its faces, whether a target was published."""
        self.processing_ms_last = ms
        self.counts.frames_processed += 1
        self.counts.detections_total += found
        self.faces_last_frame = faces
        self._processing_ms.add(ms)
        self._detected.add(1.0 if found else 0.0)
        self._processed_rate.tick()
        self.last_input_age = input_age

    def report(self, input_timeout_s: float) -> Tuple[int, str, Dict[str, object]]:
        """Return the status: level, message and figures."""
        now = self._clock()
        rate = self._processed_rate.rate()
        mean_ms = self._processing_ms.mean
        counts = self.counts.as_dict()
        bad_stamp = counts.pop('frames_bad_stamp')  # published last
        figures = {
            'backend': self.backend_name,
            'processing_ms_mean': mean_ms, 'processing_ms_max': self._processing_ms.max,
            'processing_hz': rate, **counts,
            'detection_rate': self._detected.mean, 'faces_last_frame': self.faces_last_frame,
            'input_age_s': self.last_input_age, 'frames_bad_stamp': bad_stamp,
        }
        silent = now - (self._last_input_time or self._started)
        if silent > input_timeout_s and now - self._started > STARTUP_GRACE_S:
            return WARN, f'no images for {silent:.1f} s', figures
        if self._bad_stamp_time is not None and now - self._bad_stamp_time < BAD_STAMP_WARN_S:
            return WARN, (f'skipping images whose stamp is not a time '
                          f'({self.counts.frames_bad_stamp} in all)'), figures
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


def annotate(frame: np.ndarray, faces: List[Face], chosen: Optional[Face]) -> np.ndarray:
    """Return a copy of ``frame`` with the faces drawn (the chosen one green) and its centre."""
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    for face in faces:
        colour = (0, 255, 0) if face is chosen else (0, 160, 255)
        cv2.rectangle(out, (int(face.x), int(face.y)),
                      (int(face.x + face.w), int(face.y + face.h)), colour, 2)
    h, w = out.shape[:2]
    cv2.drawMarker(out, (w // 2, h // 2), (255, 255, 255), cv2.MARKER_CROSS, 20, 1)
    return out
