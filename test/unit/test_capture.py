# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the capture thread: delivery, stamps, recovery, exceptions, stop."""

import dataclasses
import itertools
import math
import re
import threading
import time

from conftest import wait_or_fail
import cv2
import numpy as np
import pytest

from face_tracker_ros.camera.capture import CaptureThread
from face_tracker_ros.camera.params import CameraConfig, CaptureConfig, PARAMS
from face_tracker_ros.camera.sources import FrameSource, SourceError, VideoFileSource
from face_tracker_ros.common.params import defaults
from face_tracker_ros.sim.source import SimSource

DEADLINE_S = 10.0


class ListLogger:
    """Collects (level, message) pairs from any thread."""

    def __init__(self) -> None:
        self.records = []
        self._lock = threading.Lock()

    def _add(self, level: str, msg: str) -> None:
        assert isinstance(msg, str)
        with self._lock:
            self.records.append((level, msg))

    def error(self, msg: str) -> None:
        """Record an error."""
        self._add('error', msg)

    def warning(self, msg: str) -> None:
        """Record a warning."""
        self._add('warning', msg)

    def info(self, msg: str) -> None:
        """Record an info message."""
        self._add('info', msg)

    def messages(self, level: str) -> list:
        """Return the messages logged at ``level``."""
        with self._lock:
            return [m for lv, m in self.records if lv == level]


class FakeSource(FrameSource):
    """Base of this file's sources: counts opens and knows whether it is open.

    A subclass's ``_opening()`` runs at each open before the source counts as open; it may
    raise SourceError (a failed open).
    """

    def __init__(self) -> None:
        super().__init__()
        self.open_calls = 0
        self._is_open = False

    @property
    def is_open(self) -> bool:
        """Whether the source is open."""
        return self._is_open

    def open(self) -> None:
        """Count the open; open unless ``_opening`` raises."""
        self.open_calls += 1
        self._opening()
        self._is_open = True

    def _opening(self) -> None:
        """Run at each open, before the source counts as open."""

    def close(self) -> None:
        """Mark closed."""
        self._is_open = False


class ScriptedSource(FakeSource):
    """A source that follows a script: reads 'ok' | 'fail' | 'raise', opens True | False.

    When the read script is used up every read succeeds.  ``hook(event)`` is
    called at each open and read, before the scripted outcome.
    """

    kind = 'scripted'

    def __init__(self, reads=(), opens=(), hook=None) -> None:
        super().__init__()
        self.reads = list(reads)
        self.opens = list(opens)
        self.hook = hook
        self.close_calls = 0
        self.counter = 0

    def _opening(self) -> None:
        """Raise SourceError when the open script says so."""
        if self.hook:
            self.hook('open')
        if self.opens and not self.opens.pop(0):
            raise SourceError('scripted device /dev/fake0 is missing')
        self.width, self.height, self.fps = 8, 6, 500.0

    def read(self):
        """Return a frame, None or raise, as the read script says."""
        if self.hook:
            self.hook('read')
        action = self.reads.pop(0) if self.reads else 'ok'
        if action == 'fail':
            self.last_error = 'scripted failure'
            return None
        if action == 'raise':
            raise RuntimeError('scripted read exception')
        time.sleep(0.001)  # a frame period of a very fast camera
        self.counter += 1
        return np.full((6, 8, 3), self.counter % 256, np.uint8)

    def close(self) -> None:
        """Count the close."""
        self.close_calls += 1
        super().close()

    def describe(self) -> str:
        """Return a fixed description."""
        return 'scripted test source'


class Recorder:
    """An on_frame callback that keeps frames and stamps, optionally raising first."""

    def __init__(self, raise_first: int = 0) -> None:
        self.frames = []
        self.stamps = []
        self.raise_first = raise_first
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, frame: np.ndarray, stamp_ns: int) -> None:
        """Keep the frame and stamp, or raise for the first calls."""
        with self._lock:
            self.calls += 1
            if self.calls <= self.raise_first:
                raise ValueError(f'callback failure {self.calls}')
            self.frames.append(frame)
            self.stamps.append(stamp_ns)

    def count(self) -> int:
        """Return how many frames were kept."""
        with self._lock:
            return len(self.frames)


