# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Run the tracker without ``ros2 launch``: the same nodes, the same config, with respawn.

For machines without a ROS 2 distribution (the ROS 2 client library wheels
from PyPI have no ``launch``).  Every node runs as its own process, exactly as
under ``tracker.launch.py``, started with ``--ros-args --params-file
config/tracker.yaml`` plus the overrides of :mod:`face_tracker_ros.bringup.plan`.
A node that exits is started again after ``--respawn-delay`` seconds, like
launch's ``respawn=True``; the one exception is a node that stopped on an
invalid parameter or configuration (exit status 2), which would only fail
again: then everything stops and the runner exits 2.  A node that keeps
failing within seconds of its start (:data:`CRASH_LOOP_STARTS` times in a row,
each within :data:`EARLY_EXIT_S`) is not restarted either: everything stops
and the runner exits 1, naming the node.

Every node gets a fresh run id for this run in ``FACE_TRACKER_RUN_ID`` (its
watchdog acts only on processes carrying it) and the runner's pid in
``FACE_TRACKER_PARENT_PID``; each asks to be stopped (SIGTERM) when the runner
dies, however it dies.

Ctrl-C (SIGINT), SIGTERM or SIGHUP (a closed terminal, an ssh session ending)
stops the nodes with SIGTERM (each node's orderly stop, as on Ctrl-C), again
after 5 s and SIGKILL after 10 s, and the runner exits 0.
"""

import argparse
import ctypes
import json
import logging
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional
import uuid

from face_tracker_ros.bringup.plan import BringupArgs, make_plan, NodeSpec, parse_node_log_levels
from face_tracker_ros.common.paths import default_params_file, share_dir
from face_tracker_ros.common.runner import EXIT_BAD_PARAMETER, EXIT_FATAL, STOP_SIGNALS
from face_tracker_ros.common.status import LOG_LEVEL_ALIASES, LOG_LEVEL_NAMES
from face_tracker_ros.interface import DEBUG_IMAGE_TOPIC, PARENT_PID_ENV, RUN_ID_ENV
from face_tracker_ros.servo.protocols import PROTOCOLS
from face_tracker_ros.sim.paths import PATHS

LOG = logging.getLogger('face_tracker_standalone')
#: A node that ends this soon after its start ...
EARLY_EXIT_S = 10.0
#: ... this many times in a row fails for a reason a restart does not fix: the runner stops.
CRASH_LOOP_STARTS = 5


def log_level(text: str) -> str:
    """Normalise a log level name to the one ``--ros-args --log-level`` takes."""
    level = text.strip().lower()
    level = LOG_LEVEL_ALIASES.get(level, level)
    if level not in LOG_LEVEL_NAMES:
        raise argparse.ArgumentTypeError(
            f"invalid log level '{text}' (choose from {', '.join(LOG_LEVEL_NAMES)}, "
            'warning, critical)')
    return level


def transport_env(enable_shm: bool = True, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Return ``env`` with the shipped Fast DDS profile applied (unless one is already set)."""
    env = dict(os.environ if env is None else env)
    profile = share_dir() / 'config' / 'fastdds.xml'
    if enable_shm and 'FASTDDS_DEFAULT_PROFILES_FILE' not in env and profile.is_file():
        env['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    return env


def node_command(spec: NodeSpec, params_file: str, log_level: str = 'info') -> List[str]:
    """Return the command line that runs one node from the package's modules."""
    cmd = [sys.executable, '-m', spec.module, '--ros-args', '-r', f'__node:={spec.name}',
           '--params-file', params_file]
    for name, value in spec.parameters.items():
        cmd += ['-p', f'{name}:={json.dumps(value)}']
    cmd += ['--log-level', spec.log_level or log_level]
    return cmd


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the child if the runner itself dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


class Supervisor:
    """Starts node processes, restarts the ones that exit, stops them all in order."""

    def __init__(self, specs: List[NodeSpec], params_file: str, log_level: str = 'info',
                 respawn_delay: float = 2.0, env: Optional[Dict[str, str]] = None,
                 stdout=None):
        """Prepare (but do not start) one process per node spec."""
        self.specs = specs
        self.params_file = params_file
        self.log_level = log_level
        self.respawn_delay = respawn_delay
        self.env = env
        self.stdout = stdout
        self.procs: Dict[str, subprocess.Popen] = {}
        self.restarts: Dict[str, int] = {s.name: 0 for s in specs}
        self._due: Dict[str, float] = {}
        self._started: Dict[str, float] = {}
        self._early_exits: Dict[str, int] = {s.name: 0 for s in specs}
        self.fatal_status: Optional[int] = None
        #: Marks every process of this run (see :data:`face_tracker_ros.interface.RUN_ID_ENV`).
        self.run_id = uuid.uuid4().hex

    def child_env(self) -> Dict[str, str]:
        """Return the environment of the node processes: the run id and this runner's pid."""
        env = dict(os.environ if self.env is None else self.env)
        env[RUN_ID_ENV] = self.run_id
        env[PARENT_PID_ENV] = str(os.getpid())
        return env

    def _spawn(self, spec: NodeSpec) -> None:
        cmd = node_command(spec, self.params_file, self.log_level)
        self.procs[spec.name] = subprocess.Popen(
            cmd, env=self.child_env(), stdout=self.stdout, stderr=subprocess.STDOUT
            if self.stdout is not None else None, start_new_session=True,
            preexec_fn=_die_with_parent)
        self._started[spec.name] = time.monotonic()
        LOG.info('started %s (pid %d)', spec.name, self.procs[spec.name].pid)

    def start(self) -> None:
        """Start every node."""
        for spec in self.specs:
            self._spawn(spec)

    def poll(self) -> None:
        """Restart nodes that exited (after the respawn delay); call this periodically."""
        now = time.monotonic()
        for spec in self.specs:
            proc = self.procs.get(spec.name)
            if proc is not None and proc.poll() is not None:
                status = proc.returncode
                del self.procs[spec.name]
                if status == EXIT_BAD_PARAMETER:
                    LOG.error('%s stopped on an invalid parameter or configuration (see its '
                              'log); not restarting it', spec.name)
                    self.fatal_status = EXIT_BAD_PARAMETER
                    continue
                lived = now - self._started.get(spec.name, now)
                early = self._early_exits[spec.name] + 1 if lived < EARLY_EXIT_S else 0
                self._early_exits[spec.name] = early
                if early >= CRASH_LOOP_STARTS:
                    LOG.error('%s exited with status %s within %.0f s of its start %d times in '
                              'a row; not restarting it (see its log)', spec.name, status,
                              EARLY_EXIT_S, early)
                    self.fatal_status = EXIT_FATAL
                    continue
                LOG.warning('%s exited with status %s; restarting in %.1f s', spec.name,
                            status, self.respawn_delay)
                self._due[spec.name] = now + self.respawn_delay
            if spec.name in self._due and now >= self._due[spec.name]:
                del self._due[spec.name]
                self.restarts[spec.name] += 1
                self._spawn(spec)

    def pids(self) -> Dict[str, int]:
        """Return the pid of every running node."""
        return {name: proc.pid for name, proc in self.procs.items() if proc.poll() is None}

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop every node: SIGTERM, again after ``grace_s``, then SIGKILL.

        SIGTERM goes to the nodes in reverse start order, each given up to a second
        to finish, so the servo node parks the head while its controller still
        listens.  A node's runner stops in order on SIGTERM exactly as on Ctrl-C;
        unlike SIGINT, it also ends a node still importing its modules (a node just
        respawned) without a KeyboardInterrupt traceback.  The second SIGTERM, more
        than a second after the first, makes a node that has not begun to stop stop
        at once.
        """
        self._due.clear()
        for spec in reversed(self.specs):
            proc = self.procs.get(spec.name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            alive = [p for p in self.procs.values() if p.poll() is None]
            if not alive:
                break
            for proc in alive if sig is not None else ():
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and any(p.poll() is None for p in alive):
                time.sleep(0.05)
        for name, proc in self.procs.items():
            if proc.returncode not in (0, None, -signal.SIGINT, -signal.SIGTERM):
                LOG.info('%s ended with status %s', name, proc.returncode)
        self.procs.clear()


def add_bringup_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags that mirror ``tracker.launch.py``'s arguments."""
    parser.add_argument('--use-sim', action='store_true',
                        help='simulated camera and servo controller (no hardware)')
    parser.add_argument('--camera-source', default='',
                        help="'sim', a V4L2 device (/dev/video0, /dev/v4l/by-id/...) or a "
                        'video file; default: as in the parameters file')
    parser.add_argument('--serial-port', default='', help='servo controller port')
    parser.add_argument('--protocol', default='', choices=('',) + PROTOCOLS,
                        help='servo controller protocol')
    parser.add_argument('--sim-path', default='',
                        help=f"simulated face motion: {', '.join(PATHS)}")
    parser.add_argument('--sim-port', default='', help='link path of the simulated port')
    parser.add_argument('--debug-image', action='store_true',
                        help=f'publish {DEBUG_IMAGE_TOPIC}')
    parser.add_argument('--params-file', default='',
                        help='parameters file (default: config/tracker.yaml)')
    parser.add_argument('--log-level', default='info', type=log_level,
                        help='log level of every node: debug, info, warn(ing), error, '
                        'fatal/critical')
    parser.add_argument('--node-log-levels', default='', type=_node_levels,
                        help='per-node log levels, e.g. camera=debug,servo=warn')
    parser.add_argument('--log-dir', default='',
                        help='directory of face_tracker.log (default: the ROS log directory)')
    parser.add_argument('--respawn-delay', default=2.0, type=float,
                        help='seconds before a node that exited is started again')
    parser.add_argument('--no-flight-recorder', action='store_true',
                        help='do not run the flight recorder')
    parser.add_argument('--no-shm', action='store_true',
                        help='do not apply the shipped Fast DDS shared-memory profile')


def _node_levels(text: str):
    try:
        levels = parse_node_log_levels(text)
        return {name: log_level(level) for name, level in levels.items()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def supervisor_from_args(args: argparse.Namespace, stdout=None) -> Supervisor:
    """Build a :class:`Supervisor` from parsed bring-up arguments."""
    plan = make_plan(BringupArgs(
        use_sim=args.use_sim, camera_source=args.camera_source,
        serial_port=args.serial_port, protocol=args.protocol, sim_path=args.sim_path,
        sim_port=args.sim_port, debug_image=args.debug_image, log_dir=args.log_dir,
        node_log_levels=args.node_log_levels,
        flight_recorder=not args.no_flight_recorder))
    params_file = args.params_file or str(default_params_file())
    if not Path(params_file).is_file():
        raise SystemExit(f'parameters file not found: {params_file}')
    return Supervisor(plan, params_file, log_level=args.log_level,
                      respawn_delay=args.respawn_delay,
                      env=transport_env(not args.no_shm), stdout=stdout)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tracker until Ctrl-C, SIGTERM or ``--duration`` seconds."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_bringup_arguments(parser)
    parser.add_argument('--duration', default=0.0, type=float,
                        help='stop after this many seconds (0: run until stopped)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='[%(name)s] %(levelname)s: %(message)s')
    supervisor = supervisor_from_args(args)
    stopping = []
    for sig in STOP_SIGNALS:  # SIGINT, SIGTERM and SIGHUP: the same orderly stop
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    supervisor.start()
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    try:
        while not stopping and supervisor.fatal_status is None:
            if deadline is not None and time.monotonic() >= deadline:
                break
            supervisor.poll()
            time.sleep(0.1)
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # one orderly stop, not interrupted by a second
        if stopping:
            LOG.info('%s received: stopping the nodes', signal.Signals(stopping[0]).name)
        supervisor.stop()
    return supervisor.fatal_status or 0


if __name__ == '__main__':
    sys.exit(main())
