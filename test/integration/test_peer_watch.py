# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Who watches the watchdog; the simulated controller serves the park after its stop.

The flight recorder ends a hung diagnostics node.  The core (:class:`PeerWatch`) against
a real process with a fake clock; then the real diagnostics and flight recorder nodes under
the standalone runner: a short stop of the diagnostics node ends nothing, a long one ends it
and the runner restarts it; then the real simulated controller and servo nodes SIGTERMed
together: the park is served.
"""

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, wait_for
import psutil

from face_tracker_ros.bringup.plan import BringupArgs, make_plan
from face_tracker_ros.bringup.standalone import Supervisor, transport_env
from face_tracker_ros.interface import PARENT_PID_ENV, RUN_ID_ENV
from face_tracker_ros.monitor.peerwatch import PeerWatch
from face_tracker_ros.monitor.resources import RunScope
from face_tracker_ros.monitor.watchdog import ERROR, OK, WARN

CONFIG = str(ROOT / 'config' / 'tracker.yaml')
SLEEPER = 'import time; time.sleep(120)'


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in (RUN_ID_ENV, PARENT_PID_ENV)}
    env.update(extra)
    return env


def _sleeper(env):
    return subprocess.Popen([sys.executable, '-c', SLEEPER, '--ros-args', '-r',
                             '__node:=diagnostics'], env=env)


class _Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _status(pid, name='diagnostics: system', message='cpu 3%'):
    return name, message, [('pid', str(pid)), ('cpu_percent', '3.0')]


def test_peer_watch_ends_a_silent_diagnostics_process_and_only_that():
    ours = _sleeper(_env(**{RUN_ID_ENV: 'run-p'}))
    stranger = _sleeper(_env(**{RUN_ID_ENV: 'run-q'}))
    clock = _Clock()
    signals = []
    try:
        scope = RunScope(environ={RUN_ID_ENV: 'run-p'})
        assert wait_for(lambda: scope.owns(ours.pid), 10.0)
        peer = PeerWatch(stale_timeout_s=5.0, startup_grace_s=30.0, kill_grace_s=1.0,
                         max_restarts_per_hour=1, scope=scope, clock=clock,
                         kill=lambda pid, sig: signals.append((pid, sig)))
        assert not peer.status(*_status(stranger.pid))  # another tracker's diagnostics node
        assert not peer.status(*_status(ours.pid, message='Node starting up'))
        assert not peer.status(*_status(ours.pid, name='servo: servo'))
        for _ in range(5):
            assert peer.status(*_status(ours.pid))
            assert peer.check()[0] == []
            clock.t += 1.0
        assert peer.report()[0] == OK and peer.report()[2]['state'] == 'ok'
        # A short silence (below the timeout) ends nothing.
        clock.t += 2.0
        assert peer.check()[0] == [] and peer.status(*_status(ours.pid))
        # A stall of the watching process itself is unknown time, not silence.
        clock.t += 30.0
        actions, events = peer.check()
        assert actions == [] and any('peer watch: not run for' in e for e in events)
        assert peer.report()[0] == WARN and 'this peer watch did not run' in peer.report()[1]
        # Silence it watched: SIGTERM, then SIGKILL after the grace, each logged.
        for _ in range(6):
            clock.t += 1.0
            actions, events = peer.check()
            if actions:
                break
        assert [(a.what, a.pid) for a in actions] == [('SIGTERM', ours.pid)]
        assert any('peer watch: diagnostics hung (no status for' in e
                   and f'SIGTERM to pid {ours.pid}' in e for e in events)
        assert peer.report()[2]['state'] == 'terminating'
        clock.t += 1.5
        actions, events = peer.check()
        assert [a.what for a in actions] == ['SIGKILL']
        assert signals == [(ours.pid, signal.SIGTERM), (ours.pid, signal.SIGKILL)]
        assert stranger.pid not in [pid for pid, _ in signals]
        # Budget: one termination per hour; the next hang is ERROR and ends nothing.
        ours.kill()
        ours.wait()
        clock.t += 1.0
        peer.check()
        third = _sleeper(_env(**{RUN_ID_ENV: 'run-p'}))
        try:
            assert wait_for(lambda: scope.owns(third.pid), 10.0)
            for _ in range(40):  # past its start-up grace, never a status
                clock.t += 1.0
                actions, events = peer.check()
                assert actions == []
            assert peer.report()[0] == ERROR
            assert 'restart budget exhausted' in peer.report()[1]
            assert len(signals) == 2
        finally:
            third.kill()
            third.wait()
    finally:
        for proc in (ours, stranger):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _peer_plan(tmp_path):
    specs = [s for s in make_plan(BringupArgs(log_dir=str(tmp_path / 'logs')))
             if s.name in ('flight_recorder', 'diagnostics')]
    for spec in specs:
        if spec.name == 'flight_recorder':
            spec.parameters.update({'peer_watch.stale_timeout_s': 6.0,
                                    'peer_watch.startup_grace_s': 10.0,
                                    'peer_watch.kill_grace_s': 1.0})
        else:
            spec.parameters.update({'watched_nodes': ['flight_recorder'],
                                    'sample_period_s': 0.5})
    return specs


def test_a_hung_diagnostics_node_is_ended_and_restarted_a_short_stop_is_not(tmp_path, ros_node):
    """The real diagnostics node SIGSTOPped: 2 s (below the 6 s timeout), then for good."""
    from diagnostic_msgs.msg import DiagnosticArray
    seen = []  # (state, level, message) of the peer watch's status, in order

    def on_diagnostics(msg):
        for status in msg.status:
            if status.name == 'flight_recorder: peer watch diagnostics':
                values = {kv.key: kv.value for kv in status.values}
                seen.append((values.get('state'), status.level[0], status.message))
    ros_node('observer').create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics,
                                             50)
    out = tmp_path / 'nodes.log'
    log = open(out, 'w')
    sup = Supervisor(_peer_plan(tmp_path), CONFIG, respawn_delay=0.5, env=transport_env(True),
                     stdout=log)
    sup.start()

    def poll_for(predicate, timeout):
        def step():
            sup.poll()
            return predicate()
        return wait_for(step, timeout, interval=0.1, spin=ros_node.spin)

    first = sup.procs['diagnostics'].pid
    stopped = restarted = None
    try:
        # Healthy first: the peer watch has seen the diagnostics node's statuses.
        assert poll_for(lambda: seen and seen[-1][0] == 'ok', 40.0), (seen, out.read_text())
        os.kill(first, signal.SIGSTOP)
        time.sleep(2.0)
        os.kill(first, signal.SIGCONT)
        poll_for(lambda: False, 8.0)  # more than the timeout after the short stop
        assert sup.procs['diagnostics'].pid == first and sup.restarts['diagnostics'] == 0
        assert 'SIGTERM to pid' not in out.read_text()
        assert seen[-1][0] == 'ok'
        seen.clear()
        stopped = time.monotonic()
        os.kill(first, signal.SIGSTOP)  # now for good: only the peer watch can end it
        assert poll_for(lambda: sup.restarts['diagnostics'] == 1, 40.0), out.read_text()
        restarted = time.monotonic() - stopped
        second = sup.procs['diagnostics'].pid
        assert second != first and _gone(first)
        assert poll_for(lambda: _running(second) and seen and seen[-1][0] in ('starting', 'ok'),
                        20.0), seen
    finally:
        if not _gone(first):
            os.kill(first, signal.SIGKILL)
        sup.stop()
        log.close()
    text = out.read_text()
    assert 'peer watch: diagnostics hung (no status for' in text, text
    assert f'SIGTERM to pid {first}' in text
    assert f'SIGKILL to pid {first}' in text  # a stopped process needs it
    assert f'diagnostics pid {first} ended' in text
    assert 'Traceback' not in text, text[text.find('Traceback') - 300:][:3000]
    # Visible on /diagnostics while it happened.
    assert any(state == 'terminating' and level == WARN for state, level, _ in seen), seen
    print(f'diagnostics node stopped for good: restarted {restarted:.1f} s later')


def _running(pid):
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE,
                                                    psutil.STATUS_STOPPED)
    except psutil.NoSuchProcess:
        return False


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
