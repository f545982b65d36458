# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``make faults``: every fault against the closed-loop simulation, with measured recovery.

Each fault runs on a fresh simulated pipeline (the standalone runner: every
node its own process, restarted when it exits, as under launch).  After the
face has been tracked for a while, the fault is injected at run time through
``sim/inject_fault`` (camera and serial faults) or by signalling a node's
process (freeze with SIGSTOP, kill with SIGKILL); the suite then measures:

* ``recovered`` / ``recovery_s``: from the end of the fault (for a node that
  is ended and restarted: from its end) to the target being tracked again
  (face targets arriving and the face truly within ``TRACKED_ERROR`` of the
  centre for ``TRACKED_HOLD_S``);
* ``frames_lost``: camera frames missing between the fault's start and the
  recovery, at the configured 30 Hz;
* ``node_survived``: the faulted node's process is the same one afterwards
  (for freeze and leak faults the point is that it is *not*: the watchdog
  ends it and it is restarted; ``ended_after_s`` says how fast);
* ``visible_in_diagnostics``: a status of the faulted part was WARN or ERROR
  while the fault lasted, and which;
* ``log_has_traceback``: a traceback in ``face_tracker.log`` during the run.

Writes ``fault-results.json`` and ``fault-results.md`` (the table of docs/benchmarks.md).
The faults themselves are listed in ``face_tracker_ros.tools.fault_cases``.
"""

import argparse
from dataclasses import asdict
import json
import os
from pathlib import Path
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

from face_tracker_ros.bringup.plan import BringupArgs, make_plan
from face_tracker_ros.bringup.standalone import Supervisor, transport_env
from face_tracker_ros.common.params import defaults
from face_tracker_ros.common.paths import default_params_file
from face_tracker_ros.common.status import decode_level, level_label, WARN
from face_tracker_ros.interface import (
    DIAGNOSTICS_NODE,
    DIAGNOSTICS_TOPIC,
    SIM_INJECT_FAULT_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
    TARGET_TOPIC,
)
from face_tracker_ros.monitor.params import PARAMS as MONITOR_PARAMS
from face_tracker_ros.tools.cpu_starve import CpuStarvation
from face_tracker_ros.tools.fault_cases import CASES, FaultCase, to_markdown

TRACKED_ERROR = 0.15
TRACKED_HOLD_S = 0.5
WARMUP_S = 8.0
FPS = 30.0


#: Size of the tmpfs a ``disk`` fault mounts as the log directory (then fills).
SMALL_DISK = '4m'

#: Process signals of the ``process`` faults (``sigstop_cont``: SIGCONT after the duration).
PROCESS_SIGNALS = {'sigstop': signal.SIGSTOP, 'sigkill': signal.SIGKILL,
                   'sighup': signal.SIGHUP, 'sigstop_cont': signal.SIGSTOP}
#: A process fault its node survives is watched this long after it ends (a wrong kill shows).
SETTLE_S = 5.0
#: The log file's name (the diagnostics node's default).
LOG_NAME = defaults(MONITOR_PARAMS)['log_file']


class Observer:
    """Subscribes to what the suite measures; thread-safe lists of (time, value)."""

    def __init__(self):
        """Create the rclpy node and its subscriptions."""
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PointStamped
        from rclpy.node import Node
        from std_msgs.msg import String

        from face_tracker_ros.common.qos import TRACE_PUB

        self.lock = threading.Lock()
        self.truth: List[tuple] = []      # (t, error or -1)
        self.targets: List[tuple] = []    # (t, has_face)
        self.levels: List[tuple] = []     # (t, status name, level, message)
        self.pids: Dict[str, str] = {}
        self.node = Node('fault_suite')
        self.inject_pub = self.node.create_publisher(String, SIM_INJECT_FAULT_TOPIC, 10)
        self.node.create_subscription(PointStamped, SIM_TRUE_TARGET_TOPIC, self._on_truth,
                                      TRACE_PUB)
        self.node.create_subscription(PointStamped, TARGET_TOPIC, self._on_target, TRACE_PUB)
        self.node.create_subscription(DiagnosticArray, DIAGNOSTICS_TOPIC, self._on_diag, 100)

    def _on_truth(self, msg):
        with self.lock:
            self.truth.append((time.time(), msg.point.z))

    def _on_target(self, msg):
        with self.lock:
            self.targets.append((time.time(), msg.point.z > 0.0))

    def _on_diag(self, msg):
        now = time.time()
        with self.lock:
            for s in msg.status:
                self.levels.append((now, s.name, decode_level(s.level), s.message))

    def clear(self) -> None:
        """Forget everything received (a new run starts)."""
        with self.lock:
            self.truth.clear()
            self.targets.clear()
            self.levels.clear()

    def inject(self, target: str, kind: str, duration_s: float, value: float) -> None:
        """Ask the simulation to start a fault now."""
        from std_msgs.msg import String
        text = f'{target}:{kind}:{duration_s}' + (f':{value}' if value else '')
        self.inject_pub.publish(String(data=text))

    def tracked_since(self, t0: float) -> Optional[float]:
        """First time >= t0 from which the face stays tracked for TRACKED_HOLD_S."""
        with self.lock:
            truth = [(t, e) for t, e in self.truth if t >= t0]
            faces = [(t, f) for t, f in self.targets if t >= t0]
        start = None
        for t, error in truth:
            ok = 0.0 <= error <= TRACKED_ERROR and _face_near(faces, t)
            if ok and start is None:
                start = t
            elif not ok:
                start = None
            if start is not None and t - start >= TRACKED_HOLD_S:
                return start
        return None

    def frames_between(self, t0: float, t1: float) -> int:
        """Frames published between two times (counted on the truth topic)."""
        with self.lock:
            return sum(1 for t, _ in self.truth if t0 <= t <= t1)

    def not_ok_between(self, t0: float, t1: float, names) -> List[str]:
        """Statuses among ``names`` that were WARN or ERROR between two times."""
        with self.lock:
            return sorted({f'{n} ({level_label(lv)}: {m})' for t, n, lv, m in self.levels
                           if t0 <= t <= t1 and n in names and lv >= WARN})


def _face_near(faces, t: float, window: float = 0.5) -> bool:
    return any(f for tf, f in faces if abs(tf - t) <= window)


def _plan(case: FaultCase, workdir: Path, log_dir: Path) -> list:
    """Return the simulated pipeline's plan with the case's parameters and a quick watchdog."""
    plan = make_plan(BringupArgs(use_sim=True, sim_port=str(workdir / f'{case.name}.pty'),
                                 log_dir=str(log_dir)))
    for spec in plan:
        spec.parameters.update(case.params.get(spec.name, {}))
        if spec.name == DIAGNOSTICS_NODE:
            spec.parameters.update({'watchdog.stale_timeout_s': 3.0,
                                    'watchdog.startup_grace_s': 10.0,
                                    'sample_period_s': 0.5})
    return plan


def _tracked_before(supervisor: Supervisor, observer: Observer, limit_s: float = 30.0) -> bool:
    """Wait until the pipeline tracks the face; False if it does not within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while observer.tracked_since(time.time() - 2.0) is None:
        supervisor.poll()
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class _FaultRun:
    """One fault injected into a tracking pipeline, followed until tracking is back."""

    def __init__(self, case: FaultCase, supervisor: Supervisor, observer: Observer,
                 log_dir: Path):
        """Start the fault now."""
        self.case, self.supervisor, self.observer = case, supervisor, observer
        self.log_dir = log_dir
        self.pids_before = supervisor.pids()
        self.pid_before = self.pids_before.get(case.node)
        self.start = time.time()
        self.end = self.start + case.duration_s
        self.victim = None
        self.filler = None
        self.ended_at = None
        self.recovered_at = None
        self.settled = case.target == 'process' and case.expect_survival
        self.starved = None
        if case.target == 'process':
            self.victim = (supervisor.pids().get(case.signal_node) if case.signal_node
                           else self.pid_before)
            if case.kind == 'starve':
                self.starved = CpuStarvation(self.victim, case.duration_s + 10.0)
            else:
                os.kill(self.victim, PROCESS_SIGNALS[case.kind])
        elif case.target == 'disk':
            self.filler = _fill_disk(log_dir)
        elif case.target != 'load':  # a load is set by the parameters from the start
            observer.inject(case.target, case.kind, case.duration_s, case.value)

    def watch(self, timeout_s: float) -> None:
        """Follow the fault until tracking is back, at most ``timeout_s`` after its end."""
        limit = time.monotonic() + self.case.duration_s + timeout_s
        while time.monotonic() < limit:
            self.supervisor.poll()
            if self._step(time.time()):
                break
            time.sleep(0.1)
        if self.case.kind == 'sigstop_cont' and self.victim is not None:
            os.kill(self.victim, signal.SIGCONT)
        if self.starved is not None:
            self.starved.stop()

    def _step(self, now: float) -> bool:
        """Take one look at ``now``; return True once tracking is back (and that is final)."""
        case = self.case
        if self.ended_at is None and self.supervisor.pids().get(case.node) != self.pid_before:
            self.ended_at = now
        if now < self.end:
            return False
        if self.filler is not None:
            self.filler.unlink()
            self.filler = None
        if case.kind == 'sigstop_cont' and self.victim is not None:
            os.kill(self.victim, signal.SIGCONT)
            self.victim = None
        if self.starved is not None:
            self.starved.stop()
            self.starved = None
        self.recovered_at = self.observer.tracked_since(max(self.end, self._over()))
        return self.recovered_at is not None and (
            case.target != 'process' or self.ended_at is not None
            or (self.settled and now >= self.end + SETTLE_S))

    def _over(self) -> float:
        """Return when the fault is over for the tracker.

        A process that was ended (frozen, bloated, killed) recovers from its restart on:
        the fault is over once the old process is gone.
        """
        ended = self.ended_at if not self.case.expect_survival else None
        return max(self.end, ended) if ended else self.end

    def result(self) -> dict:
        """Return the measured figures of the run."""
        case, observer = self.case, self.observer
        pids_after = self.supervisor.pids()
        recovered = self.recovered_at is not None
        until = self.recovered_at if recovered else time.time()
        expected = int((until - self.start) * FPS)
        seen = observer.frames_between(self.start, until)
        visible = observer.not_ok_between(
            self.start, max(self.end + (SETTLE_S if self.settled else 0.0), until),
            case.statuses)
        log_file = self.log_dir / LOG_NAME
        text = log_file.read_text(errors='replace') if log_file.exists() else ''
        ended = self.ended_at if not case.expect_survival else None
        return {
            'recovered': recovered,
            'recovery_s': round(max(0.0, self.recovered_at - self._over()), 2)
            if recovered else None,
            'frames_lost': max(0, expected - seen),
            # With another process signalled, every node must have survived.
            'node_survived': pids_after.get(case.node) == self.pid_before and (
                not case.signal_node or pids_after == self.pids_before),
            'ended_after_s': round(ended - self.start, 2) if ended else None,
            'visible_in_diagnostics': bool(visible),
            'statuses_seen': visible[:4],
            'log_has_traceback': 'Traceback' in text,
        }


