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

The reader thread's code is in :mod:`~face_tracker_ros.camera.capture_reader`, the
supervisor's in :mod:`~face_tracker_ros.camera.capture_supervisor`; this module holds the
state they share, the public interface and the bookkeeping both use.
"""

import copy
from dataclasses import dataclass, field, replace
import logging
import threading
import time
import traceback
from typing import Any, Callable, List, Optional, Union

import numpy as np

from face_tracker_ros.camera.capture_reader import Reader, ReaderSide, SAMPLE_SIZE  # noqa: F401
from face_tracker_ros.camera.capture_supervisor import SupervisorSide
from face_tracker_ros.camera.frame_source import FrameSource
from face_tracker_ros.camera.params import CaptureConfig
from face_tracker_ros.common.checks import is_number
from face_tracker_ros.common.counters import Counters

STATES = ('starting', 'streaming', 'reconnecting', 'failed', 'stopped')

SourceFactory = Callable[[], FrameSource]

#: The capture's counts (:attr:`CaptureStats.counts`), in the order its status publishes them.
COUNTS = ('frames_total', 'read_errors_total', 'consecutive_errors', 'reinit_attempts',
          'stuck_reads_total', 'frozen_errors_total', 'duplicate_frames_total',
          'black_frames_total')


@dataclass
class CaptureStats:
    """A snapshot of the capture thread's state and counts.

    ``counts`` (:data:`COUNTS`): ``frames_total`` frames delivered,
    ``read_errors_total`` read errors, ``consecutive_errors`` the current run
    of them (a delivered frame resets it), ``reinit_attempts`` reopens,
    ``stuck_reads_total`` reads (and opens) that blocked past their timeout,
    ``frozen_errors_total`` frames rejected as frozen,
    ``duplicate_frames_total`` repeated frames dropped, ``black_frames_total``
    delivered frames whose brightest byte is below ``black_level``.

    ``last_frame_time`` is the capture clock (``clock_ns``, wall clock by
    default) in seconds when the last frame was read, or None before the
    first; ``recovering_since`` is that clock in seconds when the capture
    last left ``streaming`` for ``reconnecting`` (or failed to open at
    start), None while frames flow.  ``last_error`` is the last error's
    one-line reason, ``failure_reason`` why the capture gave up (empty unless
    ``state`` is ``failed``).
    """

    counts: Counters = field(default_factory=lambda: Counters(*COUNTS))
    state: str = 'stopped'
    last_frame_time: Optional[float] = None
    recovering_since: Optional[float] = None
    failure_reason: str = ''
    last_error: str = ''

    def copy(self) -> 'CaptureStats':
        """Return a copy that later counting does not change."""
        return replace(self, counts=copy.copy(self.counts))


class CaptureThread(SupervisorSide, ReaderSide):
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
    ``policy`` is the recovery policy (checked when it was made).
    """

    def __init__(self, source: Union[FrameSource, SourceFactory],
                 on_frame: Callable[[np.ndarray, int], None],
                 policy: CaptureConfig,
                 clock_ns: Callable[[], int] = time.time_ns, logger: Any = None,
                 on_fatal: Optional[Callable[[str], None]] = None) -> None:
        """Check the callbacks and the source (a factory is called once here)."""
        if not callable(on_frame):
            raise ValueError(f'on_frame must be callable, got {on_frame!r}')
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
        self._policy = policy
        self._clock_ns = clock_ns
        self._log = logger if logger is not None else logging.getLogger(__name__)
        shortest = min([t for t in (policy.frame_timeout_s, policy.open_timeout_s) if t > 0.0],
                       default=0.25)
        self._tick = min(0.05, max(0.005, shortest / 5.0))
        self._lock = threading.Lock()
        self._stats = CaptureStats()
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._reader: Optional[Reader] = None
        self._abandoned: List[Reader] = []
        self._generation = 0
        self._backoff = policy.reopen_backoff_s
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
            self._stats.counts.consecutive_errors = 0
            self._stats.failure_reason = ''
            self._fatal = False
            self._failed_reopens = 0
            self._backoff = self._policy.reopen_backoff_s
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
        """Return a consistent copy of the state and counts (thread-safe)."""
        with self._lock:
            return self._stats.copy()

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
            counts = self._stats.counts
            counts.read_errors_total += 1
            counts.consecutive_errors += 1
            if frozen:
                counts.frozen_errors_total += 1
            self._stats.last_error = reason or message
            run = counts.consecutive_errors
        if tb:
            self._log.error(f'{message} (error {run} in a row):\n{tb}')
        elif message:
            self._log.warning(message)
        return run > self._policy.max_consecutive_errors

    def _stamp_ns(self, source: FrameSource, now_ns: int) -> int:
        """Return the capture stamp of the frame ``source`` just read at ``now_ns``."""
        t = getattr(source, 'last_capture_time', None)
        if is_number(t):
            return int(round(t * 1e9))
        return now_ns


def _is_source(obj: Any) -> bool:
    """Whether ``obj`` looks like a frame source (has open, read and close)."""
    return isinstance(obj, FrameSource) or all(
        callable(getattr(obj, name, None)) for name in ('open', 'read', 'close'))
