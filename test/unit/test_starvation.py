# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A node starved of CPU is not hung (issue 14, findings 2 and 10): the watchdog leaves it.

The decisions with injected CPU readings (starved, starved past the cap, a busy loop,
blocked, no schedstat, the watchdog's own stall).  The real processes are in
test/integration/test_starvation_processes.py.
"""

import os
import signal

import pytest

from face_tracker_ros.common.status import OK, WARN
from face_tracker_ros.monitor.readings import CpuReading
from face_tracker_ros.monitor.starvation import (
    BLOCKED,
    BUSY,
    classify,
    STARVED,
    STARVED_TIMEOUT_FACTOR,
)
from face_tracker_ros.monitor.watchdog import Watchdog, WatchSpec

STALE = 10.0
NODE = 'flight_recorder'
PID = 4242
SCHEDSTAT = os.path.exists('/proc/self/schedstat') and os.path.isdir('/proc/self/task')


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class FakeCpu:
    """A ``read_cpu`` whose counters the test moves: CPU time, two threads' waits, state."""

    def __init__(self):
        self.ran = 5.0
        self.waits = {PID: 1.0, PID + 1: 0.5}
        self.state = 'S'
        self.readable = True

    def step(self, ran, waited, state):
        """One second passes: the process ran ``ran`` s, its main thread waited ``waited`` s."""
        self.ran += ran
        self.waits[PID] += waited
        self.waits[PID + 1] += waited / 10.0
        self.state = state

    def __call__(self, pid):
        if not self.readable or pid != PID:
            return None
        return CpuReading(self.ran, dict(self.waits), self.state)


def make_dog(cpu=None, **kwargs):
    clock = Clock()
    signals = []
    dog = Watchdog([WatchSpec(NODE)], stale_timeout_s=STALE, startup_grace_s=5.0,
                   kill_grace_s=3.0, clock=clock, kill=lambda pid, sig: signals.append(sig),
                   is_alive=lambda pid: True, identify=lambda pid: 1.0,
                   read_cpu=cpu if cpu is not None else FakeCpu(), **kwargs)
    dog.process(NODE, PID)
    for _ in range(3):  # healthy: a status a second
        dog.heartbeat(NODE)
        dog.check()
        clock.t += 1.0
    assert dog.state(NODE) == 'ok'
    dog.drain_events()
    return dog, clock, signals


def silent_for(dog, clock, cpu, seconds, ran, waited, state='R'):
    """Let ``seconds`` pass without a status, one check a second; return the events."""
    events = []
    for _ in range(int(seconds)):
        clock.t += 1.0
        cpu.step(ran, waited, state)
        dog.check()
        events += dog.drain_events()
    return events


def test_starved_node_is_warned_about_not_ended_and_healthy_again_after():
    cpu = FakeCpu()
    dog, clock, signals = make_dog(cpu)
    events = silent_for(dog, clock, cpu, 30, ran=0.02, waited=0.9)
    assert signals == []
    level, message, figures = dog.report(NODE)
    assert (level, figures['state']) == (WARN, 'starved')
    assert 'starved of CPU: waited 9.0 s for a CPU in the last 10.0 s (ran 0.2 s)' in message
    assert 'no status for 3' in message and 'not ended unless silent for 60 s' in message
    assert figures['starved_timeout_s'] == STARVED_TIMEOUT_FACTOR * STALE
    starved = [e for e in events if 'starved of CPU' in e]
    assert len(starved) == 1 and starved[0].level == WARN  # said once per episode
    assert starved[0].startswith(f'watchdog: {NODE} starved of CPU: waited')
    dog.heartbeat(NODE)  # it gets a CPU again and reports
    clock.t += 1.0
    dog.check()
    assert dog.report(NODE)[0] == OK and dog.state(NODE) == 'ok'
    assert any('healthy again' in e and e.level == OK for e in dog.drain_events())


def test_starved_past_the_cap_is_ended():
    cpu = FakeCpu()
    dog, clock, signals = make_dog(cpu)
    cap = STARVED_TIMEOUT_FACTOR * STALE
    silent_for(dog, clock, cpu, cap - 2, ran=0.02, waited=0.9)
    assert signals == [] and dog.state(NODE) == 'starved'
    silent_for(dog, clock, cpu, 3, ran=0.02, waited=0.9)
    assert signals == [signal.SIGTERM]
    why = dog.report(NODE)[2]['last_action_why']
    assert why.startswith('hung (no status for 6') and 'starved of CPU: waited' in why
    assert f'silent past the {cap:g} s a starved node is given' in why


@pytest.mark.parametrize('ran, waited', [(1.0, 0.0), (0.3, 0.7)])
def test_busy_loop_is_ended_when_it_would_be_today(ran, waited):
    # A busy loop alone on a core, and one sharing a loaded core: it got plenty of CPU.
    cpu = FakeCpu()
    dog, clock, signals = make_dog(cpu)
    silent_for(dog, clock, cpu, STALE - 1, ran=ran, waited=waited)
    assert signals == []
    silent_for(dog, clock, cpu, 1, ran=ran, waited=waited)
    assert signals == [signal.SIGTERM]
    why = dog.report(NODE)[2]['last_action_why']
    assert why.startswith('hung (no status for 11.0 s; ran ') and 'busy, not starved' in why


@pytest.mark.parametrize('state, words', [('S', 'sleeping'), ('D', 'disk sleep'),
                                          ('T', 'stopped')])
def test_blocked_node_is_ended_when_it_would_be_today(state, words):
    cpu = FakeCpu()
    dog, clock, signals = make_dog(cpu)
    silent_for(dog, clock, cpu, STALE - 1, ran=0.0, waited=0.01, state=state)
    assert signals == []
    silent_for(dog, clock, cpu, 1, ran=0.001, waited=0.0, state=state)
    assert signals == [signal.SIGTERM]
    why = dog.report(NODE)[2]['last_action_why']
    assert 'blocked, not starved' in why and f'(state {words})' in why


def test_without_schedstat_a_silent_node_is_hung_as_before_and_it_is_said_once():
    cpu = FakeCpu()
    cpu.readable = False
    dog, clock, signals = make_dog(cpu)
    events = silent_for(dog, clock, cpu, STALE + 1, ran=0.0, waited=0.9)
    assert signals == [signal.SIGTERM]  # starved or not, as before: it cannot be told
    unreadable = [e for e in events if 'unreadable' in e]
    assert len(unreadable) == 1 and 'schedstat' in unreadable[0]
    assert dog.report(NODE)[2]['last_action_why'] == 'hung (no status for 11.0 s)'
    # Without a reader (the default) nothing is read and nothing is said.
    plain = Watchdog([WatchSpec(NODE)], stale_timeout_s=STALE, clock=Clock(),
                     kill=lambda pid, sig: None, is_alive=lambda pid: True,
                     identify=lambda pid: 1.0)
    assert plain.starved_timeout_s == STARVED_TIMEOUT_FACTOR * STALE
    with pytest.raises(ValueError, match='read_cpu'):
        Watchdog([WatchSpec(NODE)], read_cpu=42)


def test_the_watchdogs_own_stall_postpones_both_judgements_alike():
    # The watchdog and the node starved together: the watchdog does not run for 30 s.
    cpu = FakeCpu()
    dog, clock, signals = make_dog(cpu, stall_gap_s=3.0)
    silent_for(dog, clock, cpu, 12, ran=0.02, waited=0.9)
    assert dog.state(NODE) == 'starved'
    clock.t += 30.0
    for _ in range(30):
        cpu.step(0.02, 0.9, 'R')
    dog.check()
    assert any('not run for 30.0 s' in e for e in dog.drain_events())
    assert signals == []
    # Every node gets stale_timeout_s of watched silence, then the starvation verdict again;
    # still silent, it was never 'healthy again' meanwhile and is not said starved twice.
    events = silent_for(dog, clock, cpu, STALE + 1, ran=0.02, waited=0.9)
    assert signals == [] and dog.state(NODE) == 'starved'
    assert not [e for e in events if 'healthy again' in e or 'starved of CPU' in e]
    # The cap counts the watched silence too: the 44 s before the stall are unknown.
    silent_for(dog, clock, cpu, STARVED_TIMEOUT_FACTOR * STALE - STALE - 2, ran=0.02,
               waited=0.9)
    assert signals == []
    silent_for(dog, clock, cpu, 2, ran=0.02, waited=0.9)
    assert signals == [signal.SIGTERM]


def test_a_wait_in_progress_counts_before_the_kernel_adds_it():
    # The kernel adds a wait to run_delay when the thread gets its CPU: a thread that is
    # ready to run and never gets it shows no wait at all, only the same CPU time while
    # ready (R) at every reading.
    readings = {'t': 0}

    def read(pid):
        readings['t'] += 1
        if readings['t'] <= 3:  # healthy: it runs and sleeps
            return CpuReading(5.0 + 0.01 * readings['t'], {PID: 1.0}, 'S')
        if readings['t'] < 40:  # ready to run, never run: nothing moves
            return CpuReading(5.04, {PID: 1.0}, 'R', ready={PID: 5.04})
        return CpuReading(5.05, {PID: 40.0}, 'R', ready={PID: 5.05})  # it ran: the wait lands

    dog, clock, signals = make_dog(read)
    for _ in range(35):
        clock.t += 1.0
        dog.check()
    assert signals == [] and dog.state(NODE) == 'starved', dog.report(NODE)
    assert 'waited 10.0 s for a CPU in the last 10.0 s' in dog.report(NODE)[1]
    for _ in range(10):  # the landed wait is not counted twice (a wait never exceeds the window)
        clock.t += 1.0
        dog.check()
    assert signals == [] and 'waited 10.0 s for a CPU in the last 10.0 s' in dog.report(NODE)[1]


def test_classify_takes_the_longest_wait_of_one_thread_and_the_whole_cpu_time():
    before = CpuReading(1.0, {10: 1.0, 11: 2.0}, 'S')
    # Thread 12 was born in the window (counted from 0); 11 ended (ignored).
    after = CpuReading(1.1, {10: 2.0, 12: 7.5}, 'R')
    verdict = classify(before, after, 10.0)
    assert (verdict.kind, verdict.waited_s) == (STARVED, 7.5)
    assert classify(before, CpuReading(3.5, {10: 9.0}, 'R'), 10.0).kind == BUSY
    assert classify(before, CpuReading(1.0, {10: 1.5, 11: 2.0}, 'S'), 10.0).kind == BLOCKED
    # Counters never go backwards in the judgement, and a wait never exceeds the window.
    weird = classify(before, CpuReading(0.0, {10: 50.0}, 'R'), 10.0)
    assert (weird.ran_s, weird.waited_s, weird.kind) == (0.0, 10.0, STARVED)
