# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The main job: run the tracker in closed-loop simulation and summarise how well it tracked.

Starts every node through the standalone runner (simulated camera and servo
controller), watches the topics from a small monitor node, prints a live
status line every second, and at the end writes ``demo-summary.json``:

* ``frames_published`` / ``frames_processed`` / ``detections`` /
  ``servo_commands``: counted on ``sim/true_target``, ``face/target`` (all,
  and those with a face) and ``servo/command_latency``;
* ``target_error_rms`` / ``target_error_max`` / ``target_error_p50``: the face's true
  distance from
  the image centre over the half-width (from the simulation), over the frames
  after the first ``--settle`` seconds in which the face is in view;
* ``latency_capture_to_command_ms_p50`` / ``_p99``: image capture to the
  serial write of the command it caused.

* ``diagnostics``: how long after start every expected ``/diagnostics``
  status (each node's own, the system, one per node process) had been seen
  with its figures, and the statuses that were ever not OK after that.

Exits 1 if the pipeline never produced a servo command.
"""

import argparse
import json
import logging
import math
import os
from pathlib import Path
import sys
import threading
import time
from typing import List, Optional

from face_tracker_ros.bringup.standalone import add_bringup_arguments, supervisor_from_args
from face_tracker_ros.common.params import defaults
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.common.stats import percentile
from face_tracker_ros.common.status import decode_level, level_label, OK, STARTING_MESSAGE
from face_tracker_ros.interface import (
    CAMERA_STATUS,
    COMMAND_LATENCY_TOPIC,
    DETECTOR_STATUS,
    DIAGNOSTICS_NODE,
    DIAGNOSTICS_TOPIC,
    process_task,
    SERVO_STATUS,
    SIM_TRUE_TARGET_TOPIC,
    status_name,
    SYSTEM_STATUS,
    TARGET_TOPIC,
)
from face_tracker_ros.monitor.params import PARAMS as MONITOR_PARAMS

SETTLE_S = 3.0

#: Statuses (and the figures each must carry) the demo expects on /diagnostics.
EXPECTED_STATUSES = {
    CAMERA_STATUS: ('pid', 'source', 'state', 'fps', 'frame_age_s', 'frames_total',
                    'read_errors_total', 'consecutive_errors', 'reinit_attempts'),
    DETECTOR_STATUS: ('pid', 'backend', 'processing_ms_mean', 'processing_ms_max',
                      'frames_received', 'frames_processed', 'processing_hz',
                      'detection_rate', 'faces_last_frame', 'input_age_s'),
    SERVO_STATUS: ('pid', 'port', 'protocol', 'connected', 'reconnects',
                   'write_errors_total', 'last_command_age_s', 'pan_rad', 'tilt_rad',
                   'saturated', 'state'),
    SYSTEM_STATUS: ('cpu_percent', 'load_1m', 'mem_used_percent', 'mem_available_mb',
                    'disk_free_mb'),
}
PROCESS_KEYS = ('pid', 'rss_mb', 'rss_growth_mb_per_h', 'anon_mb', 'anon_growth_mb_per_h',
                'cpu_percent', 'num_fds', 'num_threads', 'state', 'uptime_s', 'restarts')


class DemoStats:
    """Counts and samples gathered from the topics (ROS-free, thread-safe)."""

    def __init__(self, settle_s: float = SETTLE_S):
        """Start empty."""
        self.settle_s = settle_s
        self.lock = threading.Lock()
        self.frames_published = 0
        self.frames_processed = 0
        self.detections = 0
        self.servo_commands = 0
        self.first_stamp: Optional[float] = None
        self.errors: List[float] = []
        self.latencies_ms: List[float] = []
        self.last_error: Optional[float] = None
        self.started = time.monotonic()
        self.expected = dict(EXPECTED_STATUSES)
        self.status_first_seen = {}
        self.not_ok = {}
        self.frozen = False

    def freeze(self) -> None:
        """Stop counting frames, targets and commands (the nodes are being stopped).

        While the nodes stop, the servo node parks the head and the camera still
        publishes: those frames show the stop, not the tracking.
        """
        with self.lock:
            self.frozen = True

    def expect_processes(self, nodes: List[str]) -> None:
        """Also expect a process status for each of ``nodes``."""
        for node in nodes:
            self.expected[status_name(DIAGNOSTICS_NODE, process_task(node))] = PROCESS_KEYS

    def on_status(self, name: str, level: int, message: str, keys) -> None:
        """Record one diagnostic status."""
        with self.lock:
            now = time.monotonic() - self.started
            wanted = self.expected.get(name)
            if wanted is not None and name not in self.status_first_seen and level == OK \
                    and all(k in keys for k in wanted):
                self.status_first_seen[name] = round(now, 2)
            if level != OK and message != STARTING_MESSAGE:
                self.not_ok.setdefault(name, f'{level_label(level)}: {message} (at {now:.1f} s)')

    def on_truth(self, stamp: float, error: float) -> None:
        """Record one published frame and the face's true error in it (-1: not in view)."""
        with self.lock:
            if self.frozen:
                return
            self.frames_published += 1
            if self.first_stamp is None:
                self.first_stamp = stamp
            if error >= 0.0:
                self.last_error = error
                if stamp - self.first_stamp >= self.settle_s:
                    self.errors.append(error)

    def on_target(self, has_face: bool) -> None:
        """Record one processed frame."""
        with self.lock:
            if self.frozen:
                return
            self.frames_processed += 1
            self.detections += int(has_face)

    def on_command(self, latency_ms: float) -> None:
        """Record one servo command and its capture-to-command latency."""
        with self.lock:
            if self.frozen:
                return
            self.servo_commands += 1
            self.latencies_ms.append(latency_ms)

    def summary(self, duration_s: float) -> dict:
        """Return the summary dictionary written to ``demo-summary.json``."""
        with self.lock:
            errors = list(self.errors)
            rms = math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else None
            missing = sorted(set(self.expected) - set(self.status_first_seen))
            diagnostics = {
                'all_seen_ok_after_s': None if missing else max(self.status_first_seen.values()),
                'missing': missing,
                'not_ok': dict(sorted(self.not_ok.items())),
            }
            return {
                'duration_s': round(duration_s, 2),
                'frames_published': self.frames_published,
                'frames_processed': self.frames_processed,
                'detections': self.detections,
                'servo_commands': self.servo_commands,
                'target_error_rms': _round(rms, 4),
                'target_error_max': _round(max(errors) if errors else None, 4),
                'target_error_p50': _round(percentile(errors, 50), 4),
                'target_error_samples': len(errors),
                'latency_capture_to_command_ms_p50': _round(
                    percentile(self.latencies_ms, 50), 2),
                'latency_capture_to_command_ms_p99': _round(
                    percentile(self.latencies_ms, 99), 2),
                'diagnostics': diagnostics,
            }

    def status_line(self, elapsed: float) -> str:
        """Return a one-line live status."""
        with self.lock:
            lat = percentile(self.latencies_ms[-100:], 50)
            err = self.last_error
            return (f't={elapsed:5.1f}s frames {self.frames_published:5d} processed '
                    f'{self.frames_processed:5d} faces {self.detections:5d} commands '
                    f'{self.servo_commands:5d} error '
                    f'{"  -  " if err is None else f"{err:.3f}"} latency '
                    f'{"-" if lat is None else f"{lat:.0f} ms"}')


def _round(value: Optional[float], digits: int) -> Optional[float]:
    return None if value is None else round(value, digits)


def _stamp(header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def make_monitor(stats: DemoStats):
    """Create the rclpy node that feeds ``stats`` from the tracker's topics."""
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PointStamped
    from rclpy.node import Node
    from sensor_msgs.msg import TimeReference

    from face_tracker_ros.common.qos import TRACE_PUB

    reliable = TRACE_PUB  # late discovery still delivers the first messages
    node = Node('demo_monitor')

    def on_truth(msg):
        stats.on_truth(_stamp(msg.header), msg.point.z)

    def on_target(msg):
        stats.on_target(msg.point.z > 0.0)

    def on_command(msg):
        cmd = _stamp(msg.header)
        cap = msg.time_ref.sec + msg.time_ref.nanosec * 1e-9
        stats.on_command((cmd - cap) * 1000.0)

    node.create_subscription(PointStamped, SIM_TRUE_TARGET_TOPIC, on_truth, reliable)
    node.create_subscription(PointStamped, TARGET_TOPIC, on_target, reliable)
    node.create_subscription(TimeReference, COMMAND_LATENCY_TOPIC, on_command, reliable)

    def on_diagnostics(msg):
        for status in msg.status:
            stats.on_status(status.name, decode_level(status.level), status.message,
                            {kv.key for kv in status.values})

    node.create_subscription(DiagnosticArray, DIAGNOSTICS_TOPIC, on_diagnostics, 100)
    return node


def _watch(duration_s: float, supervisor, stats: DemoStats, started: float,
           interactive: bool) -> None:
    """Poll the nodes for ``duration_s`` (or until Ctrl-C), printing a status line each second."""
    next_line = started + 1.0
    try:
        while True:
            now = time.monotonic()
            if now - started >= duration_s or supervisor.fatal_status is not None:
                break
            supervisor.poll()
            if now >= next_line:
                line = stats.status_line(now - started)
                print(('\r' + line) if interactive else line, end='' if interactive else '\n',
                      flush=True)
                next_line += 1.0
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass


def main(argv: Optional[List[str]] = None) -> int:
    """Run the closed-loop demo for ``--duration`` seconds and write the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_bringup_arguments(parser)
    parser.add_argument('--duration', type=float, default=30.0, help='seconds to run')
    parser.add_argument('--output', default='demo-summary.json', help='summary file')
    parser.add_argument('--settle', type=float, default=SETTLE_S,
                        help='seconds excluded from the error figures at the start')
    parser.add_argument('--quiet-nodes', action='store_true',
                        help="send the nodes' own output to demo-nodes.log instead of the "
                        'terminal')
    args = parser.parse_args(argv)
    args.use_sim = True
    logging.basicConfig(level=logging.INFO, format='[%(name)s] %(levelname)s: %(message)s')
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    import rclpy

    from face_tracker_ros.common.process import make_executor, spin_in_thread

    node_log = open('demo-nodes.log', 'w') if args.quiet_nodes else None
    supervisor = supervisor_from_args(args, stdout=node_log)
    stats = DemoStats(settle_s=args.settle)
    stats.expect_processes([spec.name for spec in supervisor.specs
                            if spec.name != DIAGNOSTICS_NODE])
    rclpy.init(args=[])
    monitor = make_monitor(stats)
    executor = make_executor('auto')[0]  # the nodes' executor, the lightest on the CPU
    executor.add_node(monitor)
    stop_spinning = spin_in_thread(executor)
    supervisor.start()
    started = stats.started = time.monotonic()
    interactive = sys.stdout.isatty()
    try:
        _watch(args.duration, supervisor, stats, started, interactive)
    finally:
        elapsed = time.monotonic() - started
        if interactive:
            print()
        stats.freeze()
        supervisor.stop()
        stop_spinning()
        executor.shutdown()
        monitor.destroy_node()
        rclpy.try_shutdown()
        if node_log is not None:
            node_log.close()
    summary = stats.summary(elapsed)
    Path(args.output).write_text(json.dumps(summary, indent=2) + '\n')
    print(json.dumps(summary, indent=2))
    print(f'summary written to {Path(args.output).resolve()}')
    log_dir = Path(args.log_dir).expanduser() if args.log_dir else default_log_dir()
    print(f'log of the run: {log_dir / defaults(MONITOR_PARAMS)["log_file"]}')
    if supervisor.fatal_status is not None:
        return supervisor.fatal_status
    if summary['servo_commands'] == 0:
        print('error: the pipeline never produced a servo command', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