def run_case(case: FaultCase, executor, observer: Observer, workdir: Path,
             timeout_s: float = 40.0) -> dict:
    """Run one fault on a fresh pipeline and return its result entry."""
    log_dir = workdir / case.name
    result = {'fault': case.name, 'kind': case.kind, 'duration_s': case.duration_s}
    if case.target == 'disk':
        problem = _mount_small_disk(log_dir)
        if problem:
            return dict(result, error=problem)
    plan = _plan(case, workdir, log_dir)
    output = open(workdir / f'{case.name}.nodes.log', 'w')
    supervisor = Supervisor(plan, str(default_params_file()), respawn_delay=1.0,
                            env=transport_env(True), stdout=output)
    observer.clear()
    supervisor.start()
    try:
        if not _tracked_before(supervisor, observer):
            result['error'] = 'the pipeline never tracked before the fault'
            return result
        time.sleep(max(0.0, WARMUP_S - 5.0))
        run = _FaultRun(case, supervisor, observer, log_dir)
        run.watch(timeout_s)
        result.update(run.result())
        return result
    finally:
        supervisor.stop()
        output.close()
        if case.target == 'disk':
            subprocess.run(['umount', '-l', str(log_dir)], capture_output=True)


def _mount_small_disk(path: Path) -> str:
    """Mount a SMALL_DISK tmpfs at ``path``; return why it cannot be done ('' when done)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={SMALL_DISK}', 'tmpfs',
                           str(path)], capture_output=True, text=True)
    if done.returncode == 0:
        return ''
    return (f'skipped: cannot mount a {SMALL_DISK} tmpfs as the log directory (needs root): '
            f'{done.stderr.strip() or done.returncode}')


def _fill_disk(path: Path) -> Path:
    """Fill the file system of ``path`` with a file; return the file."""
    filler = path / 'filler'
    with open(filler, 'wb', buffering=0) as handle:
        for size in (1 << 20, 65536, 4096, 64, 1):
            try:
                while True:
                    handle.write(bytes(size))
            except OSError:
                pass
    return filler


def main(argv: Optional[List[str]] = None) -> int:
    """Run the selected faults and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--faults', default='', help='comma-separated names (default: all)')
    parser.add_argument('--output', default='fault-results.json')
    parser.add_argument('--markdown', default='fault-results.md')
    args = parser.parse_args(argv)
    names = [n for n in args.faults.split(',') if n]
    unknown = set(names) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(sorted(unknown))}; choose from "
                     + ', '.join(c.name for c in CASES))
    cases = [c for c in CASES if not names or c.name in names]
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    rclpy.init(args=[])
    observer = Observer()
    executor = SingleThreadedExecutor()
    executor.add_node(observer.node)
    threading.Thread(target=executor.spin, daemon=True).start()
    results = []
    with tempfile.TemporaryDirectory(prefix='face_tracker_faults_') as tmp:
        for case in cases:
            print(f'--- {case.name}', flush=True)
            result = run_case(case, executor, observer, Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    executor.shutdown()
    observer.node.destroy_node()
    rclpy.try_shutdown()
    document = {
        'machine': {'python': platform.python_version(), 'cpus': os.cpu_count(),
                    'platform': platform.platform()},
        'tracked_error': TRACKED_ERROR, 'tracked_hold_s': TRACKED_HOLD_S,
        'faults': results,
        'case_definitions': [asdict(c) for c in cases],
    }
    Path(args.output).write_text(json.dumps(document, indent=2) + '\n')
    Path(args.markdown).write_text(to_markdown(results))
    print(to_markdown(results))
    print(f'written {Path(args.output).resolve()} and {Path(args.markdown).resolve()}')
    # A row that cannot run here (a disk fault without root) says so and is not a failure.
    failed = [r['fault'] for r in results if not r.get('recovered')
              and not str(r.get('error', '')).startswith('skipped')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
