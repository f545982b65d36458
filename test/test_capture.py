# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the capture thread: delivery, stamps, recovery, exceptions, stop."""

import itertools
import re
import threading
import time

import cv2
import numpy as np
import pytest

from face_tracker_ros.camera.capture import CaptureThread
from face_tracker_ros.camera.sources import FrameSource, SimSource, SourceError, VideoFileSource

DEADLINE_S = 10.0


def wait_for(predicate, what: str, deadline_s: float = DEADLINE_S) -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after the deadline."""
    end = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f'timed out waiting for {what}')
        time.sleep(0.002)


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


class ScriptedSource(FrameSource):
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
        self.open_calls = 0
        self.close_calls = 0
        self.counter = 0
        self._is_open = False

    @property
    def is_open(self) -> bool:
        """Whether the source is open."""
        return self._is_open

    def open(self) -> None:
        """Open, or raise SourceError when the open script says so."""
        self.open_calls += 1
        if self.hook:
            self.hook('open')
        if self.opens and not self.opens.pop(0):
            raise SourceError('scripted device /dev/fake0 is missing')
        self._is_open = True
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
        self._is_open = False

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


def start(threads, source, on_frame, **kwargs) -> CaptureThread:
    """Create, remember and start a capture thread with fast test backoffs."""
    kwargs.setdefault('logger', ListLogger())
    kwargs.setdefault('reopen_backoff_s', 0.01)
    kwargs.setdefault('reopen_backoff_max_s', 0.04)
    capture = CaptureThread(source, on_frame, **kwargs)
    threads.append(capture)
    capture.start()
    return capture


def test_frames_arrive_with_increasing_stamps_and_stop_closes(threads):
    """Frames arrive with increasing stamps; stop() ends the thread and closes."""
    source = ScriptedSource()
    recorder = Recorder()
    capture = start(threads, source, recorder, clock_ns=counting_clock_ns())
    wait_for(lambda: recorder.count() >= 10, '10 frames')
    assert capture.stats().state == 'streaming'
    capture.stop()
    assert not capture.alive
    stamps = list(recorder.stamps)
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert all(f.shape == (6, 8, 3) and f.dtype == np.uint8 for f in recorder.frames)
    stats = capture.stats()
    assert stats.state == 'stopped'
    assert stats.frames_total == len(stamps)
    assert stats.read_errors_total == 0 and stats.reinit_attempts == 0
    assert stats.last_frame_time is not None
    assert source.close_calls >= 1 and not source.is_open


def test_default_stamps_are_wall_clock_ns(threads):
    """Without a clock the stamps are wall-clock nanoseconds."""
    recorder = Recorder()
    before = time.time_ns()
    capture = start(threads, ScriptedSource(), recorder)
    wait_for(lambda: recorder.count() >= 3, '3 frames')
    capture.stop()
    after = time.time_ns()
    assert all(before <= s <= after for s in recorder.stamps)
    assert recorder.stamps == sorted(recorder.stamps)


def test_errors_up_to_the_limit_do_not_reopen(threads):
    """Exactly max_consecutive_errors failures do not reopen the source."""
    source = ScriptedSource(reads=['ok'] + ['fail'] * 5)
    recorder = Recorder()
    capture = start(threads, source, recorder, max_consecutive_errors=5)
    wait_for(lambda: recorder.count() >= 5, 'frames after the failures')
    stats = capture.stats()
    assert stats.read_errors_total == 5
    assert stats.consecutive_errors == 0
    assert stats.reinit_attempts == 0
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
    capture = CaptureThread(source, recorder, max_consecutive_errors=5, reopen_backoff_s=0.01,
                            reopen_backoff_max_s=0.04, logger=logger)
    holder['capture'] = capture
    threads.append(capture)
    capture.start()
    wait_for(lambda: recorder.count() >= 8, 'frames after recovery')
    stats = capture.stats()
    assert stats.reinit_attempts == 1
    assert stats.read_errors_total == 6
    assert stats.consecutive_errors == 0
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
    wait_for(lambda: recorder.count() >= 2, 'frames after the camera appears')
    stats = capture.stats()
    assert stats.reinit_attempts == 3
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
    wait_for(lambda: capture.stats().reinit_attempts == 6 and recorder.count() >= 3,
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
    wait_for(lambda: not capture.alive, 'the thread to give up')
    stats = capture.stats()
    assert stats.state == 'failed'
    assert stats.reinit_attempts == 2
    assert source.open_calls == 3


def test_exception_in_on_frame_does_not_kill_the_thread(threads):
    """Callback exceptions are logged with traceback and counted; capture goes on."""
    recorder = Recorder(raise_first=3)
    logger = ListLogger()
    capture = start(threads, ScriptedSource(), recorder, logger=logger)
    wait_for(lambda: recorder.count() >= 5, 'frames after the callback recovered')
    assert capture.alive
    stats = capture.stats()
    assert stats.read_errors_total == 3
    assert stats.reinit_attempts == 0
    tracebacks = [m for m in logger.messages('error') if 'Traceback' in m]
    assert len(tracebacks) == 3
    assert 'callback failure 1' in tracebacks[0]


def test_stop_interrupts_a_long_backoff(threads):
    """stop() ends a thread waiting in a long reopen backoff."""
    source = ScriptedSource(opens=[False] * 100)
    capture = start(threads, source, Recorder(), reopen_backoff_s=60.0,
                    reopen_backoff_max_s=60.0)
    wait_for(lambda: capture.stats().state == 'reconnecting', 'reconnecting')
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
    capture = CaptureThread(source, on_frame, logger=ListLogger())
    holder['capture'] = capture
    threads.append(capture)
    capture.start()
    wait_for(lambda: not capture.alive, 'the thread to end')
    assert len(frames) == 1
    assert not source.is_open
    assert capture.stats().state == 'stopped'


def test_stop_without_start_closes_the_source():
    """stop() on a never-started thread closes the source."""
    source = ScriptedSource()
    source.open()
    capture = CaptureThread(source, Recorder(), logger=ListLogger())
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
    wait_for(lambda: not capture.alive, 'the end of the video')
    stats = capture.stats()
    assert recorder.count() == 12
    assert stats.state == 'stopped'
    assert stats.read_errors_total == 0


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
    wait_for(lambda: len(seen) >= 5, '5 simulated frames')
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
    capture = CaptureThread(source, recorder)
    threads.append(capture)
    with caplog.at_level('INFO', logger='face_tracker_ros.camera.capture'):
        capture.start()
        wait_for(lambda: recorder.count() >= 1, 'a frame')
        capture.stop()
    assert 'scripted read exception' in caplog.text


@pytest.mark.parametrize('kwargs,name', [
    ({'max_consecutive_errors': -1}, 'max_consecutive_errors'),
    ({'reopen_backoff_s': 0.0}, 'reopen_backoff_s'),
    ({'reopen_backoff_s': 2.0, 'reopen_backoff_max_s': 1.0}, 'reopen_backoff_max_s'),
    ({'max_reopen_attempts': -2}, 'max_reopen_attempts'),
])
def test_bad_policy_names_the_parameter(kwargs, name):
    """Bad recovery settings name the parameter in the ValueError."""
    with pytest.raises(ValueError, match=name):
        CaptureThread(ScriptedSource(), Recorder(), **kwargs)