def counting_clock_ns(start: int = 1_000_000_000):
    """Return a fake nanosecond clock that ticks 1 us per call."""
    counter = itertools.count(start, 1000)
    return lambda: next(counter)


@pytest.fixture
def threads():
    """Capture threads started by a test; all are stopped at its end."""
    started = []
    yield started
    for capture in started:
        capture.stop(timeout=5.0)


#: The camera node's default recovery policy.
NODE_POLICY = CameraConfig.from_params(defaults(PARAMS)).capture
POLICY = {f.name for f in dataclasses.fields(CaptureConfig)}


def make(source, on_frame, **kwargs) -> CaptureThread:
    """Create a capture thread: the node's policy changed by the keywords that are its own."""
    changes = {name: kwargs.pop(name) for name in POLICY & kwargs.keys()}
    return CaptureThread(source, on_frame, dataclasses.replace(NODE_POLICY, **changes),
                         **kwargs)


def start(threads, source, on_frame, **kwargs) -> CaptureThread:
    """Create, remember and start a capture thread with fast test backoffs."""
    kwargs.setdefault('logger', ListLogger())
    kwargs.setdefault('reopen_backoff_s', 0.01)
    kwargs.setdefault('reopen_backoff_max_s', 0.04)
    capture = make(source, on_frame, **kwargs)
    threads.append(capture)
    capture.start()
    return capture


def test_frames_arrive_with_increasing_stamps_and_stop_closes(threads):
    """Frames arrive with increasing stamps; stop() ends the thread and closes."""
    source = ScriptedSource()
    recorder = Recorder()
    capture = start(threads, source, recorder, clock_ns=counting_clock_ns())
    wait_or_fail(lambda: recorder.count() >= 10, '10 frames')
    assert capture.stats().state == 'streaming'
    capture.stop()
    assert not capture.alive
    stamps = list(recorder.stamps)
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert all(f.shape == (6, 8, 3) and f.dtype == np.uint8 for f in recorder.frames)
    stats = capture.stats()
    assert stats.state == 'stopped'
    assert stats.counts.frames_total == len(stamps)
    assert stats.counts.read_errors_total == 0 and stats.counts.reinit_attempts == 0
    assert stats.last_frame_time is not None
    assert source.close_calls >= 1 and not source.is_open


def test_default_stamps_are_wall_clock_ns(threads):
    """Without a clock the stamps are wall-clock nanoseconds."""
    recorder = Recorder()
    before = time.time_ns()
    capture = start(threads, ScriptedSource(), recorder)
    wait_or_fail(lambda: recorder.count() >= 3, '3 frames')
    capture.stop()
    after = time.time_ns()
    assert all(before <= s <= after for s in recorder.stamps)
    assert recorder.stamps == sorted(recorder.stamps)


def test_errors_up_to_the_limit_do_not_reopen(threads):
    """Exactly max_consecutive_errors failures do not reopen the source."""
    source = ScriptedSource(reads=['ok'] + ['fail'] * 5)
    recorder = Recorder()
    capture = start(threads, source, recorder, max_consecutive_errors=5)
    wait_or_fail(lambda: recorder.count() >= 5, 'frames after the failures')
    stats = capture.stats()
    assert stats.counts.read_errors_total == 5
    assert stats.counts.consecutive_errors == 0
    assert stats.counts.reinit_attempts == 0
    assert source.open_calls == 1


