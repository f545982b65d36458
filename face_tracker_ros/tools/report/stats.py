# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The summary's figures: target error, latency percentiles, frame rates, status levels."""

import math
from typing import List, Optional, Sequence

import numpy as np

from face_tracker_ros.common.stats import percentile
from face_tracker_ros.common.status import ERROR, level_label, STALE
from face_tracker_ros.tools.report.data import BagData

#: At most this long does a status sample colour the timeline (then: no status received).
STATUS_HOLD_S = 5.0


def rms(values: Sequence[float]) -> Optional[float]:
    """Return the root mean square of the finite values, or None without any."""
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if finite.size == 0:
        return None
    return float(np.sqrt(np.mean(finite ** 2)))


def statistics(data: BagData) -> dict:
    """Return the figures of the summary (None where the bag has no data for one)."""
    z = data.target['z']
    faces = [i for i, v in enumerate(z) if v > 0]
    offsets = [math.hypot(data.target['x'][i], data.target['y'][i]) for i in faces]
    in_view = [v for v in data.truth['z'] if v >= 0]
    ms = data.latency['ms']
    return {
        'frames': len(z),
        'frames_with_face': len(faces),
        'detector_offset_rms': rms(offsets),
        'truth_frames': len(data.truth['z']),
        'truth_in_view': len(in_view),
        'truth_error_rms': rms(in_view),
        'truth_error_max': max(in_view) if in_view else None,
        'latency_n': len(ms),
        'latency_p50_ms': percentile(ms, 50),
        'latency_p99_ms': percentile(ms, 99),
        'latency_max_ms': max(ms) if ms else None,
        'fps_mean': _mean(data.fps['fps']),
        'fps_min': min((v for v in data.fps['fps'] if math.isfinite(v)), default=None),
    }


def _mean(values: Sequence[float]) -> Optional[float]:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def status_hold(times: Sequence[float]) -> float:
    """Return how long one status sample colours its row: 2.5 periods, 1.5 to 5 s."""
    if len(times) < 3:
        return STATUS_HOLD_S
    return max(1.5, min(STATUS_HOLD_S, 2.5 * float(np.median(np.diff(times)))))


def _severity(level: int) -> float:
    """Return how bad a level is for ordering: STALE between WARN and ERROR."""
    return 1.5 if level == STALE else level


def status_summary(data: BagData) -> List[dict]:
    """Return per status: worst level, when first reached, its message and time at ERROR."""
    rows = []
    end = data.duration_s
    for name, samples in sorted(data.statuses.items()):
        worst = max(samples, key=lambda s: (_severity(s.level), -s.t))
        error_s = 0.0
        hold = status_hold([s.t for s in samples])
        for i, s in enumerate(samples):
            if s.level != ERROR:
                continue
            nxt = samples[i + 1].t if i + 1 < len(samples) else end
            error_s += max(0.0, min(nxt - s.t, hold))
        rows.append({'name': name, 'worst': worst.level, 'worst_name':
                     level_label(worst.level), 't': worst.t,
                     'message': worst.message, 'samples': len(samples),
                     'error_s': error_s,
                     'last': level_label(samples[-1].level)})
    rows.sort(key=lambda r: (-_severity(r['worst']), r['name']))
    return rows
