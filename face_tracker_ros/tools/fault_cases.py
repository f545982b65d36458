# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The faults ``make faults`` runs (tools/fault_suite.py) and the table of their results.

Each case says what breaks, for how long, and which statuses should show it.
"""

from dataclasses import dataclass, field
import math
from typing import Dict, List

from face_tracker_ros.interface import (
    CAMERA_NODE,
    CAMERA_STATUS,
    DETECTOR_NODE,
    DIAGNOSTICS_NODE,
    FLIGHT_RECORDER_NODE,
    LOG_FILE_STATUS,
    peer_watch_task,
    process_task,
    SERVO_NODE,
    SERVO_STATUS,
    status_name,
    watchdog_task,
)


def _process(node: str) -> str:
    """Return the diagnostics node's status name for the process of ``node``."""
    return status_name(DIAGNOSTICS_NODE, process_task(node))


def _watchdog(node: str) -> str:
    """Return the diagnostics node's status name for the watchdog of ``node``."""
    return status_name(DIAGNOSTICS_NODE, watchdog_task(node))


@dataclass
class FaultCase:
    """One fault: what to break, for how long, and which statuses should show it."""

    name: str
    target: str            # 'camera' | 'serial' | 'process' | 'load' (parameters only)
    kind: str              # fault kind, or 'sigstop' / 'sigkill' for processes
    duration_s: float
    value: float = 0.0
    node: str = ''         # the node whose process is affected
    statuses: tuple = ()   # status names expected to leave OK
    params: Dict[str, object] = field(default_factory=dict)  # extra node parameters
    expect_survival: bool = True
    signal_node: str = ''  # the process signalled, when not ``node`` (which must survive)


def _camera_fault(name: str, kind: str, duration_s: float, value: float = 0.0) -> FaultCase:
    """Return a fault of the simulated camera, shown by the camera's status."""
    return FaultCase(name, 'camera', kind, duration_s, value=value, node=CAMERA_NODE,
                     statuses=(CAMERA_STATUS,))


def _serial_fault(name: str, kind: str, duration_s: float, value: float = 0.0) -> FaultCase:
    """Return a fault of the simulated controller's serial link, shown by the servo's status."""
    return FaultCase(name, 'serial', kind, duration_s, value=value, node=SERVO_NODE,
                     statuses=(SERVO_STATUS,))