def test_more_errors_than_the_limit_reopen_and_recover(threads):
    """More failures than the limit reopen the source and streaming resumes."""
    states = []
    holder = {}

    def hook(event):
        """Record each state change seen from inside the source."""
        state = holder['capture'].stats().state
        if not states or states[-1] != state:
            states.append(state)

    source = ScriptedSource(reads=['ok'] * 3 + ['fail'] * 4 + ['raise'] * 2, hook=hook)
    recorder = Recorder()
    logger = ListLogger()
    capture = make(source, recorder, max_consecutive_errors=5, reopen_backoff_s=0.01,
                   reopen_backoff_max_s=0.04, logger=logger)
    holder['capture'] = capture
    threads.append(capture)
    capture.start()
    wait_or_fail(lambda: recorder.count() >= 8, 'frames after recovery')
    stats = capture.stats()
    assert stats.counts.reinit_attempts == 1
    assert stats.counts.read_errors_total == 6
    assert stats.counts.consecutive_errors == 0
    assert stats.state == 'streaming'
    assert states == ['starting', 'streaming', 'reconnecting', 'streaming']
    assert source.open_calls == 2 and source.close_calls >= 1
    errors = logger.messages('error')
    assert any('Traceback' in m and 'scripted read exception' in m for m in errors)
    assert any('reopening' in m for m in errors)
    assert any('scripted failure' in m for m in logger.messages('warning'))


def test_failed_open_is_retried_with_backoff(threads):
    """A camera that is missing at start is retried until it opens."""
    source = ScriptedSource(opens=[False, False, False])
    recorder = Recorder()
    logger = ListLogger()
    capture = start(threads, source, recorder, logger=logger)
    wait_or_fail(lambda: recorder.count() >= 2, 'frames after the camera appears')
    stats = capture.stats()
    assert stats.counts.reinit_attempts == 3
    assert stats.state == 'streaming'
    assert any('/dev/fake0' in m for m in logger.messages('error'))


def test_reopen_backoff_doubles_up_to_the_cap_and_resets_after_a_frame(threads):
    """Waits double per reopen up to the cap, and start again small after a frame."""
    source = ScriptedSource(opens=[False] * 4 + [True, False, True],
                            reads=['ok'] + ['fail'] * 3)
    logger = ListLogger()
    recorder = Recorder()
    capture = start(threads, source, recorder, logger=logger, max_consecutive_errors=2,
                    reopen_backoff_s=0.01, reopen_backoff_max_s=0.04)
    wait_or_fail(lambda: capture.stats().counts.reinit_attempts == 6 and recorder.count() >= 3,
                 'six reopen attempts and frames after them')
    waits = [float(re.search(r'after ([0-9.e-]+) s', m).group(1))
             for m in logger.messages('info') if m.startswith('reinitialising')]
    # Start: the open and 3 reopens fail, the 4th works; one frame, then 3 failed reads
    # (> 2) reopen again: one failed and one good attempt.
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.01, 0.02]


def test_gives_up_after_max_reopen_attempts(threads):
    """With max_reopen_attempts the thread ends in state failed."""
    source = ScriptedSource(opens=[False] * 100)
    capture = start(threads, source, Recorder(), max_reopen_attempts=2)
    wait_or_fail(lambda: not capture.alive, 'the thread to give up')
    stats = capture.stats()
    assert stats.state == 'failed'
    assert stats.counts.reinit_attempts == 2
    assert source.open_calls == 3


def test_exception_in_on_frame_does_not_kill_the_thread(threads):
    """Callback exceptions are logged with traceback and counted; capture goes on."""
    recorder = Recorder(raise_first=3)
    logger = ListLogger()
    capture = start(threads, ScriptedSource(), recorder, logger=logger)
    wait_or_fail(lambda: recorder.count() >= 5, 'frames after the callback recovered')
    assert capture.alive
    stats = capture.stats()
    assert stats.counts.read_errors_total == 3
    assert stats.counts.reinit_attempts == 0
    tracebacks = [m for m in logger.messages('error') if 'Traceback' in m]
    assert len(tracebacks) == 3
    assert 'callback failure 1' in tracebacks[0]


def test_stop_interrupts_a_long_backoff(threads):
    """stop() ends a thread waiting in a long reopen backoff."""
    source = ScriptedSource(opens=[False] * 100)
    capture = start(threads, source, Recorder(), reopen_backoff_s=60.0,
                    reopen_backoff_max_s=60.0)
    wait_or_fail(lambda: capture.stats().state == 'reconnecting', 'reconnecting')
    capture.stop(timeout=5.0)  # the backoff is 60 s: only an interrupted wait ends in time
    assert not capture.alive
    assert capture.stats().state == 'stopped'


