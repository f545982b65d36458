# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Soak benchmark: whether any node's memory grows over a long run.

Runs the simulated node pipeline (:func:`bench.pipeline.run_pipeline`) for
``minutes`` with the camera at ``camera_fps`` (above 30 fps the camera, the
simulation and the trace topics do more work per hour than in real use, and
the detector runs flat out on the newest frame, so a leak per message shows
sooner), samples every node's RSS once a second and fits a least-squares line
to each node's samples after ``warmup_s``.  The slope is reported in MB per
hour of this run, with its standard error: a short run cannot resolve a
slope much smaller than a few standard errors.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from bench.common import linear_fit, log, rounded, target

WARMUP_S = 180.0
SLOPE_TARGET_MB_H = 2.0


def rss_slopes(samples: Dict[str, Sequence[Tuple[float, float, float]]],
               warmup_s: float = WARMUP_S) -> Dict[str, Dict[str, Optional[float]]]:
    """Fit RSS (MB) against time (s) per node after ``warmup_s``; return slopes in MB/h.

    ``samples`` maps node names to ``(t, cpu %, rss MB)`` rows.  A node with
    fewer than three samples after the warm-up gets None figures.
    """
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for name, rows in samples.items():
        rows = [r for r in rows if r[0] >= warmup_s]
        entry: Dict[str, Optional[float]] = {'samples': len(rows), 'slope_mb_per_h': None,
                                             'slope_stderr_mb_per_h': None,
                                             'rss_mb_first': None, 'rss_mb_last': None}
        if len(rows) >= 3 and rows[-1][0] > rows[0][0]:
            slope, _, stderr = linear_fit([r[0] for r in rows], [r[2] for r in rows])
            entry.update(slope_mb_per_h=rounded(slope * 3600.0, 3),
                         slope_stderr_mb_per_h=rounded(stderr * 3600.0, 3),
                         rss_mb_first=rounded(rows[0][2], 2), rss_mb_last=rounded(rows[-1][2], 2))
        out[name] = entry
    return out


def rss_series(samples: Dict[str, Sequence[Tuple[float, float, float]]],
               every_s: float = 10.0) -> Dict[str, List[Tuple[float, float]]]:
    """Return each node's RSS (MB) about every ``every_s`` seconds, to show the curve's shape."""
    out: Dict[str, List[Tuple[float, float]]] = {}
    for name, rows in samples.items():
        picked: List[Tuple[float, float]] = []
        for t, _, rss in rows:
            if not picked or t - picked[-1][0] >= every_s:
                picked.append((round(t, 1), round(rss, 2)))
        out[name] = picked
    return out


def run(minutes: float, domain_id: int, sim_port: str = '', camera_fps: float = 60.0,
        warmup_s: float = WARMUP_S, log_path: Optional[str] = None) -> Dict[str, object]:
    """Run the pipeline for ``minutes`` and return the soak section with one target per node."""
    from bench.pipeline import run_pipeline

    if not minutes * 60.0 > warmup_s + 10.0:
        raise ValueError(f'minutes must leave at least 10 s after the {warmup_s:g} s warm-up, '
                         f'got {minutes!r}')
    log(f'soak: node pipeline for {minutes:g} min with the camera at {camera_fps:g} fps')
    result = run_pipeline(minutes * 60.0, domain_id, sim_port=sim_port, camera_fps=camera_fps,
                          log_path=log_path, progress_every=30.0)
    slopes = rss_slopes(result['samples'], warmup_s)
    duration = float(result['duration_s'])
    targets: List[Dict[str, object]] = []
    for name, entry in slopes.items():
        targets.append(target(f'RSS slope of {name}', entry['slope_mb_per_h'], '<=',
                              SLOPE_TARGET_MB_H, 'MB/h'))
    section: Dict[str, object] = {
        'setup': {'minutes': minutes, 'camera_fps': camera_fps, 'warmup_s': warmup_s,
                  'sample_period_s': 1.0,
                  'fit': 'least squares of RSS against time after the warm-up'},
        'duration_s': duration,
        'frames_published_per_s': rounded(result['frames_published'] / duration, 1),
        'frames_processed_per_s': rounded(result['frames_processed'] / duration, 1),
        'servo_commands': result['servo_commands'],
        'restarts': result['restarts'],
        'nodes': slopes,
        'rss_mb_every_10s': rss_series(result['samples']),
        'targets': targets,
    }
    section['met'] = bool(targets) and all(t['met'] for t in targets)
    return section
