# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Shared test set-up: DDS isolation per test run, node processes, waiting helpers.

The layout: ``unit/`` (ROS-free, in this process: no node, no DDS, no child process, no
pseudo-terminal; ``make test-fast``), ``integration/`` (nodes over real DDS, processes,
pseudo-terminals, the closed loop, the fault suite), ``launch_tests/`` (the distribution lane
only) and the ament lint tests here at the top (``colcon test`` finds them).  Every folder's
tests import from this file: ``from conftest import ROOT, wait_for``.
"""

import os
from pathlib import Path
import select
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The launch tests need launch, launch_testing and the ros2 CLI and run against the package
# built with colcon: only the distribution lane (make test-distro) collects them.
if os.environ.get('FACE_TRACKER_LAUNCH_TESTS') != '1':
    collect_ignore = ['launch_tests']
SHARED_MODEL = ROOT.parent / 'shared' / 'models' / 'face_detection_yunet.onnx'

# Every test run gets its own DDS domain and stays on this host, so parallel runs
# (and anything else on the machine) never see each other's topics. Child
# processes inherit these variables.
if 'FACE_TRACKER_TEST_DOMAIN' in os.environ:
    os.environ['ROS_DOMAIN_ID'] = os.environ['FACE_TRACKER_TEST_DOMAIN']
else:
    os.environ['ROS_DOMAIN_ID'] = str(11 + os.getpid() % 89)
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config' / 'fastdds.xml'))
os.environ.setdefault('RCUTILS_COLORIZED_OUTPUT', '0')


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, spin=None):
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if spin is not None:
            spin(interval)
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        if spin is None:
            time.sleep(interval)


def wait_or_fail(predicate, what: str, timeout: float = 10.0, interval: float = 0.002) -> None:
    """Poll ``predicate`` until it is true; fail the test naming ``what`` after ``timeout``."""
    if not wait_for(predicate, timeout, interval):
        pytest.fail(f'timed out waiting for {what}')


@pytest.fixture
def small_disk(tmp_path):
    """Mount a 512 KiB tmpfs (needs root); skipped with the reason where it cannot be made."""
    where = tmp_path / 'disk'
    where.mkdir()
    done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f'cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}')
    yield where
    subprocess.run(['umount', '-l', str(where)], capture_output=True)


def fill_disk(directory):
    """Fill the file system of ``directory`` to the last byte; return the filler's path."""
    filler = directory / 'filler'
    with open(filler, 'wb', buffering=0) as handle:
        for size in (65536, 4096, 64, 1):
            try:
                while True:
                    handle.write(b'\0' * size)
            except OSError:
                pass
    return filler


class FakeController:
    """The far end of a pseudo-terminal: records what the servo node sends, answers like firmware.

    ASCII: ``PONG`` to ``PING`` and ``OK`` to every other line; ``binary``: "no error" to each
    Get Errors byte.  Set ``answer`` false to make it a controller that has gone quiet.
    """

    def __init__(self, master: int, protocol: str = 'ascii'):
        self.master = master
        self.protocol = protocol
        self.data = b''
        self.answer = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        pending = b''
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.data += chunk
            if not self.answer:
                continue
            if self.protocol == 'ascii':
                pending += chunk
                *lines, pending = pending.split(b'\n')
                replies = [b'PONG' if line.strip() == b'PING' else b'OK' for line in lines
                           if line.strip()]
                if replies:
                    os.write(self.master, b'\r\n'.join(replies) + b'\r\n')
            else:
                count = chunk.count(b'\xa1')  # Get Errors: answer "no error"
                if count:
                    os.write(self.master, b'\x00\x00' * count)

    def moves(self, since: int = 0):
        """Return the (pan_us, tilt_us) of the ASCII MOVEs received after byte ``since``."""
        return [(int(parts[1]), int(parts[2])) for parts in
                (line.split() for line in self.data[since:].decode(errors='replace')
                 .splitlines()) if len(parts) == 3 and parts[0] == 'MOVE']

    def stop(self):
        """Stop answering and reading."""
        self._stop.set()
        self._thread.join(timeout=2.0)


class FakeClock:
    """A clock that moves only when slept on or advanced by the test."""

    def __init__(self, start: float = 100.0) -> None:
        self.start = start
        self.now = start
        self.sleeps = []

    def __call__(self) -> float:
        """Return the fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move the clock on by it."""
        assert seconds > 0.0
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Move the clock on without sleeping (processing time)."""
        self.now += seconds

    def advance_to(self, elapsed: float) -> None:
        """Move the clock to ``elapsed`` seconds after its start."""
        self.now = self.start + elapsed


class KillRecorder:
    """A kill() that records the signals it is asked to send, and optionally sends them."""

    def __init__(self, real=True, error=None):
        self.calls = []
        self.real = real
        self.error = error
        self.dead = set()

    def __call__(self, pid, sig):
        self.calls.append((pid, sig))
        if self.error is not None:
            raise self.error
        if self.real:
            os.kill(pid, sig)
        else:
            self.dead.add(pid)  # a fake process that obeys any signal


class NodeProcess:
    """A node of the package running in its own process, its output kept in a file."""

    def __init__(self, module: str, name: str, params: dict, log_path: Path,
                 params_file: str = ''):
        """Start ``python -m module --ros-args ...``."""
        cmd = [sys.executable, '-m', module, '--ros-args', '-r', f'__node:={name}']
        if params_file:
            cmd += ['--params-file', params_file]
        for key, value in params.items():
            if isinstance(value, bool):
                text = 'true' if value else 'false'
            elif isinstance(value, str):
                text = '"' + value + '"'
            else:
                text = repr(value)
            cmd += ['-p', f'{key}:={text}']
        self.log_path = log_path
        self._log = open(log_path, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=str(ROOT))

    def output(self) -> str:
        """Return everything the process printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors='replace')

    def alive(self) -> bool:
        """Return True while the process runs."""
        return self.proc.poll() is None

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for the process to exit and return its status."""
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """Stop with SIGINT (like Ctrl-C), escalating to SIGKILL; return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def node_process(tmp_path):
    """Start package nodes in processes; stops them all at the end of the test."""
    started = []

    def start(module: str, name: str, params: dict = None, params_file: str = ''):
        proc = NodeProcess(module, name, params or {}, tmp_path / f'{name}.log', params_file)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def ros_node():
    """Make rclpy nodes in a private context of the test process; spin with ``spin(seconds)``."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context)
    nodes = []
    executor = SingleThreadedExecutor(context=context)

    def make(name: str, **kwargs):
        node = rclpy.create_node(name, context=context, **kwargs)
        nodes.append(node)
        executor.add_node(node)
        return node

    def spin(seconds: float):
        deadline = time.monotonic() + seconds
        while True:
            executor.spin_once(timeout_sec=max(0.0, min(0.02, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break

    make.spin = spin
    yield make
    for node in nodes:
        node.destroy_node()
    executor.shutdown()
    rclpy.shutdown(context=context)
