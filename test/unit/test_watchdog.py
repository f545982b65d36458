# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The watchdog on real processes (frozen, bloated, ignoring SIGTERM, zombie) and the units."""

import argparse
import ast
from datetime import datetime
import math
import os
from pathlib import Path
import shlex
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from face_tracker_ros.monitor.watchdog import (
    Action,
    default_specs,
    ERROR,
    OK,
    STATES,
    Watchdog,
    WatchSpec,
)

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / 'systemd'

# A node stand-in: one line per 50 ms on stdout is its heartbeat and its output.
BEATER = """
import sys, time
while True:
    sys.stdout.write('beat\\n')
    sys.stdout.flush()
    time.sleep(0.05)
"""
STUBBORN = 'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n' + BEATER
STALE = 1.0
GRACE = 0.5


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


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


class Recorder:
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
    clock = FakeClock()
    kill = Recorder()
    child = children()
    child.wait_ready()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=5.0,
                   kill_grace_s=GRACE, enabled=False, clock=clock, kill=kill)
    sample(dog, 'detector', child)
    dog.heartbeat('detector')
    dog.output('detector')
    assert dog.check() == [] and dog.state('detector') == 'ok'
    child.freeze()

    clock.t += STALE + 0.5
    sample(dog, 'detector', child)
    actions = dog.check()
    assert [(a.what, a.pid, a.performed) for a in actions] == [('SIGTERM', child.pid, False)]
    level, message, figures = dog.report('detector')
    assert (level, figures['state']) == (ERROR, 'hung')
    assert f'would send SIGTERM to pid {child.pid}' in message
    assert figures['enabled'] is False
    assert figures['last_action'] == f'would send SIGTERM to pid {child.pid} (report only)'
    for _ in range(5):  # long past any grace: still nothing sent
        clock.t += 5.0
        sample(dog, 'detector', child)
        assert dog.check() == []
    assert kill.calls == []
    assert child.status() == psutil.STATUS_STOPPED
    events = dog.drain_events()
    assert len(events) == 1
    assert events[0].startswith('watchdog (report only): detector hung')

    os.kill(child.pid, signal.SIGCONT)  # it recovers: the report says so
    clock.t += 0.1
    dog.heartbeat('detector')
    dog.output('detector')
    dog.check()
    assert dog.state('detector') == 'ok'
    assert dog.drain_events() == ['watchdog: detector healthy again (pid %d)' % child.pid]


def test_restart_budget_stops_after_n_then_frees_up_after_an_hour(children):
    clock = FakeClock()
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
        clock.t += STALE + 0.1
        assert [a.what for a in dog.check()] == ['SIGTERM']
        deadline = time.monotonic() + 10.0
        while not child.gone() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.proc.returncode == -signal.SIGTERM
        clock.t += 0.1
        dog.check()
        assert dog.state('servo') == 'not_running'
        dog.process('servo', child.pid, rss_mb=10.0)  # a late reading of the ended process
        dog.check()
        assert dog.state('servo') == 'not_running'
        assert not any('not signalled' in e for e in dog.drain_events())
        clock.t += 60.0

    child = start_healthy()
    clock.t += STALE + 0.1
    assert dog.check() == []
    level, message, figures = dog.report('servo')
    assert (level, figures['state']) == (ERROR, 'budget_exhausted')
    assert 'restart budget exhausted (2 terminations in the last hour, max 2)' in message
    assert figures['restarts_last_hour'] == 2
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)
    assert sum('budget exhausted' in e for e in dog.drain_events()) == 1

    clock.t += 3600.0  # the sliding hour moves on: the node can be ended again
    assert [a.what for a in dog.check()] == ['SIGTERM']


def test_new_pid_restarts_the_clocks_and_gets_its_grace(children):
    clock = FakeClock()
    kill = Recorder()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=3.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill)
    first = children()
    sample(dog, 'detector', first)
    dog.heartbeat('detector')
    dog.output('detector')
    dog.check()
    first.proc.kill()
    first.proc.wait()

    clock.t += 0.5  # the bring-up restarted it: a new pid, no status from it yet
    second = children()
    sample(dog, 'detector', second)
    dog.check()
    figures = dog.report('detector')[2]
    assert figures['state'] == 'starting'
    assert figures['pid'] == second.pid
    assert figures['heartbeat_age_s'] == 'never'
    clock.t += 2.9  # older than stale_timeout_s, younger than startup_grace_s
    sample(dog, 'detector', second)
    dog.check()
    assert dog.state('detector') == 'starting'
    assert kill.calls == []
    clock.t += 0.2  # grace over, never a sign of life: hung
    sample(dog, 'detector', second)
    actions = dog.check()
    assert [(a.what, a.pid) for a in actions] == [('SIGTERM', second.pid)]
    assert 'since it started' in actions[0].why
    assert kill.calls == [(second.pid, signal.SIGTERM)]


