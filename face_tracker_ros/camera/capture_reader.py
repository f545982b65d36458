# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The reader half of :class:`~face_tracker_ros.camera.capture.CaptureThread`.

A reader thread owns one source: it opens it (after the backoff when it is a
reopen), reads frames, classifies them (fresh, repeated, frozen, black) and
delivers the fresh ones; every failure is counted on the capture's stats.  The
supervisor half (:mod:`~face_tracker_ros.camera.capture_supervisor`) replaces a
reader whose call is stuck.  Both halves share the capture's lock and state.
"""

import threading
import time
import traceback
from typing import Any, Callable, Optional, Tuple

import numpy as np

from face_tracker_ros.camera.frame_source import FrameSource, SourceError

#: Pixels (bytes) sampled per frame for the frozen and black checks.
SAMPLE_SIZE = 256


class Reader:
    """One reader thread and the source it owns (bookkeeping under the capture lock)."""

    def __init__(self, generation: int, source: Optional[FrameSource]) -> None:
        self.generation = generation
        self.source = source
        self.thread: Optional[threading.Thread] = None
        self.busy_what = ''  # 'open' or 'read' while inside that call of the source
        self.busy_since: Optional[float] = None  # monotonic start of that call
        self.abandoned = False  # replaced: never deliver, close the source and end
        self.timed_out = False  # plain source: the current read timed out, reopen after it


class ReaderSide:
    """The reader thread's methods of :class:`CaptureThread` (a mixin: no state of its own)."""

    def _reader_main(self, reader: Reader, reopen: bool) -> None:
        try:
            self._reader_loop(reader, reopen)
        except Exception:  # the loop catches everything itself; belt and braces
            self._log.error('camera reader crashed:\n' + traceback.format_exc())
            self._fail('the camera reader thread crashed: '
                       + traceback.format_exc().strip().splitlines()[-1])
        finally:
            self._close(reader.source)
            if reader.abandoned:
                self._log.info(f'an abandoned camera call returned; its source '
                               f'({self._describe(reader.source)}) is closed')

    def _call(self, reader: Reader, what: str,
              fn: Callable[[], Any]) -> Tuple[str, Any]:
        """Call the source's ``what`` under the watchdog.

        Returns ``(status, value)``: ``('ok', result)``, ``('raised', (exc,
        traceback))``, ``('abandoned', None)`` (the reader was replaced while
        blocked: it must end now) or, for a timed-out read of a plain source,
        ``('late', None)``.
        """
        with self._lock:
            reader.busy_what = what
            reader.busy_since = time.monotonic()
        try:
            status, value = 'ok', fn()
        except Exception as exc:
            status, value = 'raised', (exc, traceback.format_exc())
        with self._lock:
            reader.busy_what = ''
            reader.busy_since = None
            if reader.abandoned:
                return 'abandoned', None
            late, reader.timed_out = reader.timed_out, False
        if late and what == 'read':
            return 'late', None
        return status, value

    def _open(self, reader: Reader) -> Optional[bool]:
        """Open the reader's source; log and return False on failure, None if abandoned."""
        source = reader.source
        assert source is not None
        status, value = self._call(reader, 'open', source.open)
        if status == 'abandoned':
            return None
        if status == 'raised':
            exc, tb = value
            if isinstance(exc, SourceError):
                reason = str(exc)
                self._log.error(f'opening the camera failed: {reason}')
            else:
                reason = f'opening the camera raised {type(exc).__name__}: {exc}'
                self._log.error(f'opening the camera raised:\n{tb}')
            self._close(source)
            with self._lock:
                self._stats.last_error = reason
                self._set_state_locked('reconnecting')
            return False
        self._log.info(f'camera opened: {self._describe(source)}')
        return True

    def _prepare_reopen(self, reader: Reader) -> Optional[bool]:
        """Wait the backoff and count a reopen; give the reader a fresh source from the factory.

        Returns True to go on and open, False if the factory failed (a failed
        attempt) and None to end the reader (stop, or gave up).
        """
        with self._lock:
            failed = self._failed_reopens
            backoff = self._backoff
            self._backoff = min(self._backoff * 2.0, self._policy.reopen_backoff_max_s)
        limit = self._policy.max_reopen_attempts
        if limit and failed >= limit:
            with self._lock:
                last = self._stats.last_error or 'none'
            self._fail(f'the camera could not be reopened: {failed} reopen attempts failed in '
                       f'a row (max_reopen_attempts {limit}); last error: {last}')
            return None
        if self._stop_event.wait(backoff):
            return None
        with self._lock:
            self._stats.counts.reinit_attempts += 1
            attempt = self._stats.counts.reinit_attempts
        self._log.info(f'reinitialising the camera (attempt {attempt}, after {backoff:g} s)')
        if self._factory is None:
            return True
        self._close(reader.source)
        try:
            source = self._build_source()
        except Exception as exc:
            reason = f'the source factory raised {type(exc).__name__}: {exc}'
            self._log.error(f'{reason}:\n{traceback.format_exc()}')
            with self._lock:
                self._stats.last_error = reason
                self._set_state_locked('reconnecting')
            return False
        with self._lock:
            reader.source = source
        return True

    def _reader_loop(self, reader: Reader, reopen: bool) -> None:
        need_open = True
        while not self._stop_event.is_set():
            if need_open:
                if reopen:
                    ready = self._prepare_reopen(reader)
                    if ready is None:
                        return
                    opened: Optional[bool] = self._open(reader) if ready else False
                else:
                    opened = self._open(reader)
                if opened is None:
                    return
                with self._lock:
                    if opened:
                        self._failed_reopens = 0
                        self._stats.counts.consecutive_errors = 0
                    elif reopen:
                        self._failed_reopens += 1
                reopen = True
                need_open = not opened
                continue
            outcome = self._read_once(reader)
            if outcome == 'end':
                return
            limit = self._policy.max_consecutive_errors
            with self._lock:
                run = self._stats.counts.consecutive_errors
                exceeded = run > limit
                if exceeded:
                    self._set_state_locked('reconnecting')
            if exceeded:
                self._log.error(f'{run} consecutive camera errors (limit {limit}): '
                                'closing and reopening the camera')
            if exceeded or outcome == 'reopen':
                self._close(reader.source)
                need_open = True

    def _read_once(self, reader: Reader) -> str:
        """Read one frame and deliver or count it.

        Returns ``'next'``, ``'reopen'`` (a timed-out read of a plain source
        returned: reopen it) or ``'end'`` (the reader must end).
        """
        source = reader.source
        assert source is not None
        status, value = self._call(reader, 'read', source.read)
        if status == 'abandoned' or self._stop_event.is_set():
            return 'end'
        if status == 'late':
            self._log.warning('the blocked camera read returned late: its frame is dropped and '
                              'the camera reopened')
            return 'reopen'
        if status == 'raised':
            self._count_error('camera read raised', tb=value[1],
                              reason=f'camera read raised {type(value[0]).__name__}: '
                                     f'{value[0]}')
            return 'next'
        frame = value
        if frame is None:
            if getattr(source, 'finished', False) is True:
                self._log.info(f'camera source {source.kind} finished (end of video); capture '
                               'stops')
                self._stop_event.set()
                return 'end'
            with self._lock:
                first = self._stats.counts.consecutive_errors == 0
            reason = getattr(source, 'last_error', '') or 'no frame'
            self._count_error(f'camera read failed: {reason}' if first else '',
                              reason=f'camera read failed: {reason}')
            return 'next'
        if not isinstance(frame, np.ndarray) or frame.size == 0:
            self._count_error(f'camera read returned {type(frame).__name__}, not an image')
            return 'next'
        verdict = self._inspect(source, frame)
        if verdict == 'frozen':
            with self._lock:
                first = self._stats.counts.consecutive_errors == 0
            reason = (f'camera frames frozen: byte-identical for more than '
                      f'{self._policy.frozen_timeout_s:g} s')
            self._count_error(reason if first else '', reason=reason, frozen=True)
            return 'next'
        if verdict == 'repeat':
            # A repeated buffer carries no new image: publishing it would make the tracker
            # act on a stale view (and drive the head away). Dropped, counted.
            with self._lock:
                self._stats.counts.duplicate_frames_total += 1
            return 'next'
        self._deliver(source, frame, progress=True)
        return 'next'

    def _samples(self, frame: np.ndarray) -> np.ndarray:
        """Return ``SAMPLE_SIZE`` bytes of ``frame`` spread evenly over its buffer."""
        flat = frame.reshape(-1)
        index = self._sample_index
        if index is None or index.size == 0 or index[-1] != flat.size - 1:
            index = np.linspace(0, flat.size - 1, min(SAMPLE_SIZE, flat.size)).astype(np.intp)
            self._sample_index = index
        return flat[index]

    def _inspect(self, source: FrameSource, frame: np.ndarray) -> str:
        """Classify a frame: ``fresh``, ``repeat`` (identical, not yet frozen) or ``frozen``.

        Counts black frames.  Samples a few hundred bytes first; the whole
        buffer is compared (or scanned) only when the samples match (are dark).
        """
        # The sample as bytes: min, max and comparison by the interpreter's own builtins, which
        # cost less than numpy's calls when the camera thread wakes for a frame.
        sample = self._samples(frame).tobytes()
        low, high = min(sample), max(sample)
        black = self._policy.black_level
        if black and high < black and int(frame.max()) < black:
            with self._lock:
                self._stats.counts.black_frames_total += 1
            self._prev = None
            return 'fresh'
        if low == high or self._policy.frozen_timeout_s <= 0.0 or \
                getattr(source, 'repeats_frames', False) is True:
            self._prev = None  # uniform frames (clipped, no noise) are never judged frozen
            return 'fresh'
        now = time.monotonic()
        prev, prev_sample = self._prev, self._prev_sample
        same = prev is not None and prev_sample == sample and (
            prev is frame or (prev.shape == frame.shape and prev.dtype == frame.dtype
                              and np.array_equal(prev, frame)))
        self._prev, self._prev_sample = frame, sample
        if not same:
            self._same_since = now
            return 'fresh'
        return 'frozen' if now - self._same_since > self._policy.frozen_timeout_s else 'repeat'

    def _deliver(self, source: FrameSource, frame: np.ndarray, progress: bool) -> None:
        """Count a frame and pass it to ``on_frame``; a new frame resets backoff and timer."""
        now_ns = self._clock_ns()
        stamp_ns = self._stamp_ns(source, now_ns)
        with self._lock:
            if self._stats.state == 'failed' or self._stop_event.is_set():
                return
            self._stats.counts.frames_total += 1
            self._stats.last_frame_time = now_ns / 1e9
            self._stats.counts.consecutive_errors = 0
            self._stats.state = 'streaming'
            self._stats.recovering_since = None
        try:
            self._on_frame(frame, stamp_ns)
        except Exception as exc:
            self._count_error('frame callback raised', tb=traceback.format_exc(),
                              reason=f'frame callback raised {type(exc).__name__}: {exc}')
            return
        if progress:
            with self._lock:
                self._progress = time.monotonic()
                self._backoff = self._policy.reopen_backoff_s
