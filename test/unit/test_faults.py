# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the simulated camera's fault injection, alone and under the capture thread."""

import dataclasses
import threading
import time

from conftest import FakeClock, wait_or_fail
import numpy as np
import psutil
import pytest

from face_tracker_ros.camera.capture import CaptureThread
from face_tracker_ros.camera.params import CameraConfig, PARAMS
from face_tracker_ros.camera.sources import SourceError
from face_tracker_ros.common.params import defaults
from face_tracker_ros.sim.faults import (
    DEFAULT_VALUES,
    Fault,
    FAULT_KINDS,
    FaultSchedule,
    faulty_factory,
    FaultySource,
    MIB,
    parse_faults,
)
from face_tracker_ros.sim.scene import SimScene
from face_tracker_ros.sim.source import SimSource

WIDTH, HEIGHT = 160, 120


@pytest.fixture(scope='module')
def scene() -> SimScene:
    """Return a small real simulated scene with sensor noise (live frames differ)."""
    return SimScene(width=WIDTH, height=HEIGHT, noise_sigma=2.0)


def faulty(scene, entries, clock: FakeClock) -> FaultySource:
    """Return an open FaultySource over a fake-clocked SimSource with the schedule ``entries``."""
    inner = SimSource(scene, lambda: (0.0, 0.0), clock=clock, sleep=clock.sleep,
                      realtime=False)
    source = FaultySource(inner, FaultSchedule(parse_faults(entries), clock), sleep=clock.sleep)
    source.open()
    return source


# -- parsing and the schedule -------------------------------------------------------------------

def test_parse_faults_kinds_defaults_and_forms():
    """Entries parse from a list or a comma-separated string; values default per kind."""
    faults = parse_faults(['read_fail:10:3', ' frozen:20:5 ', '', 'slow:1:2', 'slow:1:2:0.9',
                           'leak:0:60', 'leak:0:60:2.5', 'hang:4:1', 'black:1:1',
                           'disappear:40:4'])
    assert faults[0] == Fault('read_fail', 10.0, 3.0, 0.0)
    assert faults[1].kind == 'frozen' and faults[1].end_s == 25.0
    assert [f.value for f in faults[2:6]] == [
        DEFAULT_VALUES['slow'], 0.9, DEFAULT_VALUES['leak'], 2.5]
    assert parse_faults('read_fail:1:2, hang:3:1') == [
        Fault('read_fail', 1.0, 2.0), Fault('hang', 3.0, 1.0)]
    assert set(FAULT_KINDS) == {'read_fail', 'frozen', 'black', 'slow', 'hang', 'disappear',
                                'leak', 'future_stamp', 'past_stamp'}


@pytest.mark.parametrize('entry,words', [
    ('melt:1:2', ['melt', 'read_fail', 'leak', 'hang']),
    ('slow:1', ['<kind>:<start_s>:<duration_s>']),
    ('slow:x:2', ['not a number']),
    ('slow:-1:2', ['start_s >= 0']),
    ('slow:1:0', ['duration_s > 0']),
    ('slow:1:nan', ['finite']),
    ('slow:1:2:-0.5', ['>= 0']),
    ('leak:0:1:0', ['> 0', 'MiB']),
])
def test_parse_faults_errors_name_the_parameter_and_the_entry(entry, words):
    """Bad entries are ValueErrors naming the parameter, the entry and what is allowed."""
    with pytest.raises(ValueError) as info:
        parse_faults([entry], 'sim.faults')
    message = str(info.value)
    assert 'sim.faults' in message and entry in message
    for word in words:
        assert word in message