def test_pid_that_is_not_the_watched_process_is_never_signalled(children):
    clock = FakeClock()
    kill = Recorder()
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=0.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill)
    # The pid now belongs to a process started after the one the watchdog saw (a
    # recycled pid): its start time differs, so it is left alone.
    child = children()
    created = psutil.Process(child.pid).create_time()
    dog.process('detector', child.pid, rss_mb=10.0, create_time=created - 100.0)
    dog.heartbeat('detector')
    clock.t += STALE + 0.5
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
    clock.t += STALE + 0.5
    assert dog.check() == []
    assert kill.calls == []
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)


def test_pid_recycled_during_termination_gets_no_sigkill(children):
    clock = FakeClock()
    kill = Recorder()
    identity = {}
    dog = Watchdog(['detector'], stale_timeout_s=STALE, startup_grace_s=0.0,
                   kill_grace_s=GRACE, clock=clock, kill=kill,
                   identify=lambda pid: identity.get(pid))
    child = children(STUBBORN)
    child.wait_ready()  # SIGTERM is ignored from now on
    identity[child.pid] = 500.0
    dog.process('detector', child.pid, rss_mb=10.0)
    dog.heartbeat('detector')
    clock.t += STALE + 0.5
    assert [a.what for a in dog.check()] == ['SIGTERM']
    identity[child.pid] = 900.0  # between two checks the pid came to name another process
    clock.t += GRACE + 0.1
    assert dog.check() == []
    assert kill.calls == [(child.pid, signal.SIGTERM)]
    assert child.status() not in ('gone', psutil.STATUS_ZOMBIE)
    assert any('now names another process' in e for e in dog.drain_events())


def test_zombie_is_reported_never_signalled(children):
    kill = Recorder()
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


# ----------------------------------------------------------------- decisions alone
def fake_dog(specs, **kwargs):
    clock = FakeClock()
    kill = Recorder(real=False)
    kwargs.setdefault('stale_timeout_s', 2.0)
    kwargs.setdefault('startup_grace_s', 5.0)
    dog = Watchdog(specs, clock=clock, kill=kill, is_alive=lambda pid: pid not in kill.dead,
                   identify=lambda pid: 1.0, **kwargs)
    return dog, clock, kill


def test_silent_input_excuses_a_silent_output():
    dog, clock, kill = fake_dog(default_specs(['camera', 'detector']))
    dog.process('camera', 100)
    dog.process('detector', 200)
    for node in ('camera', 'detector'):
        dog.heartbeat(node)
        dog.output(node)
    dog.check()
    assert dog.state('detector') == 'ok'
    for _ in range(10):  # images stop (camera unplugged): the detector has nothing to do
        clock.t += 1.0
        dog.heartbeat('detector')
        dog.heartbeat('camera')
        dog.check()
    assert dog.state('detector') == 'ok'
    assert kill.calls == [(100, signal.SIGTERM)]  # the camera itself produced nothing

    dog.process('camera', 101)  # the camera came back; images flow again
    clock.t += 0.5
    for _ in range(3):
        dog.output('camera')
        dog.heartbeat('camera')
        dog.heartbeat('detector')
        dog.check()
        assert dog.state('detector') == 'ok'  # given stale_timeout_s from the input's return
        clock.t += 0.9
    dog.output('camera')
    dog.heartbeat('detector')
    dog.check()
    assert dog.state('detector') == 'terminating'
    assert kill.calls[-1] == (200, signal.SIGTERM)
    assert 'no output on face/target' in dog.report('detector')[1]


def test_start_up_grace_and_healthy_once():
    dog, clock, kill = fake_dog([WatchSpec('servo', 'joint_states')])
    dog.process('servo', 300)
    dog.check()
    assert dog.state('servo') == 'starting'
    clock.t += 4.75
    dog.check()
    assert dog.state('servo') == 'starting'  # silent, but within its start-up grace
    dog.heartbeat('servo')
    dog.output('servo')  # seen healthy: from now on stale_timeout_s applies
    clock.t += 0.25
    dog.check()
    assert dog.state('servo') == 'ok'
    clock.t += 1.75
    dog.output('servo')
    dog.check()
    assert dog.state('servo') == 'ok'
    clock.t += 0.5  # the heartbeat is now 2.25 s old
    dog.check()
    assert dog.state('servo') == 'terminating'
    assert 'no status for 2.' in dog.report('servo')[1]
    assert kill.calls == [(300, signal.SIGTERM)]


