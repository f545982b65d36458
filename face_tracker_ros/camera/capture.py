# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Capture in threads of its own, with camera self-healing and a frame-age watchdog.

A blocking ``read()`` of a camera must never stall the ROS executor, so a
:class:`CaptureThread` reads the source in a reader thread and hands every
frame to a callback; a supervisor thread watches the reader.

Recovery rules:

* Every failed read, every exception raised by the source or by the callback,
  and every frozen frame (below) counts as a read error.  When the run of
  consecutive errors exceeds ``max_consecutive_errors`` the source is closed
  and reopened after a backoff that doubles from ``reopen_backoff_s`` up to
  ``reopen_backoff_max_s`` with every reopen that is not followed by a new
  frame (it starts again from ``reopen_backoff_s`` once one has been
  delivered).  Every reopen attempt is counted in ``reinit_attempts``.  A
  source that cannot be opened at start is retried the same way.
* Blocked calls: a ``read()`` that has not returned after ``frame_timeout_s``
  (or two frame periods of the source's ``fps``, if longer; an ``open()``
  after ``open_timeout_s``) is a stuck call and counts as an error.  A stuck
  OpenCV call can be neither interrupted nor safely released from another
  thread, so with a source *factory* the reader is abandoned: a
  new reader with a fresh source from the factory takes over after the
  backoff, and the stuck reader closes its own source and ends if its call
  ever returns, without delivering anything.  Abandoned readers are counted
  in ``stuck_reads_total``; when more than ``max_stuck_reads`` are still stuck
  the capture fails.  With a plain source (no factory) the reader cannot be
  replaced: the capture reports ``reconnecting``, and reopens the source when
  the call returns (its frame is dropped).
* Frozen frames: a frame byte-identical to the one before is not delivered
  (counted in ``duplicate_frames_total``), and counts as an error once the
  frames have been identical for longer than ``frozen_timeout_s``
  (unless the source says identical frames are normal, ``repeats_frames``,
  e.g. a video file).  Black and uniform frames (a dark room, a covered lens)
  are never frozen; black ones are counted in ``black_frames_total``.
* Giving up: if no new frame has been delivered for ``max_recovery_s``
  (whatever the reason: failed opens or reads, stuck calls, frozen frames, a
  callback that always raises), or ``max_reopen_attempts`` reopens failed in
  a row, or too many readers are stuck, the capture ends in state ``failed``
  with ``failure_reason`` set and calls ``on_fatal(reason)`` once.  So every
  path that stops delivering frames ends in recovery or in ``failed``.