def test_stop_from_inside_on_frame(threads):
    """stop() called from the callback ends the thread without deadlock."""
    holder = {}
    frames = []

    def on_frame(frame, stamp_ns):
        """Record the frame and stop the capture."""
        frames.append(stamp_ns)
        holder['capture'].stop()

    source = ScriptedSource()
    capture = make(source, on_frame, logger=ListLogger())
    holder['capture'] = capture
    threads.append(capture)
    capture.start()
    wait_or_fail(lambda: not capture.alive, 'the thread to end')
    assert len(frames) == 1
    assert not source.is_open
    assert capture.stats().state == 'stopped'


def test_stop_without_start_closes_the_source():
    """stop() on a never-started thread closes the source."""
    source = ScriptedSource()
    source.open()
    capture = make(source, Recorder(), logger=ListLogger())
    capture.stop()
    assert not source.is_open
    assert capture.stats().state == 'stopped'


def test_video_file_without_loop_plays_once_then_stops(threads, tmp_path):
    """A non-looping file is delivered once, then the thread stops."""
    path = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (32, 24))
    for i in range(12):
        writer.write(np.full((24, 32, 3), 10 * i, np.uint8))
    writer.release()
    source = VideoFileSource(path, loop=False, realtime=False)
    recorder = Recorder()
    capture = start(threads, source, recorder)
    wait_or_fail(lambda: not capture.alive, 'the end of the video')
    stats = capture.stats()
    assert recorder.count() == 12
    assert stats.state == 'stopped'
    assert stats.counts.read_errors_total == 0


def test_sim_source_stamp_is_its_capture_time(threads):
    """A SimSource's frames are stamped with its capture time."""
    class Scene:
        width, height = 16, 12

        def render(self, t, pan, tilt):
            """Return a black image and the scene time as truth."""
            return np.zeros((12, 16, 3), np.uint8), {'t': t}

    times = itertools.count(2000.0, 0.25)
    source = SimSource(Scene(), lambda: (0.0, 0.0), clock=lambda: next(times), realtime=False)
    seen = []

    def on_frame(frame, stamp_ns):
        """Record the frame and stop the capture."""
        seen.append((stamp_ns, source.last_capture_time, source.last_truth['t']))

    capture = start(threads, source, on_frame, clock_ns=counting_clock_ns())
    wait_or_fail(lambda: len(seen) >= 5, '5 simulated frames')
    capture.stop()
    for stamp_ns, capture_time, _ in seen:
        assert stamp_ns == round(capture_time * 1e9)
    # scene time and stamp agree: stamp = scene start + t
    start_s = seen[0][1] - seen[0][2]
    for stamp_ns, _, t in seen:
        assert stamp_ns / 1e9 == pytest.approx(start_s + t)


def test_default_logger_is_standard_logging(threads, caplog):
    """Without a logger the standard logging module gets the messages."""
    source = ScriptedSource(reads=['raise'])
    recorder = Recorder()
    capture = make(source, recorder)
    threads.append(capture)
    with caplog.at_level('INFO', logger='face_tracker_ros.camera.capture'):
        capture.start()
        wait_or_fail(lambda: recorder.count() >= 1, 'a frame')
        capture.stop()
    assert 'scripted read exception' in caplog.text


@pytest.mark.parametrize('kwargs,name', [
    ({'max_consecutive_errors': -1}, 'max_consecutive_errors'),
    ({'reopen_backoff_s': 0.0}, 'reopen_backoff_s'),
    ({'reopen_backoff_s': 2.0, 'reopen_backoff_max_s': 1.0}, 'reopen_backoff_max_s'),
    ({'max_reopen_attempts': -2}, 'max_reopen_attempts'),
])
def test_bad_policy_names_the_parameter(kwargs, name):
    """Bad recovery settings name the parameter in the ValueError (when the policy is made)."""
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(NODE_POLICY, **kwargs)


# -- self-healing: blocked reads, frozen frames, giving up ------------------------------------

MARKER = 255  # level of a frame a blocked read returns late: it must never be delivered