def test_node_never_seen_and_heartbeat_only_node():
    dog, clock, kill = fake_dog([WatchSpec('worker')])
    dog.check()
    assert dog.report('worker')[:2] == (OK, 'waiting for the process')
    clock.t += 10.0
    dog.check()
    assert dog.report('worker')[0] == 1 and dog.state('worker') == 'not_running'
    dog.process('worker', 400)
    dog.heartbeat('worker')
    dog.check()
    level, message, figures = dog.report('worker')
    assert (level, figures['state']) == (OK, 'ok')
    assert figures['output_age_s'] == 'not watched'
    assert set(figures) >= {'state', 'heartbeat_age_s', 'output_age_s', 'actions_total',
                            'last_action', 'last_action_why', 'last_action_when',
                            'restarts_last_hour'}


def test_refused_signal_is_reported_not_raised():
    clock = FakeClock()
    kill = Recorder(real=False, error=PermissionError(1, 'Operation not permitted'))
    dog = Watchdog(['servo'], stale_timeout_s=1.0, startup_grace_s=0.0, clock=clock,
                   kill=kill, is_alive=lambda pid: True, identify=lambda pid: 1.0)
    dog.process('servo', 500)
    dog.heartbeat('servo')
    dog.output('servo')
    clock.t += 2.0
    assert dog.check() == []
    level, message, _ = dog.report('servo')
    assert level == ERROR and 'SIGTERM to pid 500 failed (PermissionError' in message
    clock.t += 1.0
    dog.check()
    assert len([e for e in dog.drain_events() if 'failed' in e]) == 1
    assert dog.restarts_last_hour('servo') == 0


def test_bad_input_never_raises():
    dog, clock, kill = fake_dog(['camera'])
    assert dog.heartbeat('nope') is False
    assert dog.heartbeat(None) is False
    assert dog.heartbeat('camera', float('nan')) is False
    assert dog.heartbeat('camera', 'soon') is False
    assert dog.output('camera', math.inf) is False
    assert dog.process('nope', 1) is False
    assert dog.process('camera', 'abc') is False
    assert dog.process('camera', -5) is False
    assert dog.process('camera', 12.5) is False
    assert dog.process('camera', True) is False
    assert dog.process('camera', 42, rss_mb='lots', zombie=[]) is True
    assert dog.check(float('nan')) == []
    dog.check()
    assert dog.report('camera')[2]['rss_mb'] == 'unknown'
    broken = Watchdog(['camera'], clock=lambda: float('nan'),
                      identify=lambda pid: 1 / 0, is_alive=lambda pid: 1 / 0)
    assert broken.heartbeat('camera') is False
    assert broken.process('camera', 42) is True
    assert broken.check(5.0) == []


@pytest.mark.parametrize('kwargs, name', [
    ({'stale_timeout_s': 0.0}, 'stale_timeout_s'),
    ({'stale_timeout_s': float('nan')}, 'stale_timeout_s'),
    ({'startup_grace_s': -1.0}, 'startup_grace_s'),
    ({'kill_grace_s': 'five'}, 'kill_grace_s'),
    ({'rss_limit_mb': -600}, 'rss_limit_mb'),
    ({'max_restarts_per_hour': -1}, 'max_restarts_per_hour'),
    ({'max_restarts_per_hour': 2.5}, 'max_restarts_per_hour'),
    ({'enabled': 'yes'}, 'enabled'),
    ({'kill': None}, 'kill'),
    ({'nodes': 'camera'}, 'nodes'),
    ({'nodes': ['camera', 'camera']}, 'nodes'),
    ({'nodes': ['bad-name']}, 'nodes'),
    ({'nodes': [WatchSpec('detector', 'face/target', upstream='camera')]}, 'upstream'),
])
def test_invalid_parameters_name_themselves(kwargs, name):
    kwargs = dict(kwargs)
    nodes = kwargs.pop('nodes', ['camera'])
    with pytest.raises(ValueError, match=name):
        Watchdog(nodes, **kwargs)


def test_report_of_an_unwatched_node_is_an_error():
    with pytest.raises(ValueError, match='watched nodes'):
        Watchdog(['camera']).report('servo')


def test_default_specs_name_each_nodes_output():
    specs = {s.name: s for s in default_specs(['sim_servo', 'camera', 'detector', 'servo',
                                               'diagnostics'])}
    assert specs['camera'] == WatchSpec('camera', 'camera/camera_info')
    assert specs['detector'] == WatchSpec('detector', 'face/target', 'camera')
    assert specs['servo'] == WatchSpec('servo', 'joint_states')
    assert specs['sim_servo'] == WatchSpec('sim_servo', 'sim/joint_states')
    assert specs['diagnostics'] == WatchSpec('diagnostics')
    assert default_specs(['detector'])[0].upstream == ''  # no camera watched: no upstream
    assert set(STATES) == {'ok', 'starting', 'starved', 'hung', 'bloated', 'zombie', 'terminating',
                           'budget_exhausted', 'not_running'}
    when = Action('camera', 'SIGTERM', 1, 'why', 0.0, 0.0, True).when
    assert datetime.fromisoformat(when).timestamp() == 0.0


