# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What the launch tests share: the installed launch file, processes, the ros2 CLI, log checks.

The launch tests run in the distribution lane (``make test-distro``) against
the package built with colcon and sourced, never against the checkout.
"""

import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Dict, List, Optional

from ament_index_python.packages import get_package_share_directory
import psutil
import yaml

import face_tracker_ros

PACKAGE = 'face_tracker_ros'
#: Every node process the default simulated launch starts (diagnostic_aggregator is not
#: installed in the lane).
SIM_NODES = ('sim_servo', 'camera', 'detector', 'servo', 'flight_recorder', 'diagnostics')
TRACEBACK = 'Traceback (most recent call last)'
#: The watchdog's start-up grace in the tests' parameters file (30 s by default).
STARTUP_GRACE_S = 15.0


def launch_file() -> str:
    """Return the installed tracker.launch.py (after colcon build and sourcing)."""
    return os.path.join(get_package_share_directory(PACKAGE), 'launch', 'tracker.launch.py')


def assert_installed_package() -> None:
    """Fail unless face_tracker_ros is imported from a colcon install space."""
    where = os.path.dirname(face_tracker_ros.__file__)
    assert os.sep + 'install' + os.sep in where, (
        f'face_tracker_ros is imported from {where}, not from the colcon install space')


def fast_watchdog_params(directory: Path) -> str:
    """Return a copy of the installed parameters file with a quicker watchdog, for the tests."""
    source = Path(get_package_share_directory(PACKAGE)) / 'config' / 'tracker.yaml'
    params = yaml.safe_load(source.read_text())
    params['diagnostics']['ros__parameters'].update({
        'watchdog.startup_grace_s': STARTUP_GRACE_S, 'watchdog.stale_timeout_s': 5.0,
        'watchdog.kill_grace_s': 2.0})
    path = directory / 'tracker.yaml'
    path.write_text(yaml.safe_dump(params))
    return str(path)


def node_processes(root: psutil.Process, name: str) -> List[psutil.Process]:
    """Return the live descendants of ``root`` that run node ``name`` (``__node:=name``)."""
    found = []
    for proc in root.children(recursive=True):
        try:
            if f'__node:={name}' in proc.cmdline() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:  # exited meanwhile
            continue
    return found


def node_pid(root: psutil.Process, name: str) -> Optional[int]:
    """Return the pid of ``root``'s process of node ``name``, or None."""
    procs = node_processes(root, name)
    return procs[0].pid if procs else None


def wait_until(predicate, timeout: float, interval: float = 0.2):
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def ros2(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run the real ``ros2`` command line; return its result (output as text)."""
    return subprocess.run(['ros2', *args], capture_output=True, text=True, timeout=timeout)


def ros2_on_node(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``ros2 <args>`` against a node, again while the CLI does not see the node yet.

    The ros2 CLI finds nodes and their parameter services through discovery (and its
    daemon's cached graph): on a busy machine a node that has just started, or been
    respawned, can be "not found", or its services not seen within 5 s, for a while.
    """
    deadline = time.monotonic() + timeout
    while True:
        done = ros2(*args)
        text = done.stdout + done.stderr
        unseen = 'Node not found' in text or 'timed out waiting for' in text
        if not unseen or time.monotonic() > deadline:
            return done
        time.sleep(1.0)


def diagnostics_names(seconds: float) -> List[str]:
    """Run ``ros2 topic echo /diagnostics`` for ``seconds``; return the status names it printed."""
    proc = subprocess.Popen(
        ['ros2', 'topic', 'echo', '/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    # Each status of the array: "- level: ...", then "  name: '<node>: <task>'".
    return sorted({m.group(1) for m in re.finditer(r"^  name: '?(.*?)'?$", out, re.M)})


class Launch:
    """``ros2 launch face_tracker_ros tracker.launch.py ...`` as a user runs it.

    Its console output goes to a file.
    """

    def __init__(self, directory: Path, *arguments: str, name: str = 'launch',
                 ros_log_dir: Optional[Path] = None, env: Optional[Dict[str, str]] = None):
        """Start the launch with ``arguments`` (``name:=value``)."""
        self.log_path = directory / f'{name}.out'
        self._log = open(self.log_path, 'w')
        env = dict(os.environ if env is None else env,
                   ROS_LOG_DIR=str(ros_log_dir or directory / f'{name}-ros-log'))
        # start_new_session: a signal meant for the test never reaches the launch by accident.
        self.proc = subprocess.Popen(
            ['ros2', 'launch', PACKAGE, 'tracker.launch.py', *arguments],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.ps = psutil.Process(self.proc.pid)
        self._descendants: Dict[int, psutil.Process] = {}

    def output(self) -> str:
        """Return everything the launch printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors='replace')

    def wait_for_output(self, pattern: str, timeout: float) -> bool:
        """Wait until the output matches the regular expression ``pattern``."""
        return bool(wait_until(lambda: re.search(pattern, self.output(), re.M), timeout))

    def remember_descendants(self) -> List[psutil.Process]:
        """Note the launch's live descendants (they outlive it only if something is wrong)."""
        for proc in self.ps.children(recursive=True):
            self._descendants[proc.pid] = proc
        return list(self._descendants.values())

    def remembered_pids(self) -> set:
        """Return the pids of the remembered descendants."""
        return set(self._descendants)

    def survivors(self) -> List[str]:
        """Return the remembered descendants still running (same pid and start time)."""
        alive = []
        for proc in self._descendants.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(' '.join(proc.cmdline()[:4]))
            except psutil.Error:
                continue
        return alive

    def stop(self, sig=signal.SIGINT, timeout: float = 30.0) -> Optional[int]:
        """Send ``sig`` to the launch process and wait for it; return its exit status."""
        if self.proc.poll() is None:
            self.remember_descendants()
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self) -> None:
        """Kill whatever is left of this launch (only its own processes)."""
        if self.proc.poll() is None:
            self.remember_descendants()
            self.proc.kill()
            self.proc.wait()
        for proc in self._descendants.values():
            try:
                proc.kill()
            except psutil.Error:
                pass
        self._log.close()


def stub_package(prefix: Path, package: str, executable: str) -> Path:
    """Register ``package`` in an ament prefix with one executable that waits for a signal.

    A stand-in for a C++ package the lane cannot install (diagnostic_aggregator), to see
    that the launch file starts it where it is installed.
    """
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True, exist_ok=True)
    (index / package).write_text('')
    (prefix / 'share' / package).mkdir(parents=True, exist_ok=True)
    path = prefix / 'lib' / package / executable
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\necho "stand-in $0 running"\nexec sleep 600\n')
    path.chmod(0o755)
    return path


def tracebacks_in(directory: Path) -> List[str]:
    """Return the files under ``directory`` that contain a Python traceback."""
    return [str(path) for path in directory.rglob('*')
            if path.is_file() and path.suffix in ('.log', '.out', '')
            and TRACEBACK in path.read_text(errors='replace')]


def temp_dir(prefix: str) -> Path:
    """Return a fresh temporary directory (kept for inspection when a test fails)."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def have_ros2_cli() -> bool:
    """Return True where the ros2 command line is on PATH."""
    return shutil.which('ros2') is not None
