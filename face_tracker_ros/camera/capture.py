# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Capture in a thread of its own, with the seed's camera auto-recovery.

A blocking ``read()`` of a camera must never stall the ROS executor, so a
:class:`CaptureThread` reads the source and hands every frame to a callback.

Recovery rule (from the seed): every failed read, and every exception raised
by the source or by the callback, counts as a read error.  When the run of
consecutive errors exceeds ``max_consecutive_errors`` the source is closed
and reopened after a backoff that doubles from ``reopen_backoff_s`` up to
``reopen_backoff_max_s`` with every reopen that is not followed by a frame
(it starts again from ``reopen_backoff_s`` once a frame has been delivered).
Every reopen attempt is counted in ``reinit_attempts``.  A source that cannot
be opened at start is retried the same way.  The thread never dies from an
exception.

States: ``starting`` (opening, no frame yet), ``streaming`` (frames arrive;
single failed reads leave it there, see ``consecutive_errors``),
``reconnecting`` (error limit exceeded or open failed: closing and reopening),
``failed`` (``max_reopen_attempts`` reopens failed in a row; the thread has
ended) and ``stopped`` (after :meth:`CaptureThread.stop`, or when a source
with ``finished`` true, a non-looping video file, has run out).
"""

from dataclasses import dataclass, replace
import logging
import math
import threading
import time
import traceback
from typing import Any, Callable, Optional, Tuple

import numpy as np

from face_tracker_ros.camera.sources import FrameSource, SourceError

STATES = ('starting', 'streaming', 'reconnecting', 'failed', 'stopped')


@dataclass
class CaptureStats:
    """A snapshot of the capture thread's counters.

    ``last_frame_time`` is the capture clock (``clock_ns``, wall clock by
    default) in seconds when the last frame was read, or None before the
    first; a growing age while ``state`` is ``streaming`` means a read is
    blocked.
    """

    frames_total: int = 0
    read_errors_total: int = 0
    consecutive_errors: int = 0
    reinit_attempts: int = 0
    last_frame_time: Optional[float] = None
    state: str = 'stopped'


class CaptureThread:
    """Reads a :class:`FrameSource` in a daemon thread and calls ``on_frame(frame, stamp_ns)``.

    ``stamp_ns`` is the capture time: ``clock_ns()`` taken right after
    ``read()`` returned, or, for a source with a numeric ``last_capture_time``
    (seconds, e.g. :class:`SimSource`), that time, so image and simulated
    truth agree.  ``on_frame`` runs in the capture thread; it may read the
    source's per-frame attributes (``last_truth``) safely there.
    """

    def __init__(self, source: FrameSource, on_frame: Callable[[np.ndarray, int], None],
                 max_consecutive_errors: int = 10, reopen_backoff_s: float = 0.5,
                 reopen_backoff_max_s: float = 5.0,
                 clock_ns: Callable[[], int] = time.time_ns, logger: Any = None,
                 max_reopen_attempts: int = 0) -> None:
        """Validate the policy; ``max_reopen_attempts`` 0 means retry for ever."""
        if not callable(on_frame):
            raise ValueError(f'on_frame must be callable, got {on_frame!r}')
        if isinstance(max_consecutive_errors, bool) or not isinstance(
                max_consecutive_errors, int) or max_consecutive_errors < 0:
            raise ValueError('max_consecutive_errors must be an integer >= 0, got '
                             f'{max_consecutive_errors!r}')
        if not _finite(reopen_backoff_s) or reopen_backoff_s <= 0.0:
            raise ValueError(f'reopen_backoff_s must be > 0, got {reopen_backoff_s!r}')
        if not _finite(reopen_backoff_max_s) or reopen_backoff_max_s < reopen_backoff_s:
            raise ValueError('reopen_backoff_max_s must be >= reopen_backoff_s '
                             f'({reopen_backoff_s}), got {reopen_backoff_max_s!r}')
        if isinstance(max_reopen_attempts, bool) or not isinstance(
                max_reopen_attempts, int) or max_reopen_attempts < 0:
            raise ValueError('max_reopen_attempts must be an integer >= 0 (0 = for ever), got '
                             f'{max_reopen_attempts!r}')
        self._source = source
        self._on_frame = on_frame
        self._max_errors = max_consecutive_errors
        self._backoff_min = float(reopen_backoff_s)
        self._backoff_max = float(reopen_backoff_max_s)
        self._max_reopens = max_reopen_attempts
        self._clock_ns = clock_ns
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._stats = CaptureStats()
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def source(self) -> FrameSource:
        """The frame source this thread reads."""
        return self._source

    @property
    def alive(self) -> bool:
        """Whether the capture thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start capturing (does nothing while already running)."""
        if self.alive:
            return
        self._stop_event.clear()
        with self._lock:
            self._stats.state = 'starting'
            self._stats.consecutive_errors = 0
        self._thread = threading.Thread(target=self._run, name='capture', daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread, wait up to ``timeout`` s for it, and close the source.

        If a read is still blocked after ``timeout`` the thread closes the
        source itself as soon as the read returns (closing it from here while
        OpenCV reads it is unsafe); a warning says so.
        """
        self._stop_event.set()
        thread = self._thread
        if thread is None:
            self._close_source()
            self._set_state('stopped')
            return
        if thread is threading.current_thread():
            return  # called from on_frame: the loop ends after this callback
        thread.join(timeout)
        if thread.is_alive():
            self._log.warning(f'capture thread did not stop within {timeout:g} s (a read of '
                              f'{self._source.kind} is blocked); it closes the source when the '
                              'read returns')
            return
        self._set_state('stopped')

    def stats(self) -> CaptureStats:
        """Return a consistent copy of the counters (thread-safe)."""
        with self._lock:
            return replace(self._stats)

    # -- the thread ------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        with self._lock:
            self._stats.state = state

    def _close_source(self) -> None:
        try:
            self._source.close()
        except Exception:
            self._log.error('closing the camera source failed:\n' + traceback.format_exc())

    def _open_source(self) -> bool:
        """Open the source; log and return False on any failure."""
        try:
            self._source.open()
        except Exception as exc:
            if isinstance(exc, SourceError):
                self._log.error(f'opening the camera failed: {exc}')
            else:
                self._log.error('opening the camera raised:\n' + traceback.format_exc())
            self._close_source()
            return False
        try:
            description = self._source.describe()
        except Exception:
            description = self._source.kind
        self._log.info(f'camera opened: {description}')
        return True

    def _count_error(self, message: str, exception: bool = False) -> bool:
        """Count one read error and log it (exceptions as errors, with their traceback).

        Returns True when the run of consecutive errors exceeds the limit.
        """
        with self._lock:
            self._stats.read_errors_total += 1
            self._stats.consecutive_errors += 1
            run = self._stats.consecutive_errors
        if exception:
            self._log.error(f'{message} (error {run} in a row):\n{traceback.format_exc()}')
        elif message:
            self._log.warning(message)
        return run > self._max_errors

    def _stamp_ns(self, now_ns: int) -> int:
        """Return the capture stamp of the frame just read at ``now_ns``."""
        t = getattr(self._source, 'last_capture_time', None)
        if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t):
            return int(round(t * 1e9))
        return now_ns

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # the loop catches everything itself; belt and braces
            self._log.error('capture thread crashed:\n' + traceback.format_exc())
            self._set_state('failed')
        finally:
            self._close_source()
            with self._lock:
                if self._stats.state != 'failed':
                    self._stats.state = 'stopped'

    def _reopen_with_backoff(self, backoff: float) -> Optional[bool]:
        """Wait ``backoff`` s and try one reopen; None means stop was requested."""
        if self._stop_event.wait(backoff):
            return None
        with self._lock:
            self._stats.reinit_attempts += 1
            attempt = self._stats.reinit_attempts
        self._log.info(f'reinitialising the camera (attempt {attempt}, after {backoff:g} s)')
        return self._open_source()

    def _loop(self) -> None:
        backoff = self._backoff_min
        failed_reopens = 0
        opened = self._open_source()
        if not opened:
            self._set_state('reconnecting')
        while not self._stop_event.is_set():
            if not opened:
                if self._max_reopens and failed_reopens >= self._max_reopens:
                    self._log.error(f'giving up on the camera after {failed_reopens} failed '
                                    'reopen attempts')
                    self._set_state('failed')
                    return
                result = self._reopen_with_backoff(backoff)
                if result is None:
                    return
                opened = result
                # The next wait doubles until a frame has been delivered again, so a
                # camera that opens but sends nothing is not reopened in a tight loop.
                backoff = min(backoff * 2.0, self._backoff_max)
                if opened:
                    failed_reopens = 0
                    with self._lock:
                        self._stats.consecutive_errors = 0
                else:
                    failed_reopens += 1
                continue

            exceeded = False
            try:
                frame = self._source.read()
            except Exception:
                exceeded = self._count_error('camera read raised', exception=True)
            else:
                if frame is None:
                    if getattr(self._source, 'finished', False) is True:
                        self._log.info(f'camera source {self._source.kind} finished (end of '
                                       'video); capture stops')
                        return
                    with self._lock:
                        first = self._stats.consecutive_errors == 0
                    reason = getattr(self._source, 'last_error', '') or 'no frame'
                    exceeded = self._count_error(
                        f'camera read failed: {reason}' if first else '')
                elif not isinstance(frame, np.ndarray):
                    exceeded = self._count_error(
                        f'camera read returned {type(frame).__name__}, not an image')
                else:
                    delivered, exceeded = self._deliver(frame)
                    if delivered:
                        backoff = self._backoff_min
            if exceeded:
                with self._lock:
                    run = self._stats.consecutive_errors
                    self._stats.state = 'reconnecting'
                self._log.error(f'{run} consecutive camera errors (limit '
                                f'{self._max_errors}): closing and reopening the camera')
                self._close_source()
                opened = False

    def _deliver(self, frame: np.ndarray) -> Tuple[bool, bool]:
        """Count a frame and pass it to ``on_frame``.

        Returns ``(delivered, limit_exceeded)``: whether ``on_frame`` returned
        normally, and whether its exception pushed the errors over the limit.
        """
        now_ns = self._clock_ns()
        stamp_ns = self._stamp_ns(now_ns)
        with self._lock:
            self._stats.frames_total += 1
            self._stats.last_frame_time = now_ns / 1e9
            self._stats.consecutive_errors = 0
            self._stats.state = 'streaming'
        try:
            self._on_frame(frame, stamp_ns)
        except Exception:
            return False, self._count_error('frame callback raised', exception=True)
        return True, False


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