class GatedSource(FakeSource):
    """Uniform frames of level ``tag``; read number ``block_at`` (or open) waits for ``gate``.

    A read released late returns a frame of level MARKER.  ``close`` records
    the name of the thread that closed it.
    """

    kind = 'gated'

    def __init__(self, tag: int, gate: threading.Event, block_at: int = 0,
                 block_open: bool = False, opens=()) -> None:
        super().__init__()
        self.tag = tag
        self.gate = gate
        self.block_at = block_at
        self.block_open = block_open
        self.opens = list(opens)
        self.reads = 0
        self.closed_by = []

    def _opening(self) -> None:
        """Wait for the gate when block_open; fail when the open script says so."""
        if self.block_open:
            self.gate.wait(DEADLINE_S)
        if self.opens and not self.opens.pop(0):
            raise SourceError('gated device /dev/fake1 is missing')

    def read(self):
        """Return a frame of level tag, or block at read number block_at."""
        self.reads += 1
        if self.reads == self.block_at or (self.block_at < 0 and self.reads >= -self.block_at):
            self.gate.wait(DEADLINE_S)
            return np.full((6, 8, 3), MARKER, np.uint8)
        time.sleep(0.001)
        return np.full((6, 8, 3), self.tag, np.uint8)

    def close(self) -> None:
        """Record which thread closed the source."""
        self.closed_by.append(threading.current_thread().name)
        super().close()

    def describe(self) -> str:
        """Return the tag."""
        return f'gated source {self.tag}'


class NoiseSource(FakeSource):
    """Random frames like a live sensor; while ``frozen`` is set, copies of the last one."""

    kind = 'noise'

    def __init__(self, frozen: threading.Event, repeats_frames: bool = False,
                 image=None) -> None:
        super().__init__()
        self.frozen = frozen
        self.repeats_frames = repeats_frames
        self.image = image
        self.rng = np.random.default_rng(1)
        self.last = None

    def read(self):
        """Return a new noisy frame, a copy of the last one while frozen, or ``image``."""
        time.sleep(0.001)
        if self.image is not None:
            return self.image.copy()
        if self.frozen.is_set() and self.last is not None:
            return self.last.copy()
        self.last = self.rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        return self.last

    def describe(self) -> str:
        """Return a fixed description."""
        return 'noise source'


def levels(recorder: Recorder) -> list:
    """Return the level (first byte) of every delivered frame."""
    with recorder._lock:
        return [int(f.flat[0]) for f in recorder.frames]


def test_blocked_read_is_abandoned_and_a_new_reader_takes_over(threads):
    """A read blocked past frame_timeout_s: error, fresh source, stuck frame never delivered."""
    gate = threading.Event()
    made = []

    def factory():
        source = GatedSource(len(made) + 1, gate, block_at=3 if not made else 0)
        made.append(source)
        return source

    recorder = Recorder()
    logger = ListLogger()
    capture = start(threads, factory, recorder, frame_timeout_s=0.2, logger=logger)
    assert len(made) == 1 and capture.source is made[0]
    wait_or_fail(lambda: capture.stats().counts.stuck_reads_total == 1
                 and levels(recorder).count(2) >= 3,
                 'a new reader delivering frames of the second source')
    assert made[0].closed_by == []  # still blocked: nobody closed it under the read
    gate.set()
    wait_or_fail(lambda: made[0].closed_by, 'the abandoned reader to close its source')
    assert made[0].closed_by == ['capture-reader-1']  # closed by its own reader thread
    count = recorder.count()
    wait_or_fail(lambda: recorder.count() >= count + 5, 'more frames after the release')
    seen = levels(recorder)
    assert MARKER not in seen
    assert seen[:2] == [1, 1] and set(seen[2:]) == {2}
    stats = capture.stats()
    assert stats.state == 'streaming' and stats.counts.stuck_reads_total == 1
    assert stats.counts.read_errors_total == 1 and stats.counts.reinit_attempts == 1
    assert 'blocked' in stats.last_error and stats.recovering_since is None
    assert len(made) == 2 and capture.source is made[1]
    assert any('blocked' in m for m in logger.messages('error'))


