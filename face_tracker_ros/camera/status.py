# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The camera's status report: level, one-line message and figures, from the capture's counters.

ROS-free; the node calls :meth:`CameraReport.report` for every diagnostics
update and publishes what it returns as the status ``camera: camera``.
"""

from typing import Any, Dict, Optional, Tuple

from face_tracker_ros.camera.capture import CaptureStats
from face_tracker_ros.camera.params import CameraConfig
from face_tracker_ros.common.status import ERROR, OK, WARN


class CameraReport:
    """Judges the capture's counters; remembers what it saw so it reports only new errors."""

    def __init__(self) -> None:
        """Start with no black frames and no errors seen."""
        self._black_seen = 0
        self._errors_seen = 0

    def report(self, st: CaptureStats, config: CameraConfig, *, now: float, fps: float,
               wanted: float, warming_up: bool, head: Dict[str, Any], tail: Dict[str, Any],
               transport_problem: Optional[str] = None) -> Tuple[int, str, Dict[str, Any]]:
        """Return ``(level, message, figures)`` of the capture stats ``st`` at wall time ``now``.

        ``fps`` is the measured rate, ``wanted`` the configured one (0: none);
        the figures are ``head`` (source, device), the capture's, then ``tail``.
        """
        age = None if st.last_frame_time is None else max(0.0, now - st.last_frame_time)
        figures = dict(head)
        figures.update({
            'state': st.state, 'fps': fps, 'fps_configured': wanted, 'frame_age_s': age,
            **st.counts.as_dict(),
            'recovering_s': None if st.recovering_since is None else
            max(0.0, now - st.recovering_since),
            'last_error': st.last_error,
        })
        figures.update(tail)
        black = st.counts.black_frames_total - self._black_seen
        self._black_seen = st.counts.black_frames_total
        errors = st.counts.read_errors_total - self._errors_seen
        self._errors_seen = st.counts.read_errors_total
        level, message = self._judge(st, config, age, fps, wanted, warming_up, errors, black,
                                     transport_problem)
        return level, message, figures

    @staticmethod
    def _judge(st, config, age, fps, wanted, warming_up, errors, black, transport_problem):
        if st.state == 'streaming':
            if age is not None and age > config.capture.frame_timeout_s:
                return ERROR, f'no frame for {age:.1f} s'
            if wanted > 0.0 and not warming_up:
                if fps < wanted * config.fps_error_ratio:
                    return ERROR, f'frame rate {fps:.1f} Hz of {wanted:.1f} Hz'
                if fps < wanted * config.fps_warn_ratio:
                    return WARN, f'slow: {fps:.1f} Hz of {wanted:.1f} Hz'
            if errors > 0:
                return WARN, (f'streaming {fps:.1f} Hz, {errors} read error(s) since the last '
                              f'report: {st.last_error or "failed reads"}')
            if black > 0:
                return WARN, (f'streaming {fps:.1f} Hz, {black} black frame(s) since the last '
                              'report (lens covered, no light?)')
            if transport_problem is not None:
                return WARN, f'streaming {fps:.1f} Hz, but {transport_problem}'
            return OK, f'streaming {fps:.1f} Hz'
        if st.state == 'starting':
            if warming_up:
                return OK, 'starting'
            return WARN, 'starting: no frame yet'
        if st.state == 'reconnecting':
            return ERROR, (f'reconnecting (attempt {st.counts.reinit_attempts}): '
                           f'{st.last_error or "read errors"}')
        if st.state == 'failed':
            return ERROR, f'failed: {st.failure_reason}'
        return WARN, st.state