# ------------------------------------------------------------------------ systemd
def parse_unit(path):
    """Parse a systemd unit: {section: [(key, value), ...]} (keys may repeat)."""
    sections = {}
    current = None
    pending = ''
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ''
        if line.endswith('\\'):
            pending = line[:-1] + ' '
            continue
        if not line or line[0] in '#;':
            continue
        if line.startswith('['):
            current = sections.setdefault(line.strip('[]'), [])
            continue
        key, sep, value = line.partition('=')
        assert sep and current is not None, f'{path.name}: bad line {raw!r}'
        current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def environment(unit):
    env = {}
    for value in values(unit, 'Service', 'Environment'):
        for item in shlex.split(value):
            name, _, text = item.partition('=')
            env[name] = text
    return env


@pytest.mark.parametrize('name', ['face-tracker.service', 'face-tracker-standalone.service'])
def test_units_have_the_required_settings(name):
    text = (UNITS / name).read_text()
    assert text.startswith('# Copyright 2026 The face_tracker_ros authors\n'
                           '# SPDX-License-Identifier: Apache-2.0\n')
    unit = parse_unit(UNITS / name)
    assert 'network-online.target' in values(unit, 'Unit', 'After')[0].split()
    assert values(unit, 'Service', 'Restart') == ['always']
    assert values(unit, 'Service', 'KillSignal') == ['SIGINT']
    stop = float(values(unit, 'Service', 'TimeoutStopSec')[0])
    assert 15.0 <= stop <= 90.0  # more than launch's SIGINT -> SIGKILL escalation (10 s)
    user = values(unit, 'Service', 'User')
    assert user and user[0] not in ('root', '0')
    assert {'video', 'dialout'} <= set(values(unit, 'Service', 'SupplementaryGroups')[0].split())
    assert values(unit, 'Install', 'WantedBy') == ['multi-user.target']
    exec_start = values(unit, 'Service', 'ExecStart')
    assert len(exec_start) == 1 and exec_start[0].startswith('/')


def test_launch_unit_sources_ros_and_execs_the_launch():
    unit = parse_unit(UNITS / 'face-tracker.service')
    argv = shlex.split(values(unit, 'Service', 'ExecStart')[0])
    assert argv[:2] == ['/bin/bash', '-lc']
    script = argv[2]
    assert script.startswith('source /opt/ros/${ROS_DISTRO}/setup.bash && '
                             'source ${FACE_TRACKER_WS}/install/setup.bash && ')
    assert 'exec ros2 launch face_tracker_ros tracker.launch.py ${FACE_TRACKER_ARGS}' in script
    env = environment(unit)
    assert env['ROS_DISTRO'] and env['FACE_TRACKER_WS'].startswith('/')
    # Every launch argument in the unit is one tracker.launch.py declares.
    tree = ast.parse((ROOT / 'launch' / 'tracker.launch.py').read_text())
    declared = next(node.value for node in tree.body
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == 'ARGUMENTS')
    # Only the names are literals: a description may be an f-string of a shared name.
    names = {ast.literal_eval(item.elts[0]) for item in declared.elts}
    for arg in env['FACE_TRACKER_ARGS'].split():
        assert arg.partition(':=')[0] in names, arg


def test_standalone_unit_runs_the_venv_runner_and_stops_on_bad_parameters():
    from face_tracker_ros.bringup.standalone import add_bringup_arguments

    unit = parse_unit(UNITS / 'face-tracker-standalone.service')
    argv = shlex.split(values(unit, 'Service', 'ExecStart')[0])
    assert argv[0].endswith('/.venv/bin/face_tracker_standalone')
    assert argv[1:] == ['$FACE_TRACKER_ARGS']
    assert argv[0].startswith(values(unit, 'Service', 'WorkingDirectory')[0] + '/')
    assert '2' in values(unit, 'Service', 'RestartPreventExitStatus')[0].split()
    parser = argparse.ArgumentParser()
    add_bringup_arguments(parser)
    args = parser.parse_args(environment(unit)['FACE_TRACKER_ARGS'].split())
    assert args.camera_source and args.serial_port


@pytest.mark.skipif(shutil.which('systemd-analyze') is None,
                    reason='systemd-analyze is not installed on this machine')
def test_units_pass_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart's program exists: point the standalone unit at this
    # checkout's virtualenv (the shipped file names a placeholder checkout).
    runner = ROOT / '.venv' / 'bin' / 'face_tracker_standalone'
    if not runner.exists():
        pytest.skip(f'{runner} is not installed (run make setup)')
    for name in ('face-tracker.service', 'face-tracker-standalone.service'):
        text = (UNITS / name).read_text().replace('/home/tracker/face_tracker_ros', str(ROOT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(['systemd-analyze', 'verify',
                             *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '' and result.stderr.strip() == '', result.stderr