def test_a_low_rate_source_is_not_stuck(threads):
    """A read may take two frame periods of the source's rate, even past frame_timeout_s."""
    class SlowRate(ScriptedSource):
        def open(self):
            super().open()
            self.fps = 4.0

        def read(self):
            time.sleep(0.15)  # a paced source at 4 Hz waits most of a period
            return super().read()

    recorder = Recorder()
    capture = start(threads, SlowRate(), recorder, frame_timeout_s=0.05)
    wait_or_fail(lambda: recorder.count() >= 3, '3 slow frames')
    assert capture.stats().counts.stuck_reads_total == 0


def test_blocked_open_is_abandoned_too(threads):
    """An open blocked past open_timeout_s is replaced like a blocked read."""
    gate = threading.Event()
    made = []

    def factory():
        source = GatedSource(len(made) + 1, gate, block_open=not made)
        made.append(source)
        return source

    recorder = Recorder()
    capture = start(threads, factory, recorder, open_timeout_s=0.2)
    wait_or_fail(lambda: recorder.count() >= 3, 'frames of the replacement source')
    assert set(levels(recorder)) == {2}
    assert capture.stats().counts.stuck_reads_total == 1
    gate.set()
    wait_or_fail(lambda: made[0].closed_by, 'the abandoned open to return and close')


def test_too_many_stuck_readers_fail(threads):
    """When more than max_stuck_reads readers are stuck the capture fails, once."""
    gate = threading.Event()
    made = []
    fatal = []

    def factory():
        made.append(GatedSource(len(made) + 1, gate, block_at=1))
        return made[-1]

    capture = start(threads, factory, Recorder(), frame_timeout_s=0.1, max_stuck_reads=2,
                    on_fatal=fatal.append)
    wait_or_fail(lambda: not capture.alive, 'the capture to give up')
    stats = capture.stats()
    assert stats.state == 'failed' and stats.counts.stuck_reads_total == 3
    assert 'blocked' in stats.failure_reason and 'max_stuck_reads 2' in stats.failure_reason
    assert fatal == [stats.failure_reason]
    gate.set()
    wait_or_fail(lambda: all(s.closed_by for s in made), 'every stuck reader to close its source')
    assert len(made) == 3


def test_blocked_read_of_a_plain_source_reopens_when_it_returns(threads):
    """Without a factory a stuck read is counted, reported, and the source reopened after it."""
    gate = threading.Event()
    source = GatedSource(7, gate, block_at=3)
    recorder = Recorder()
    capture = start(threads, source, recorder, frame_timeout_s=0.1)
    wait_or_fail(lambda: capture.stats().counts.stuck_reads_total == 1,
                 'the stuck read to be counted')
    stats = capture.stats()
    assert stats.state == 'reconnecting' and stats.recovering_since is not None
    gate.set()
    wait_or_fail(lambda: source.open_calls == 2 and recorder.count() >= 5,
                 'frames after the reopen')
    assert MARKER not in levels(recorder)
    assert capture.stats().state == 'streaming'


