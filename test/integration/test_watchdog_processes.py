# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The watchdog on real processes: frozen, bloated, ignoring SIGTERM, restarts, pids, zombies.

Its decisions alone (fake clock and kill) and the systemd units are in test/unit/test_watchdog.py.
"""

from datetime import datetime
import os
import signal
import subprocess
import sys
import time

from conftest import FakeClock, KillRecorder
import psutil
import pytest

from face_tracker_ros.monitor.watchdog import (
    ERROR,
    OK,
    Watchdog,
    WatchSpec,
)

STALE = 1.0
GRACE = 0.5
# A node stand-in: one line per 50 ms on stdout is its heartbeat and its output.
BEATER = """
import sys, time
while True:
    sys.stdout.write('beat\\n')
    sys.stdout.flush()
    time.sleep(0.05)
"""
STUBBORN = 'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n' + BEATER


class Child:
    """A real child process whose stdout lines are read without blocking."""

    def __init__(self, code):
        # -S: no site packages, so the interpreter starts fast and the ROS wheels'
        # bootstrapper does not re-execute it.
        self.proc = subprocess.Popen([sys.executable, '-S', '-c', code],
                                     stdout=subprocess.PIPE)
        self.pid = self.proc.pid
        os.set_blocking(self.proc.stdout.fileno(), False)

    def beats(self):
        """Return how many heartbeat lines arrived since the last call."""
        try:
            data = os.read(self.proc.stdout.fileno(), 65536)
        except (BlockingIOError, OSError):
            return 0
        return data.count(b'\n')

    def gone(self):
        """Reap the child if it ended; True when it has."""
        return self.proc.poll() is not None

    def wait_ready(self, timeout=10.0):
        """Wait for the first heartbeat line (the child's set-up code has run)."""
        deadline = time.monotonic() + timeout
        while not self.beats():
            assert time.monotonic() < deadline, 'the child never started'
            time.sleep(0.01)

    def freeze(self, timeout=10.0):
        """Stop the child with SIGSTOP and wait until the kernel shows it stopped."""
        os.kill(self.pid, signal.SIGSTOP)
        deadline = time.monotonic() + timeout
        while self.status() != psutil.STATUS_STOPPED:
            assert time.monotonic() < deadline, 'the child did not stop'
            time.sleep(0.005)

    def status(self):
        try:
            return psutil.Process(self.pid).status()
        except psutil.NoSuchProcess:
            return 'gone'


@pytest.fixture
def children():
    started = []

    def start(code=BEATER):
        child = Child(code)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.proc.poll() is None:
            child.proc.kill()
        child.proc.wait(timeout=10)
        child.proc.stdout.close()


def sample(dog, node, child):
    """Feed the watchdog a real psutil reading of the child, as the diagnostics node does."""
    try:
        proc = psutil.Process(child.pid)
        with proc.oneshot():
            zombie = proc.status() == psutil.STATUS_ZOMBIE
            rss = 0.0 if zombie else proc.memory_info().rss / 1048576.0
            created = proc.create_time()
    except psutil.NoSuchProcess:
        dog.process(node, None)
        return
    dog.process(node, child.pid, rss_mb=rss, zombie=zombie, create_time=created)


def drive(dog, node, child, until, timeout, feed=True, now=None):
    """Run the diagnostics loop (feed, sample, check) until ``until()`` or ``timeout``.

    Returns (actions, done).  With ``now`` (a fake clock) it is advanced by the real
    time that passes, so fake and real clocks move together.
    """
    actions = []
    deadline = time.monotonic() + timeout
    while True:
        beats = child.beats()
        if feed and beats:
            t = time.monotonic()
            dog.heartbeat(node, t)
            dog.output(node, t)
        sample(dog, node, child)
        actions += dog.check()
        if until():
            return actions, True
        if time.monotonic() >= deadline:
            return actions, False
        time.sleep(0.02)


def healthy(dog, node, child, timeout=10.0):
    _, done = drive(dog, node, child, lambda: dog.state(node) == 'ok', timeout)
    assert done, f'{node} never became ok: {dog.report(node)}'


# ------------------------------------------------------------------ real processes
def test_frozen_node_gets_sigterm_then_sigkill_and_is_gone_in_time(children):
    child = children()
    dog = Watchdog([WatchSpec('detector', 'face/target')], stale_timeout_s=STALE,
                   startup_grace_s=5.0, kill_grace_s=GRACE)
    healthy(dog, 'detector', child)
    assert dog.report('detector')[0] == OK

    child.freeze()  # frozen: a stopped process leaves SIGTERM pending
    frozen = time.monotonic()
    budget = STALE + GRACE + 1.0
    actions, done = drive(dog, 'detector', child, child.gone, budget + 2.0)
    assert done, 'the frozen child was never ended'
    assert time.monotonic() - frozen <= budget
    assert child.proc.returncode == -signal.SIGKILL
    assert [(a.what, a.pid, a.performed) for a in actions] == [
        ('SIGTERM', child.pid, True), ('SIGKILL', child.pid, True)]
    assert actions[0].why.startswith('hung (no status for')
    assert 'no output on face/target' in actions[0].why

    dog.check()
    events = dog.drain_events()
    text = '\n'.join(events)
    assert 'watchdog: detector hung (no status for' in text
    assert f'; SIGTERM to pid {child.pid}' in text
    assert f'SIGKILL to pid {child.pid}' in text
    assert f'detector pid {child.pid} ended' in text
    assert all(event.level in (OK, 1, ERROR) for event in events)
    assert dog.drain_events() == []

    level, message, figures = dog.report('detector')
    assert figures['state'] == 'not_running'
    assert figures['actions_total'] == 2
    assert figures['restarts_last_hour'] == 1
    assert figures['last_action'] == f'SIGKILL to pid {child.pid}'
    assert 'after SIGTERM' in figures['last_action_why']
    assert datetime.fromisoformat(figures['last_action_when']).tzinfo is not None
    assert 'waiting for the bring-up to restart it' in message


def test_child_ignoring_sigterm_gets_sigkill(children):
    child = children(STUBBORN)
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=5.0,
                   kill_grace_s=GRACE)
    healthy(dog, 'detector', child)
    # The child keeps running and printing, but nothing reaches the watchdog any more
    # (as when its executor is stuck while a thread still runs).
    actions, done = drive(dog, 'detector', child, child.gone, STALE + GRACE + 3.0, feed=False)
    assert done
    assert [a.what for a in actions] == ['SIGTERM', 'SIGKILL']
    assert child.proc.returncode == -signal.SIGKILL
    # SIGKILL waited for the grace period after SIGTERM.
    assert actions[1].t - actions[0].t >= GRACE


