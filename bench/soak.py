# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Soak benchmark: whether any node's memory grows over a long run.

Runs the simulated node pipeline (:func:`bench.pipeline.run_pipeline`) for
``minutes`` with the camera at ``camera_fps`` (above 30 fps the camera, the
simulation and the trace topics do more work per hour than in real use, and
the detector runs flat out on the newest frame, so a leak per message shows
sooner), samples every node's memory once a second and fits a least-squares
line to each node's samples after ``warmup_s``.  Slopes are reported in MB
per hour of this run, with their standard errors: a short run cannot resolve
a slope much smaller than a few standard errors.

Two figures per node, both fitted the same way:

* RSS, what ``ps`` and ``top`` show;
* private memory (unique set size: the pages no other process maps), on
  which the target is judged.

They differ by pages a process shares.  Fast DDS's shared-memory transport
puts every sample in a segment of its writer (16 MiB each with this
project's profile, ``config/fastdds.xml``), which each reader maps; a page of
a peer's segment enters the reader's RSS the first time a sample lands on it,
so a reader's RSS climbs in steps as the writer's allocator reaches new parts
of its segment (a 900 KB step when a camera frame does) until the whole
segment has been read: a bound, not a leak, and memory the reader does not
own (it is the writer's segment, freed with it).  Library code run for the
first time adds pages the same way.  Measured with ``/proc/<pid>/smaps`` over
ten minutes at 60 fps, these made up most of the RSS growth of the detector
(+0.9 MB, all of it in the camera's segment), the diagnostics node and the
flight recorder.  Memory a node allocates and keeps is private, so a leak
shows there.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from bench.common import linear_fit, log, rounded, target

WARMUP_S = 180.0
SLOPE_TARGET_MB_H = 2.0
#: Per memory figure: its index in a sample ``(t, cpu %, RSS MB, private MB)``, the prefix
#: of its slope keys and of its first/last value keys.
FIGURES = ((2, '', 'rss_'), (3, 'private_', 'private_'))


def memory_slopes(samples: Dict[str, Sequence[Tuple[float, ...]]],
                  warmup_s: float = WARMUP_S) -> Dict[str, Dict[str, Optional[float]]]:
    """Fit RSS and private memory (MB) against time (s) per node after ``warmup_s``.

    ``samples`` maps node names to ``(t, cpu %, RSS MB, private MB)`` rows
    (private memory may be missing).  Returns slopes in MB/h with their
    standard errors and the first and last values: ``slope_mb_per_h``,
    ``rss_mb_first`` ... for RSS, ``private_slope_mb_per_h``,
    ``private_mb_first`` ... for private memory.  A figure with fewer than
    three samples after the warm-up is None.
    """
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for name, rows in samples.items():
        rows = [r for r in rows if r[0] >= warmup_s]
        entry: Dict[str, Optional[float]] = {'samples': len(rows)}
        for index, prefix, label in FIGURES:
            entry.update({f'{prefix}slope_mb_per_h': None, f'{prefix}slope_stderr_mb_per_h': None,
                          f'{label}mb_first': None, f'{label}mb_last': None})
            points = [(r[0], r[index]) for r in rows if len(r) > index]
            if len(points) >= 3 and points[-1][0] > points[0][0]:
                slope, _, stderr = linear_fit([t for t, _ in points], [v for _, v in points])
                entry.update({f'{prefix}slope_mb_per_h': rounded(slope * 3600.0, 3),
                              f'{prefix}slope_stderr_mb_per_h': rounded(stderr * 3600.0, 3),
                              f'{label}mb_first': rounded(points[0][1], 2),
                              f'{label}mb_last': rounded(points[-1][1], 2)})
        out[name] = entry
    return out


def memory_series(samples: Dict[str, Sequence[Tuple[float, ...]]],
                  every_s: float = 10.0) -> Dict[str, List[Tuple[float, ...]]]:
    """Return each node's ``(t, RSS MB, private MB)`` about every ``every_s`` seconds.

    To show the curves' shape (steps or a steady climb).
    """
    out: Dict[str, List[Tuple[float, ...]]] = {}
    for name, rows in samples.items():
        picked: List[Tuple[float, ...]] = []
        for row in rows:
            if not picked or row[0] - picked[-1][0] >= every_s:
                picked.append(tuple(round(v, 2) for v in (row[0],) + tuple(row[2:4])))
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
    slopes = memory_slopes(result['samples'], warmup_s)
    duration = float(result['duration_s'])
    targets: List[Dict[str, object]] = []
    for name, entry in slopes.items():
        targets.append(target(f'private memory slope of {name}',
                              entry['private_slope_mb_per_h'], '<=', SLOPE_TARGET_MB_H, 'MB/h'))
    section: Dict[str, object] = {
        'setup': {'minutes': minutes, 'camera_fps': camera_fps, 'warmup_s': warmup_s,
                  'sample_period_s': 1.0,
                  'fit': 'least squares of RSS and of private memory (USS) against time '
                         'after the warm-up; the target applies to private memory'},
        'duration_s': duration,
        'frames_published_per_s': rounded(result['frames_published'] / duration, 1),
        'frames_processed_per_s': rounded(result['frames_processed'] / duration, 1),
        'servo_commands': result['servo_commands'],
        'restarts': result['restarts'],
        'nodes': slopes,
        'memory_mb_every_10s': memory_series(result['samples']),
        'targets': targets,
    }
    section['met'] = bool(targets) and all(t['met'] for t in targets)
    return section