def test_frozen_frames_count_as_errors_and_reopen(threads):
    """Identical frames for longer than frozen_timeout_s are errors; then the source reopens."""
    frozen = threading.Event()
    source = NoiseSource(frozen)
    recorder = Recorder()
    capture = start(threads, source, recorder, frozen_timeout_s=0.1, max_consecutive_errors=3)
    wait_or_fail(lambda: recorder.count() >= 5, 'live frames')
    frozen.set()
    wait_or_fail(lambda: capture.stats().counts.reinit_attempts >= 1 and source.open_calls >= 2,
                 'a reopen caused by frozen frames')
    stats = capture.stats()
    assert stats.counts.frozen_errors_total >= 4 and 'frozen' in stats.last_error
    with recorder._lock:
        frames = list(recorder.frames)
    # Repeats are never delivered (a stale view must not reach the tracker), only counted.
    assert not any(np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    assert stats.counts.duplicate_frames_total >= 1
    frozen.clear()
    count = recorder.count()
    wait_or_fail(lambda: recorder.count() >= count + 5 and capture.stats().state == 'streaming',
                 'fresh frames after the freeze')


def test_frozen_for_ever_fails_after_max_recovery_s(threads):
    """A camera that only repeats one frame is no progress: the capture gives up."""
    frozen = threading.Event()
    frozen.set()
    fatal = []
    capture = start(threads, NoiseSource(frozen), Recorder(), frozen_timeout_s=0.05,
                    max_consecutive_errors=3, max_recovery_s=0.4, on_fatal=fatal.append)
    wait_or_fail(lambda: not capture.alive, 'the capture to give up')
    stats = capture.stats()
    assert stats.state == 'failed' and stats.counts.frozen_errors_total > 0
    assert 'frozen' in stats.failure_reason
    assert fatal == [stats.failure_reason]


def test_sources_that_repeat_frames_are_not_frozen(threads):
    """A source with repeats_frames (a still video) may send identical frames."""
    frozen = threading.Event()
    frozen.set()
    capture = start(threads, NoiseSource(frozen, repeats_frames=True), Recorder(),
                    frozen_timeout_s=0.02)
    wait_or_fail(lambda: capture.stats().counts.frames_total >= 100, '100 frames')
    stats = capture.stats()
    assert stats.counts.frozen_errors_total == 0 and stats.counts.read_errors_total == 0


def test_black_frames_are_counted_not_errors(threads):
    """Black frames are a statistic; a dark frame with one bright pixel is not black."""
    black = np.zeros((24, 32, 3), np.uint8)
    capture = start(threads, NoiseSource(threading.Event(), image=black), Recorder(),
                    frozen_timeout_s=0.02)
    wait_or_fail(lambda: capture.stats().counts.frames_total >= 50, '50 black frames')
    capture.stop()
    stats = capture.stats()
    assert stats.counts.black_frames_total == stats.counts.frames_total
    assert stats.counts.read_errors_total == 0 and stats.counts.frozen_errors_total == 0
    spot = np.zeros((24, 32, 3), np.uint8)
    spot[5, 7, 1] = 200  # not on the sample grid: only the full scan sees it
    capture = start(threads, NoiseSource(threading.Event(), image=spot), Recorder(),
                    frozen_timeout_s=0.02)
    wait_or_fail(lambda: capture.stats().counts.frames_total >= 50, '50 dark frames')
    assert capture.stats().counts.black_frames_total == 0


def test_recovering_since_and_last_error_follow_the_recovery(threads):
    """While reconnecting the stats say since when and why; both clear with a frame."""
    source = ScriptedSource(opens=[False] * 3)
    recorder = Recorder()
    capture = start(threads, source, recorder, max_recovery_s=0.0, reopen_backoff_s=0.05,
                    reopen_backoff_max_s=0.05, clock_ns=lambda: 5_000_000_000)
    wait_or_fail(lambda: capture.stats().counts.reinit_attempts >= 1, 'a reopen attempt')
    stats = capture.stats()
    assert stats.state == 'reconnecting' and stats.recovering_since == 5.0
    assert '/dev/fake0' in stats.last_error
    wait_or_fail(lambda: recorder.count() >= 1, 'a frame once the camera opens')
    stats = capture.stats()
    assert stats.state == 'streaming' and stats.recovering_since is None


def test_max_recovery_s_fails_with_a_reason_and_calls_on_fatal_once(threads):
    """A camera that never opens: state failed, a reason naming what failed, on_fatal once."""
    fatal = []
    source = ScriptedSource(opens=[False] * 1000)
    capture = start(threads, source, Recorder(), max_recovery_s=0.3, on_fatal=fatal.append)
    wait_or_fail(lambda: not capture.alive, 'the capture to give up')
    stats = capture.stats()
    assert stats.state == 'failed'
    reason = stats.failure_reason
    assert 'no new camera frame' in reason and 'max_recovery_s 0.3' in reason
    assert f'{stats.counts.reinit_attempts} reopen attempts' in reason and '/dev/fake0' in reason
    assert fatal == [reason]
    assert not source.is_open


def test_a_callback_that_always_raises_ends_in_failed(threads):
    """Frames that never get through the callback are no progress either."""
    fatal = []
    capture = start(threads, ScriptedSource(), Recorder(raise_first=10 ** 9),
                    max_recovery_s=0.3, on_fatal=fatal.append, logger=ListLogger())
    wait_or_fail(lambda: not capture.alive, 'the capture to give up')
    assert capture.stats().state == 'failed'
    assert 'frame callback raised' in fatal[0]


def test_max_reopen_attempts_sets_the_reason_and_calls_on_fatal(threads):
    """Giving up after max_reopen_attempts also reports why and calls on_fatal once."""
    fatal = []
    capture = start(threads, ScriptedSource(opens=[False] * 100), Recorder(),
                    max_reopen_attempts=2, on_fatal=fatal.append)
    wait_or_fail(lambda: not capture.alive, 'the capture to give up')
    reason = capture.stats().failure_reason
    assert 'max_reopen_attempts 2' in reason and '/dev/fake0' in reason
    assert fatal == [reason]


def test_stop_from_on_fatal_does_not_deadlock(threads):
    """on_fatal may call stop(); the capture still ends in failed."""
    holder = {}

    def on_fatal(reason):
        """Stop the capture from inside the fatal callback."""
        holder['capture'].stop()

    capture = make(ScriptedSource(opens=[False] * 100), Recorder(),
                   reopen_backoff_s=0.01, reopen_backoff_max_s=0.02,
                   max_recovery_s=0.1, on_fatal=on_fatal, logger=ListLogger())
    holder['capture'] = capture
    threads.append(capture)
    capture.start()
    wait_or_fail(lambda: not capture.alive, 'the capture to end')
    assert capture.stats().state == 'failed'


def test_factory_builds_a_fresh_source_for_every_reopen(threads):
    """With a factory each reopen closes the old source and opens a new one."""
    made = []

    def factory():
        made.append(ScriptedSource(reads=['fail'] * 3 if not made else []))
        return made[-1]

    recorder = Recorder()
    capture = start(threads, factory, recorder, max_consecutive_errors=2)
    wait_or_fail(lambda: recorder.count() >= 3, 'frames of the second source')
    assert len(made) == 2 and capture.source is made[1]
    assert made[0].close_calls >= 1 and not made[0].is_open
    assert capture.stats().counts.reinit_attempts == 1
    capture.stop()
    assert not made[1].is_open


def test_a_factory_failing_at_reopen_is_a_failed_attempt(threads):
    """A factory that raises during recovery is retried like a failed open."""
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('factory hiccup')
        return ScriptedSource(reads=['fail'] * 2 if len(calls) == 1 else [])

    recorder = Recorder()
    capture = start(threads, factory, recorder, max_consecutive_errors=1)
    wait_or_fail(lambda: recorder.count() >= 3, 'frames after the factory recovered')
    assert capture.stats().counts.reinit_attempts == 2 and len(calls) == 3


def test_factory_errors_surface_at_construction():
    """Bad settings in the factory raise at construction; a non-source is refused."""
    def bad():
        raise ValueError('fps must be > 0, got -1')

    with pytest.raises(ValueError, match='fps'):
        make(bad, Recorder())
    with pytest.raises(ValueError, match='factory'):
        make(lambda: 42, Recorder())


@pytest.mark.parametrize('kwargs,name', [
    ({'frame_timeout_s': -1.0}, 'frame_timeout_s'),
    ({'frozen_timeout_s': math.nan}, 'frozen_timeout_s'),
    ({'max_recovery_s': -0.5}, 'max_recovery_s'),
    ({'open_timeout_s': 'soon'}, 'open_timeout_s'),
    ({'max_stuck_reads': -1}, 'max_stuck_reads'),
    ({'black_level': 300}, 'black_level'),
    ({'on_fatal': 5}, 'on_fatal'),
])
def test_bad_self_healing_settings_name_the_parameter(kwargs, name):
    """Bad watchdog settings name the parameter in the ValueError."""
    with pytest.raises(ValueError, match=name):
        make(ScriptedSource(), Recorder(), **kwargs)


def test_a_non_source_is_refused():
    """Something that is neither a source nor a factory is a ValueError naming source."""
    with pytest.raises(ValueError, match='source'):
        make(42, Recorder())