States: ``starting`` (opening, no frame yet), ``streaming`` (frames arrive;
single failed reads leave it there, see ``consecutive_errors``),
``reconnecting`` (error limit exceeded, open failed or a call is stuck:
closing and reopening), ``failed`` (gave up, see above; the threads have
ended or were abandoned) and ``stopped`` (after :meth:`CaptureThread.stop`,
or when a source with ``finished`` true, a non-looping video file, has run
out).  No thread dies from an exception.
"""

from dataclasses import dataclass, replace
import logging
import math
import threading
import time
import traceback
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np

from face_tracker_ros.camera.sources import FrameSource, SourceError

STATES = ('starting', 'streaming', 'reconnecting', 'failed', 'stopped')

#: Pixels (bytes) sampled per frame for the frozen and black checks.
SAMPLE_SIZE = 256

SourceFactory = Callable[[], FrameSource]


@dataclass
class CaptureStats:
    """A snapshot of the capture thread's counters.

    ``last_frame_time`` is the capture clock (``clock_ns``, wall clock by
    default) in seconds when the last frame was read, or None before the
    first; ``recovering_since`` is that clock in seconds when the capture
    last left ``streaming`` for ``reconnecting`` (or failed to open at
    start), None while frames flow.  ``last_error`` is the last error's
    one-line reason, ``failure_reason`` why the capture gave up (empty unless
    ``state`` is ``failed``).  ``stuck_reads_total`` counts reads (and opens)
    that blocked past their timeout, ``frozen_errors_total`` frames rejected
    as frozen, ``black_frames_total`` delivered frames whose brightest byte is
    below ``black_level``.
    """

    frames_total: int = 0
    read_errors_total: int = 0
    consecutive_errors: int = 0
    reinit_attempts: int = 0
    last_frame_time: Optional[float] = None
    state: str = 'stopped'
    stuck_reads_total: int = 0
    frozen_errors_total: int = 0
    duplicate_frames_total: int = 0
    black_frames_total: int = 0
    recovering_since: Optional[float] = None
    failure_reason: str = ''
    last_error: str = ''


class _Reader:
    """One reader thread and the source it owns (bookkeeping under the capture lock)."""

    def __init__(self, generation: int, source: Optional[FrameSource]) -> None:
        self.generation = generation
        self.source = source
        self.thread: Optional[threading.Thread] = None
        self.busy_what = ''  # 'open' or 'read' while inside that call of the source
        self.busy_since: Optional[float] = None  # monotonic start of that call
        self.abandoned = False  # replaced: never deliver, close the source and end
        self.timed_out = False  # plain source: the current read timed out, reopen after it


class CaptureThread:
    """Reads a frame source in a thread and calls ``on_frame(frame, stamp_ns)``; self-healing.

    ``source`` is either a source factory (a callable returning a fresh,
    unopened :class:`FrameSource`; it is called once here, so bad settings
    raise ValueError at construction, and again for every reopen) or a plain
    source (kept for compatibility: it is reopened in place and a stuck read
    cannot be replaced).  ``stamp_ns`` is the capture time: ``clock_ns()``
    taken right after ``read()`` returned, or, for a source with a numeric
    ``last_capture_time`` (seconds, e.g. a simulated source), that time, so
    image and simulated truth agree.  ``on_frame`` runs in a reader thread;
    there :attr:`source` is the source that produced the frame, whose
    per-frame attributes (``last_truth``) it may read.  ``on_frame`` must not
    modify the frame in place (the next frame is compared with it).
    ``on_fatal(reason)`` is called once, from a capture thread, when the
    capture gives up (see the module notes); it may call :meth:`stop`.
    Timeouts of 0 disable their check.
    """

    def __init__(self, source: Union[FrameSource, SourceFactory],
                 on_frame: Callable[[np.ndarray, int], None],
                 max_consecutive_errors: int = 10, reopen_backoff_s: float = 0.5,
                 reopen_backoff_max_s: float = 5.0,
                 clock_ns: Callable[[], int] = time.time_ns, logger: Any = None,
                 max_reopen_attempts: int = 0, frame_timeout_s: float = 2.0,
                 frozen_timeout_s: float = 2.0, max_recovery_s: float = 60.0,
                 on_fatal: Optional[Callable[[str], None]] = None,
                 open_timeout_s: float = 10.0, max_stuck_reads: int = 3,
                 black_level: int = 10) -> None:
        """Validate the policy; ``max_reopen_attempts`` 0 means retry for ever."""
        if not callable(on_frame):
            raise ValueError(f'on_frame must be callable, got {on_frame!r}')
        _check_count('max_consecutive_errors', max_consecutive_errors)
        if not _finite(reopen_backoff_s) or reopen_backoff_s <= 0.0:
            raise ValueError(f'reopen_backoff_s must be > 0, got {reopen_backoff_s!r}')
        if not _finite(reopen_backoff_max_s) or reopen_backoff_max_s < reopen_backoff_s:
            raise ValueError('reopen_backoff_max_s must be >= reopen_backoff_s '
                             f'({reopen_backoff_s}), got {reopen_backoff_max_s!r}')
        _check_count('max_reopen_attempts', max_reopen_attempts, ' (0 = for ever)')
        for name, value in (('frame_timeout_s', frame_timeout_s),
                            ('frozen_timeout_s', frozen_timeout_s),
                            ('max_recovery_s', max_recovery_s),
                            ('open_timeout_s', open_timeout_s)):
            if not _finite(value) or value < 0.0:
                raise ValueError(f'{name} must be a number of seconds >= 0 (0 = off), got '
                                 f'{value!r}')
        _check_count('max_stuck_reads', max_stuck_reads)
        if isinstance(black_level, bool) or not isinstance(black_level, int) or \
                not 0 <= black_level <= 256:
            raise ValueError(f'black_level must be an integer from 0 to 256 (0 = do not count '
                             f'black frames), got {black_level!r}')
        if on_fatal is not None and not callable(on_fatal):
            raise ValueError(f'on_fatal must be callable or None, got {on_fatal!r}')
        if _is_source(source):
            self._factory: Optional[SourceFactory] = None
            self._initial: FrameSource = source  # type: ignore[assignment]
        elif callable(source):
            self._factory = source
            self._initial = self._build_source()
        else:
            raise ValueError('source must be a frame source or a callable returning a fresh '
                             f'frame source, got {source!r}')
        self._initial_used = False
        self._on_frame = on_frame
        self._on_fatal = on_fatal
        self._max_errors = max_consecutive_errors
        self._backoff_min = float(reopen_backoff_s)
        self._backoff_max = float(reopen_backoff_max_s)
        self._max_reopens = max_reopen_attempts
        self._frame_timeout = float(frame_timeout_s)
        self._open_timeout = float(open_timeout_s)
        self._frozen_timeout = float(frozen_timeout_s)
        self._max_recovery = float(max_recovery_s)
        self._max_stuck = max_stuck_reads
        self._black_level = black_level
        self._clock_ns = clock_ns
        self._log = logger if logger is not None else logging.getLogger(__name__)
        shortest = min([t for t in (self._frame_timeout, self._open_timeout) if t > 0.0],
                       default=0.25)
        self._tick = min(0.05, max(0.005, shortest / 5.0))
        self._lock = threading.Lock()
        self._stats = CaptureStats()
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._reader: Optional[_Reader] = None
        self._abandoned: List[_Reader] = []
        self._generation = 0
        self._backoff = self._backoff_min
        self._failed_reopens = 0
        self._progress = time.monotonic()
        self._fatal = False
        # Frozen-frame detection (touched only by the one reader that may deliver).
        self._prev: Optional[np.ndarray] = None
        self._prev_sample: Optional[bytes] = None
        self._same_since = 0.0
        self._sample_index: Optional[np.ndarray] = None

    # -- public ----------------------------------------------------------------------------

    @property
    def source(self) -> FrameSource:
        """The source being read (in ``on_frame``: the one that produced the frame)."""
        with self._lock:
            reader = self._reader
            if reader is not None and reader.source is not None:
                return reader.source
            return self._initial

    @property
    def alive(self) -> bool:
        """Whether the capture is running (its supervisor thread has not ended)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start capturing (does nothing while already running)."""
        if self.alive:
            return
        self._stop_event.clear()
        with self._lock:
            self._stats.state = 'starting'
            self._stats.consecutive_errors = 0
            self._stats.failure_reason = ''
            self._fatal = False
            self._failed_reopens = 0
            self._backoff = self._backoff_min
            self._progress = time.monotonic()
        self._thread = threading.Thread(target=self._supervise, name='capture', daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop capturing, wait up to ``timeout`` s for the threads, close the source.

        A read still blocked then closes its source itself when it returns
        (closing it from here while OpenCV reads it is unsafe); a warning says
        so.  Called from ``on_frame`` or ``on_fatal`` it only asks the threads
        to end.
        """
        self._stop_event.set()
        thread = self._thread
        if thread is None:
            self._close(self._initial)
            with self._lock:
                self._stats.state = 'stopped'
            return
        current = threading.current_thread()
        with self._lock:
            readers = [self._reader] + self._abandoned
        if thread is current or any(r is not None and r.thread is current for r in readers):
            return
        thread.join(timeout)
        if thread.is_alive():
            self._log.warning(f'capture did not stop within {timeout:g} s (a call of '
                              f'{self.source.kind} is blocked); the source is closed when the '
                              'call returns')

    def stats(self) -> CaptureStats:
        """Return a consistent copy of the counters (thread-safe)."""
        with self._lock:
            return replace(self._stats)

    # -- helpers ---------------------------------------------------------------------------

    def _build_source(self) -> FrameSource:
        """Call the factory; raise ValueError when it returns something else than a source."""
        assert self._factory is not None
        source = self._factory()
        if not _is_source(source):
            raise ValueError(f'the source factory must return a frame source, got {source!r}')
        return source

    def _describe(self, source: Optional[FrameSource]) -> str:
        if source is None:
            return 'no source'
        try:
            return source.describe()
        except Exception:
            return str(getattr(source, 'kind', type(source).__name__))

    def _close(self, source: Optional[FrameSource]) -> None:
        if source is None:
            return
        try:
            source.close()
        except Exception:
            self._log.error('closing the camera source failed:\n' + traceback.format_exc())

    def _set_state_locked(self, state: str) -> None:
        """Set the state (lock held); ``failed`` is final until the next start."""
        if self._stats.state == 'failed':
            return
        if state == 'reconnecting' and self._stats.recovering_since is None:
            self._stats.recovering_since = self._clock_ns() / 1e9
        self._stats.state = state

    def _fail(self, reason: str) -> None:
        """Give up: state ``failed``, ``failure_reason``, threads end, ``on_fatal`` once."""
        with self._lock:
            if self._fatal or self._stop_event.is_set():
                return
            self._fatal = True
            self._stats.state = 'failed'
            self._stats.failure_reason = reason
        self._stop_event.set()
        self._log.error(f'camera capture failed: {reason}')
        if self._on_fatal is not None:
            try:
                self._on_fatal(reason)
            except Exception:
                self._log.error('on_fatal raised:\n' + traceback.format_exc())

    def _count_error(self, message: str, tb: str = '', reason: str = '',
                     frozen: bool = False) -> bool:
        """Count one read error and log it (with ``tb``, a traceback, as an error).

        Returns True when the run of consecutive errors exceeds the limit.
        """
        with self._lock:
            self._stats.read_errors_total += 1
            self._stats.consecutive_errors += 1
            if frozen:
                self._stats.frozen_errors_total += 1
            self._stats.last_error = reason or message
            run = self._stats.consecutive_errors
        if tb:
            self._log.error(f'{message} (error {run} in a row):\n{tb}')
        elif message:
            self._log.warning(message)
        return run > self._max_errors

    def _stamp_ns(self, source: FrameSource, now_ns: int) -> int:
        """Return the capture stamp of the frame ``source`` just read at ``now_ns``."""
        t = getattr(source, 'last_capture_time', None)
        if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t):
            return int(round(t * 1e9))
        return now_ns

    # -- supervisor ------------------------------------------------------------------------

    def _supervise(self) -> None:
        try:
            source = self._initial
            if self._initial_used and self._factory is not None:
                source = self._build_source()
            self._initial_used = True
            self._spawn_reader(source, reopen=False)
            while not self._stop_event.wait(self._tick):
                self._watch()
        except Exception:  # the watch catches its own failures; belt and braces
            self._log.error('camera supervisor crashed:\n' + traceback.format_exc())
            self._fail('the camera supervisor thread crashed: '
                       + traceback.format_exc().strip().splitlines()[-1])
        finally:
            self._finish()

    def _spawn_reader(self, source: Optional[FrameSource], reopen: bool) -> None:
        with self._lock:
            self._generation += 1
            reader = _Reader(self._generation, source)
            reader.thread = threading.Thread(
                target=self._reader_main, args=(reader, reopen),
                name=f'capture-reader-{reader.generation}', daemon=True)
            self._reader = reader
        reader.thread.start()

    def _watch(self) -> None:
        """One supervisor check: stuck calls, a reader that vanished, recovery time."""
        now = time.monotonic()
        with self._lock:
            reader = self._reader
            what, since = (reader.busy_what, reader.busy_since) if reader else ('', None)
            progress = self._progress
        if reader is not None and reader.thread is not None and not reader.thread.is_alive() \
                and not self._stop_event.is_set():
            self._fail('the camera reader thread ended unexpectedly')
            return
        if since is not None:
            limit = self._call_limit(reader, what)
            if limit > 0.0 and now - since > limit:
                self._on_stuck(reader, what, limit)
        if self._max_recovery > 0.0 and now - progress > self._max_recovery:
            self._fail(self._recovery_reason(now - progress))

    def _call_limit(self, reader: _Reader, what: str) -> float:
        """Return how long the reader's ``what`` call may take (0 = no limit).

        A read may always take two frame periods of the source's rate, so a
        paced source of a low rate (a video file at 0.5 Hz) is never stuck.
        """
        if what != 'read':
            return self._open_timeout
        if self._frame_timeout <= 0.0:
            return 0.0
        try:
            fps = float(getattr(reader.source, 'fps', 0.0) or 0.0)
        except (TypeError, ValueError):
            fps = 0.0
        period = 1.0 / fps if math.isfinite(fps) and fps > 0.0 else 0.0
        return max(self._frame_timeout, 2.0 * period)

    def _on_stuck(self, reader: _Reader, what: str, limit: float) -> None:
        """Count a call blocked past ``limit`` and replace its reader (or wait for it)."""
        description = self._describe(reader.source)
        message = f'camera {what} blocked for more than {limit:g} s ({description})'
        with self._lock:
            if reader is not self._reader or reader.busy_since is None or reader.abandoned \
                    or reader.timed_out or self._stop_event.is_set():
                return  # it returned meanwhile, or was handled already
            self._stats.stuck_reads_total += 1
            self._stats.read_errors_total += 1
            self._stats.consecutive_errors += 1
            self._stats.last_error = message
            self._set_state_locked('reconnecting')
            if self._factory is None:
                reader.timed_out = True
            else:
                reader.abandoned = True
                self._abandoned.append(reader)
            self._abandoned = [r for r in self._abandoned
                               if r.thread is not None and r.thread.is_alive()]
            stuck = len(self._abandoned)
        if self._factory is None:
            self._log.error(f'{message}: it is reopened when the call returns (a source '
                            'factory would let a new reader take over)')
            return
        if stuck > self._max_stuck:
            self._fail(f'{stuck} camera reads or opens are blocked and never returned (more '
                       f'than max_stuck_reads {self._max_stuck}); the driver is hung; last '
                       f'error: {message}')
            return
        self._log.error(f'{message}: abandoning that reader ({stuck} stuck) and reopening a '
                        'fresh source')
        self._spawn_reader(None, reopen=True)

    def _recovery_reason(self, idle: float) -> str:
        with self._lock:
            st = replace(self._stats)
            reader = self._reader
        source = reader.source if reader is not None and reader.source is not None \
            else self._initial
        return (f'no new camera frame for {idle:.1f} s (max_recovery_s '
                f'{self._max_recovery:g}) from {self._describe(source)}: state {st.state}, '
                f'{st.reinit_attempts} reopen attempts, {st.read_errors_total} read errors, '
                f'{st.stuck_reads_total} blocked calls, {st.frozen_errors_total} frozen '
                f"frames; last error: {st.last_error or 'none'}")

    def _finish(self) -> None:
        """Let the active reader end (it closes its source) unless it is stuck; final state."""
        while True:
            with self._lock:
                reader = self._reader
                since = reader.busy_since if reader is not None else None
                what = reader.busy_what if reader is not None else ''
            if reader is None or reader.thread is None or not reader.thread.is_alive():
                break
            limit = self._call_limit(reader, what)
            if since is not None and limit > 0.0 and time.monotonic() - since > limit:
                with self._lock:
                    if reader.busy_since is not None:
                        reader.abandoned = True  # it closes its source when the call returns
                        self._abandoned.append(reader)
                        break
            reader.thread.join(self._tick)
        with self._lock:
            if self._stats.state != 'failed':
                self._stats.state = 'stopped'

    # -- reader ----------------------------------------------------------------------------

    def _reader_main(self, reader: _Reader, reopen: bool) -> None:
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

    def _call(self, reader: _Reader, what: str,
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

    def _open(self, reader: _Reader) -> Optional[bool]:
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

    def _prepare_reopen(self, reader: _Reader) -> Optional[bool]:
        """Wait the backoff and count a reopen; give the reader a fresh source from the factory.

        Returns True to go on and open, False if the factory failed (a failed
        attempt) and None to end the reader (stop, or gave up).
        """
        with self._lock:
            failed = self._failed_reopens
            backoff = self._backoff
            self._backoff = min(self._backoff * 2.0, self._backoff_max)
        if self._max_reopens and failed >= self._max_reopens:
            with self._lock:
                last = self._stats.last_error or 'none'
            self._fail(f'the camera could not be reopened: {failed} reopen attempts failed in '
                       f'a row (max_reopen_attempts {self._max_reopens}); last error: {last}')
            return None
        if self._stop_event.wait(backoff):
            return None
        with self._lock:
            self._stats.reinit_attempts += 1
            attempt = self._stats.reinit_attempts
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

    def _reader_loop(self, reader: _Reader, reopen: bool) -> None:
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
                        self._stats.consecutive_errors = 0
                    elif reopen:
                        self._failed_reopens += 1
                reopen = True
                need_open = not opened
                continue
            outcome = self._read_once(reader)
            if outcome == 'end':
                return
            with self._lock:
                run = self._stats.consecutive_errors
                exceeded = run > self._max_errors
                if exceeded:
                    self._set_state_locked('reconnecting')
            if exceeded:
                self._log.error(f'{run} consecutive camera errors (limit {self._max_errors}): '
                                'closing and reopening the camera')
            if exceeded or outcome == 'reopen':
                self._close(reader.source)
                need_open = True

    def _read_once(self, reader: _Reader) -> str:
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
                first = self._stats.consecutive_errors == 0
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
                first = self._stats.consecutive_errors == 0
            reason = (f'camera frames frozen: byte-identical for more than '
                      f'{self._frozen_timeout:g} s')
            self._count_error(reason if first else '', reason=reason, frozen=True)
            return 'next'
        if verdict == 'repeat':
            # A repeated buffer carries no new image: publishing it would make the tracker
            # act on a stale view (and drive the head away). Dropped, counted.
            with self._lock:
                self._stats.duplicate_frames_total += 1
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
        if self._black_level and high < self._black_level \
                and int(frame.max()) < self._black_level:
            with self._lock:
                self._stats.black_frames_total += 1
            self._prev = None
            return 'fresh'
        if low == high or self._frozen_timeout <= 0.0 or \
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
        return 'frozen' if now - self._same_since > self._frozen_timeout else 'repeat'

    def _deliver(self, source: FrameSource, frame: np.ndarray, progress: bool) -> None:
        """Count a frame and pass it to ``on_frame``; a new frame resets backoff and timer."""
        now_ns = self._clock_ns()
        stamp_ns = self._stamp_ns(source, now_ns)
        with self._lock:
            if self._stats.state == 'failed' or self._stop_event.is_set():
                return
            self._stats.frames_total += 1
            self._stats.last_frame_time = now_ns / 1e9
            self._stats.consecutive_errors = 0
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
                self._backoff = self._backoff_min


def _is_source(obj: Any) -> bool:
    """Whether ``obj`` looks like a frame source (has open, read and close)."""
    return isinstance(obj, FrameSource) or all(
        callable(getattr(obj, name, None)) for name in ('open', 'read', 'close'))


def _check_count(name: str, value: Any, note: str = '') -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f'{name} must be an integer >= 0{note}, got {value!r}')


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