CASES = (
    _camera_fault('camera_read_fail', 'read_fail', 3.0),
    _camera_fault('camera_frozen', 'frozen', 4.0),
    _camera_fault('camera_black', 'black', 3.0),
    _camera_fault('camera_slow', 'slow', 3.0, value=0.4),
    _camera_fault('camera_hang', 'hang', 4.0),
    _camera_fault('camera_disappear', 'disappear', 4.0),
    _serial_fault('serial_disconnect', 'disconnect', 3.0),
    _serial_fault('serial_garbage', 'garbage', 3.0, value=16),
    _serial_fault('serial_silent', 'silent', 3.0),
    _serial_fault('serial_slow', 'slow', 3.0, value=0.5),
    _serial_fault('serial_stall', 'stall', 3.0),
    FaultCase('detector_frozen', 'process', 'sigstop', 0.0, node=DETECTOR_NODE,
              statuses=(_watchdog(DETECTOR_NODE), _process(DETECTOR_NODE)),
              expect_survival=False),
    FaultCase('camera_leak', 'camera', 'leak', 20.0, value=40.0, node=CAMERA_NODE,
              statuses=(_process(CAMERA_NODE),),
              params={DIAGNOSTICS_NODE: {'rss_warn_mb': 300.0, 'rss_error_mb': 450.0}},
              expect_survival=False),
    FaultCase('detector_killed', 'process', 'sigkill', 0.0, node=DETECTOR_NODE,
              statuses=(_process(DETECTOR_NODE),), expect_survival=False),
    # The diagnostics node stopped (SIGSTOP) for four stale timeouts, then continued: the
    # time its watchdog did not run is unknown, not silence; the working servo survives.
    FaultCase('diagnostics_stalled', 'process', 'sigstop_cont', 12.0, node=SERVO_NODE,
              signal_node=DIAGNOSTICS_NODE, statuses=(_watchdog(SERVO_NODE),)),
    # A detector slower than the camera (full-frame searches at native size on every frame,
    # 40-150 ms against a frame every 33 ms) for the whole run: it must keep reporting, so the
    # watchdog leaves it alone, and the face stays tracked at the lower rate.
    FaultCase('detector_slower_than_camera', 'load', 'slow_detector', 20.0, node=DETECTOR_NODE,
              params={DETECTOR_NODE: {'detect_width': 0, 'roi_search': False}}),
    # A closed terminal or ssh session: the servo stops in order (parks) and is restarted.
    FaultCase('servo_sighup', 'process', 'sighup', 0.0, node=SERVO_NODE,
              statuses=(_process(SERVO_NODE), _watchdog(SERVO_NODE)),
              expect_survival=False),
    # Frames stamped an hour ahead for a second (a wrong clock, a hostile publisher): refused,
    # visibly, and tracking goes on at once (one such stamp used to stop it for good).
    FaultCase('future_stamp', 'camera', 'future_stamp', 1.0, value=3600.0, node=SERVO_NODE,
              statuses=(SERVO_STATUS,)),
    # The camera's stamps an hour behind for 3 s (its clock stepped back): refused as stale,
    # visibly; tracking resumes with the first frame stamped right.
    FaultCase('clock_step_back', 'camera', 'past_stamp', 3.0, value=3600.0, node=SERVO_NODE,
              statuses=(SERVO_STATUS,)),
    # The log directory on a small tmpfs, filled for 4 s: the log file is ERROR and holds its
    # lines back, writes them late when space returns; tracking is not affected.
    FaultCase('log_disk_full', 'disk', 'full', 4.0, node=DIAGNOSTICS_NODE,
              statuses=(LOG_FILE_STATUS,)),
    # The controller floods 'ERR MAESTRO 0x0001' lines, 3500 per second for 3 s.
    _serial_fault('serial_error_storm', 'error_storm', 3.0),
    # The detector starved of CPU for 10 s (tools/cpu_starve.py: pinned to one CPU beside two
    # busy processes, at the lowest priority): it waits for a CPU and misses its statuses,
    # but is working: the watchdog says WARN
    # 'starved of CPU' and does not end it (issue 14: a starved node used to be killed).
    FaultCase('detector_starved', 'process', 'starve', 10.0, node=DETECTOR_NODE,
              statuses=(_watchdog(DETECTOR_NODE),)),
    # The diagnostics node (the watchdog) stopped with SIGSTOP for good: the flight recorder's
    # peer watch ends it (SIGTERM, then SIGKILL) and the runner restarts it; tracking goes on.
    FaultCase('diagnostics_hung', 'process', 'sigstop', 0.0, node=DIAGNOSTICS_NODE,
              statuses=(status_name(FLIGHT_RECORDER_NODE, peer_watch_task(DIAGNOSTICS_NODE)),),
              params={FLIGHT_RECORDER_NODE: {'peer_watch.stale_timeout_s': 5.0,
                                             'peer_watch.startup_grace_s': 10.0}},
              expect_survival=False),
)


def to_markdown(results: List[dict]) -> str:
    """Render the results table (docs/benchmarks.md)."""
    lines = ['| fault | recovered | recovery_s | frames_lost | node_survived | ended_after_s '
             '| visible_in_diagnostics | log_has_traceback |',
             '|---|---|---|---|---|---|---|---|']
    for r in results:
        if 'error' in r and 'recovered' not in r:
            lines.append(f"| {r['fault']} | error: {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {r['fault']} | {_yes(r['recovered'])} | {_num(r['recovery_s'])} | "
            f"{r['frames_lost']} | {_yes(r['node_survived'])} | {_num(r['ended_after_s'])} | "
            f"{_yes(r['visible_in_diagnostics'])} | {_yes(r['log_has_traceback'])} |")
    return '\n'.join(lines) + '\n'


def _yes(value) -> str:
    return 'yes' if value else 'no'


def _num(value) -> str:
    return '' if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f'{value:.2f}'