def test_bloated_process_is_terminated(children):
    child = children()
    dog = Watchdog(['camera'], stale_timeout_s=30.0, startup_grace_s=30.0,
                   kill_grace_s=5.0, rss_limit_mb=1.0)  # any Python process is above 1 MB
    actions, done = drive(dog, 'camera', child, child.gone, 5.0)
    assert done
    assert child.proc.returncode == -signal.SIGTERM  # it obeyed: no SIGKILL was needed
    assert [a.what for a in actions] == ['SIGTERM']
    assert actions[0].why.startswith('bloated (rss ')
    assert '> limit 1 MB' in actions[0].why
    assert any('camera bloated' in event for event in dog.drain_events())


def test_report_only_decides_but_never_signals(children):
    clock = FakeClock(1000.0)
    kill = KillRecorder()
    child = children()
    child.wait_ready()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=5.0,
                   kill_grace_s=GRACE, enabled=False, clock=clock, kill=kill)
    sample(dog, 'detector', child)
    dog.heartbeat('detector')
    dog.output('detector')
    assert dog.check() == [] and dog.state('detector') == 'ok'
    child.freeze()

    clock.now += STALE + 0.5
    sample(dog, 'detector', child)
    actions = dog.check()
    assert [(a.what, a.pid, a.performed) for a in actions] == [('SIGTERM', child.pid, False)]
    level, message, figures = dog.report('detector')
    assert (level, figures['state']) == (ERROR, 'hung')
    assert f'would send SIGTERM to pid {child.pid}' in message
    assert figures['enabled'] is False
    assert figures['last_action'] == f'would send SIGTERM to pid {child.pid} (report only)'
    for _ in range(5):  # long past any grace: still nothing sent
        clock.now += 5.0
        sample(dog, 'detector', child)
        assert dog.check() == []
    assert kill.calls == []
    assert child.status() == psutil.STATUS_STOPPED
    events = dog.drain_events()
    assert len(events) == 1
    assert events[0].startswith('watchdog (report only): detector hung')

    os.kill(child.pid, signal.SIGCONT)  # it recovers: the report says so
    clock.now += 0.1
    dog.heartbeat('detector')
    dog.output('detector')
    dog.check()
    assert dog.state('detector') == 'ok'
    assert dog.drain_events() == ['watchdog: detector healthy again (pid %d)' % child.pid]