def test_schedule_is_shared_and_injection_is_thread_safe(scene):
    """Sources sharing a schedule see each other's injections; injection is thread-safe."""
    clock = FakeClock()
    schedule = FaultSchedule(parse_faults(['black:5:1']), clock)

    def pose():
        return 0.0, 0.0

    a = FaultySource(SimSource(scene, pose, realtime=False), schedule)
    b = FaultySource(SimSource(scene, pose, realtime=False), schedule)
    clock.advance_to(2.0)
    fault = a.inject('read_fail', 1.5)
    assert fault == Fault('read_fail', 2.0, 1.5, 0.0)
    assert b.active() == ['read_fail'] and b.elapsed() == 2.0
    clock.advance_to(5.5)
    assert a.active() == ['black']
    with pytest.raises(ValueError, match='kind must be one of'):
        b.inject('explode', 1.0)

    def inject_many():
        for _ in range(50):
            schedule.inject('slow', 1.0, 0.1)

    workers = [threading.Thread(target=inject_many) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(schedule.faults) == 2 + 8 * 50


def test_schedule_rejects_non_faults():
    """A schedule of strings (not parsed) is a clear ValueError."""
    with pytest.raises(ValueError, match='parse_faults'):
        FaultSchedule(['read_fail:1:2'])
    with pytest.raises(ValueError, match='inner'):
        FaultySource(object())
    with pytest.raises(ValueError, match='schedule'):
        faulty_factory(lambda: None, [])


# -- every kind on a real simulated camera (fake clock) ----------------------------------------

def test_read_fail_window(scene):
    """read_fail: reads fail with a reason inside the window only."""
    clock = FakeClock()
    source = faulty(scene, ['read_fail:1:1'], clock)
    assert source.read() is not None
    clock.advance_to(1.5)
    assert source.read() is None and 'read failure' in source.last_error
    clock.advance_to(2.5)
    assert source.read() is not None


def test_frozen_repeats_the_same_bytes(scene):
    """frozen: byte-identical copies of the last good frame, fresh frames afterwards."""
    clock = FakeClock()
    source = faulty(scene, ['frozen:1:1'], clock)
    clock.advance_to(0.9)
    last = source.read()
    frames = []
    for k in range(4):
        clock.advance_to(1.0 + 0.1 * k)
        frames.append(source.read())
    assert all(np.array_equal(f, last) and f is not last for f in frames)
    after = []
    for k in range(5):
        clock.advance_to(2.1 + 0.033 * k)
        after.append(source.read())
    assert not all(np.array_equal(f, last) for f in after)


def test_black_frames(scene):
    """black: all-zero frames of the camera's size."""
    clock = FakeClock()
    source = faulty(scene, ['black:0:1'], clock)
    frame = source.read()
    assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8 and not frame.any()


def test_slow_reads_take_longer(scene):
    """slow: each read sleeps ``value`` seconds more, then returns a frame."""
    clock = FakeClock()
    source = faulty(scene, ['slow:0:5:0.7'], clock)
    assert source.read() is not None
    assert clock.sleeps == [0.7]


def test_hang_blocks_until_the_window_ends(scene):
    """hang: a read blocks until the window ends (extended by injection), then a frame."""
    clock = FakeClock()
    source = faulty(scene, ['hang:1:2'], clock)
    clock.advance_to(1.2)
    frame = source.read()
    assert frame is not None and frame.shape == (HEIGHT, WIDTH, 3)
    assert source.elapsed() >= 3.0
    assert max(clock.sleeps) <= 0.05 + 1e-9
    source.inject('hang', 0.5)
    start = source.elapsed()
    assert source.read() is not None and source.elapsed() >= start + 0.5


def test_disappear_fails_open_and_reads_until_it_returns(scene):
    """disappear: reads fail and open raises SourceError until the window ends."""
    clock = FakeClock()
    source = faulty(scene, ['disappear:1:2'], clock)
    clock.advance_to(1.5)
    assert source.read() is None and 'disappeared' in source.last_error
    source.close()
    with pytest.raises(SourceError, match='disappeared'):
        source.open()
    clock.advance_to(3.0)
    source.open()
    assert source.read() is not None


def test_leak_grows_the_resident_set_at_the_given_rate(scene):
    """leak: value MiB per second of the window, touched memory, kept after the window."""
    clock = FakeClock()
    source = faulty(scene, ['leak:1:2:8'], clock)
    schedule = source.schedule
    process = psutil.Process()
    try:
        before = process.memory_info().rss
        clock.advance_to(0.5)
        source.read()
        assert schedule.leaked_bytes == 0
        clock.advance_to(2.0)
        source.read()
        assert schedule.leaked_bytes == 8 * MIB
        clock.advance_to(10.0)
        source.read()
        assert schedule.leaked_bytes == 16 * MIB  # capped by the window's end
        grown = process.memory_info().rss - before
        assert grown >= 12 * MIB, f'RSS grew by {grown / MIB:.1f} MiB only'
        clock.advance_to(20.0)
        source.read()
        assert schedule.leaked_bytes == 16 * MIB
    finally:
        schedule.release_leak()
    assert schedule.leaked_bytes == 0


def test_stamp_faults_shift_the_capture_time(scene):
    """future_stamp / past_stamp shift the stamp the capture thread takes, nothing else."""
    clock = FakeClock()
    source = faulty(scene, ['future_stamp:1:1', 'past_stamp:3:1:60'], clock)
    assert source.read() is not None
    base = source.inner.last_capture_time
    assert source.last_capture_time == base
    clock.advance(1.5)
    assert source.read() is not None
    assert source.last_capture_time == pytest.approx(source.inner.last_capture_time + 3600.0)
    clock.advance(2.0)
    assert source.read() is not None
    assert source.last_capture_time == pytest.approx(source.inner.last_capture_time - 60.0)
    clock.advance(1.0)
    assert source.last_capture_time == source.inner.last_capture_time
    source.close()


def test_faulty_source_delegates_to_the_inner_source(scene):
    """Size, rate, truth and whether frames may repeat are the inner source's."""
    clock = FakeClock()
    source = faulty(scene, ['black:5:1'], clock)
    source.read()
    assert (source.width, source.height) == (WIDTH, HEIGHT)
    assert source.fps == 30.0 and source.is_open and source.kind == 'sim'
    assert source.last_truth is source.inner.last_truth is not None
    assert source.repeats_frames is False  # the scene has sensor noise
    assert '1 scheduled fault' in source.describe()
    source.close()
    assert not source.is_open and source.read() is None


def test_factory_sources_share_the_schedule(scene):
    """Every source the factory builds is new and uses the one schedule."""
    schedule = FaultSchedule()
    factory = faulty_factory(lambda: SimSource(scene, lambda: (0.0, 0.0)), schedule)
    a, b = factory(), factory()
    assert a is not b and a.inner is not b.inner
    assert a.schedule is schedule and b.schedule is schedule


# -- under the capture thread (real time, short windows) ---------------------------------------

class Run:
    """A capture thread over a FaultySource factory on the real scene, its frames counted."""

    def __init__(self, scene, entries, **kwargs) -> None:
        self.schedule = FaultSchedule(parse_faults(entries))
        start_time = time.time()
        self.factory = faulty_factory(
            lambda: SimSource(scene, lambda: (0.0, 0.0), fps=100.0, start_time=start_time),
            self.schedule)
        self.frames = 0
        self.states = []
        policy = {'max_consecutive_errors': 3, 'reopen_backoff_s': 0.01,
                  'reopen_backoff_max_s': 0.04, 'frame_timeout_s': 0.15,
                  'frozen_timeout_s': 0.1}
        policy.update(kwargs)
        node_policy = CameraConfig.from_params(defaults(PARAMS)).capture
        self.capture = CaptureThread(self.factory, self._on_frame,
                                     dataclasses.replace(node_policy, **policy),
                                     logger=_QuietLogger())
        self.capture.start()

    def _on_frame(self, frame, stamp_ns) -> None:
        self.frames += 1

    def stats(self):
        """Return the stats, remembering every state seen."""
        stats = self.capture.stats()
        if not self.states or self.states[-1] != stats.state:
            self.states.append(stats.state)
        return stats

    def wait_window_over(self, what: str) -> None:
        """Wait until every fault has ended and fresh frames stream again."""
        end = max(f.end_s for f in self.schedule.faults)
        wait_or_fail(lambda: self.schedule.elapsed() > end, 'the end of the fault window')
        count = self.frames
        wait_or_fail(lambda: self.frames >= count + 5 and self.stats().state == 'streaming', what)


class _QuietLogger:
    def error(self, msg):
        pass

    warning = info = error


@pytest.fixture
def runs():
    """Collect the runs a test starts; stop them at its end."""
    started = []
    yield started
    for run in started:
        run.capture.stop(timeout=5.0)
        run.schedule.release_leak()


def test_capture_recovers_from_read_failures(scene, runs):
    """read_fail under the capture thread: errors, reopen, streaming again."""
    run = Run(scene, ['read_fail:0.15:0.3'])
    runs.append(run)
    wait_or_fail(lambda: run.stats().counts.reinit_attempts >= 1, 'a reopen')
    run.wait_window_over('frames after the read failures')
    stats = run.stats()
    assert stats.counts.read_errors_total > 3 and 'reconnecting' in run.states
    assert run.capture.source is not None and run.capture.source.schedule is run.schedule


def test_capture_detects_frozen_frames(scene, runs):
    """The kind frozen under the capture thread: frozen errors, reopen, streaming again."""
    run = Run(scene, ['frozen:0.1:0.5'])
    runs.append(run)
    wait_or_fail(lambda: run.stats().counts.frozen_errors_total >= 4
                 and run.stats().counts.reinit_attempts >= 1, 'frozen errors and a reopen')
    run.wait_window_over('fresh frames after the freeze')


def test_capture_counts_black_frames(scene, runs):
    """The kind black under the capture thread: counted, not errors."""
    run = Run(scene, ['black:0.05:0.2'], frame_timeout_s=1.0)  # no stuck reads under load
    runs.append(run)
    wait_or_fail(lambda: run.stats().counts.black_frames_total >= 5, 'black frames')
    run.wait_window_over('frames after the black window')
    assert run.stats().counts.read_errors_total == 0


@pytest.mark.parametrize('entry', ['slow:0.1:0.3:0.3', 'hang:0.1:0.3'])
def test_capture_replaces_slow_and_hung_reads(scene, runs, entry):
    """The kind slow past frame_timeout_s and hang are blocked reads: replaced, then streaming."""
    run = Run(scene, [entry])
    runs.append(run)
    wait_or_fail(lambda: run.stats().counts.stuck_reads_total >= 1, 'a blocked read')
    run.wait_window_over('frames after the blocked reads')
    stats = run.stats()
    assert stats.state == 'streaming' and stats.failure_reason == ''


def test_capture_waits_for_a_disappeared_camera(scene, runs):
    """disappear: reconnecting while gone, reopen attempts counted, streaming when back."""
    run = Run(scene, ['disappear:0.1:0.4'])
    runs.append(run)
    wait_or_fail(lambda: 'disappeared' in run.stats().last_error and run.stats().state ==
                 'reconnecting', 'failed reopens of the vanished camera')
    run.wait_window_over('frames once the camera is back')
    assert run.stats().counts.reinit_attempts >= 2


def test_capture_of_a_leaking_camera_grows_the_process(scene, runs):
    """The kind leak under the capture thread grows the process's resident set while active."""
    process = psutil.Process()
    before = process.memory_info().rss
    run = Run(scene, ['leak:0:0.3:100'], frame_timeout_s=1.0)
    runs.append(run)
    wait_or_fail(lambda: run.schedule.elapsed() > 0.3 and run.schedule.leaked_bytes >= 25 * MIB,
                 'the leak window to pass')
    grown = process.memory_info().rss - before
    assert grown >= 20 * MIB, f'RSS grew by {grown / MIB:.1f} MiB only'
    assert run.stats().state != 'failed'