def test_restart_budget_stops_after_n_then_frees_up_after_an_hour(children):
    clock = FakeClock(1000.0)
    dog = Watchdog(['servo'], stale_timeout_s=STALE, startup_grace_s=2.0, kill_grace_s=GRACE,
                   max_restarts_per_hour=2, clock=clock)

    def start_healthy():
        child = children()
        sample(dog, 'servo', child)
        dog.heartbeat('servo')
        dog.output('servo')
        dog.check()
        assert dog.state('servo') == 'ok'
        return child

    for _ in range(2):
        child = start_healthy()
        clock.now += STALE + 0.1
        assert [a.what for a in dog.check()] == ['SIGTERM']
        deadline = time.monotonic() + 10.0
        while not child.gone() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.proc.returncode == -signal.SIGTERM
        clock.now += 0.1
        dog.check()
        assert dog.state('servo') == 'not_running'
        dog.process('servo', child.pid, rss_mb=10.0)  # a late reading of the ended process
        dog.check()
        assert dog.state('servo') == 'not_running'
        assert not any('not signalled' in e for e in dog.drain_events())
        clock.now += 60.0

    child = start_healthy()
    clock.now += STALE + 0.1
    assert dog.check() == []
    level, message, figures = dog.report('servo')
    assert (level, figures['state']) == (ERROR, 'budget_exhausted')
    assert 'restart budget exhausted (2 terminations in the last hour, max 2)' in message
    assert figures['restarts_last_hour'] == 2
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)
    assert sum('budget exhausted' in e for e in dog.drain_events()) == 1

    clock.now += 3600.0  # the sliding hour moves on: the node can be ended again
    assert [a.what for a in dog.check()] == ['SIGTERM']


def test_new_pid_restarts_the_clocks_and_gets_its_grace(children):
    clock = FakeClock(1000.0)
    kill = KillRecorder()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=3.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill)
    first = children()
    sample(dog, 'detector', first)
    dog.heartbeat('detector')
    dog.output('detector')
    dog.check()
    first.proc.kill()
    first.proc.wait()

    clock.now += 0.5  # the bring-up restarted it: a new pid, no status from it yet
    second = children()
    sample(dog, 'detector', second)
    dog.check()
    figures = dog.report('detector')[2]
    assert figures['state'] == 'starting'
    assert figures['pid'] == second.pid
    assert figures['heartbeat_age_s'] == 'never'
    clock.now += 2.9  # older than stale_timeout_s, younger than startup_grace_s
    sample(dog, 'detector', second)
    dog.check()
    assert dog.state('detector') == 'starting'
    assert kill.calls == []
    clock.now += 0.2  # grace over, never a sign of life: hung
    sample(dog, 'detector', second)
    actions = dog.check()
    assert [(a.what, a.pid) for a in actions] == [('SIGTERM', second.pid)]
    assert 'since it started' in actions[0].why
    assert kill.calls == [(second.pid, signal.SIGTERM)]


def test_pid_that_is_not_the_watched_process_is_never_signalled(children):
    clock = FakeClock(1000.0)
    kill = KillRecorder()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=0.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill)
    # The pid now belongs to a process started after the one the watchdog saw (a
    # recycled pid): its start time differs, so it is left alone.
    child = children()
    created = psutil.Process(child.pid).create_time()
    dog.process('detector', child.pid, rss_mb=10.0, create_time=created - 100.0)
    dog.heartbeat('detector')
    clock.now += STALE + 0.5
    assert dog.check() == []
    level, message, figures = dog.report('detector')
    assert figures['state'] == 'not_running'
    assert f'pid {child.pid} is no longer the watched detector process' in message
    assert any('not signalled' in e for e in dog.drain_events())
    # A process that ended (the sample before said alive) is not signalled either.
    gone = children()
    created = psutil.Process(gone.pid).create_time()
    dog.process('detector', gone.pid, rss_mb=10.0, create_time=created)
    dog.heartbeat('detector')
    gone.proc.kill()
    gone.proc.wait()
    clock.now += STALE + 0.5
    assert dog.check() == []
    assert kill.calls == []
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)


def test_pid_recycled_during_termination_gets_no_sigkill(children):
    clock = FakeClock(1000.0)
    kill = KillRecorder()
    identity = {}
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=0.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill,
                   identify=lambda pid: identity.get(pid))
    child = children(STUBBORN)
    child.wait_ready()  # SIGTERM is ignored from now on
    identity[child.pid] = 500.0
    dog.process('detector', child.pid, rss_mb=10.0)
    dog.heartbeat('detector')
    clock.now += STALE + 0.5
    assert [a.what for a in dog.check()] == ['SIGTERM']
    identity[child.pid] = 900.0  # between two checks the pid came to name another process
    clock.now += GRACE + 0.1
    assert dog.check() == []
    assert kill.calls == [(child.pid, signal.SIGTERM)]
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)
    assert any('now names another process' in e for e in dog.drain_events())


def test_zombie_is_reported_never_signalled(children):
    kill = KillRecorder()
    dog = Watchdog(['servo'], stale_timeout_s=STALE, startup_grace_s=0.0, kill=kill)
    child = children('pass')  # exits at once; not reaped, so it stays a zombie
    deadline = time.monotonic() + 10.0
    while child.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert child.status() == psutil.STATUS_ZOMBIE
    sample(dog, 'servo', child)
    dog.check()
    level, message, figures = dog.report('servo')
    assert (level, figures['state']) == (ERROR, 'zombie')
    assert 'cannot be killed' in message and 'must reap it' in message
    assert kill.calls == []
