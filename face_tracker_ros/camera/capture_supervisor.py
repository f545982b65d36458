# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The supervisor half of :class:`~face_tracker_ros.camera.capture.CaptureThread`.

The supervisor thread starts the first reader and then, every tick, watches
it: a call blocked past its limit is counted and its reader abandoned for a
fresh one (with a source factory), a reader that vanished and a capture
without a new frame for ``max_recovery_s`` end the capture in ``failed``.
"""

import math
import threading
import time
import traceback
from typing import Optional

from face_tracker_ros.camera.capture_reader import Reader
from face_tracker_ros.camera.frame_source import FrameSource


class SupervisorSide:
    """The supervisor thread's methods of :class:`CaptureThread` (a mixin: no state of its own)."""

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
            reader = Reader(self._generation, source)
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
        limit = self._policy.max_recovery_s
        if limit > 0.0 and now - progress > limit:
            self._fail(self._recovery_reason(now - progress))

    def _call_limit(self, reader: Reader, what: str) -> float:
        """Return how long the reader's ``what`` call may take (0 = no limit).

        A read may always take two frame periods of the source's rate, so a
        paced source of a low rate (a video file at 0.5 Hz) is never stuck.
        """
        if what != 'read':
            return self._policy.open_timeout_s
        if self._policy.frame_timeout_s <= 0.0:
            return 0.0
        try:
            fps = float(getattr(reader.source, 'fps', 0.0) or 0.0)
        except (TypeError, ValueError):
            fps = 0.0
        period = 1.0 / fps if math.isfinite(fps) and fps > 0.0 else 0.0
        return max(self._policy.frame_timeout_s, 2.0 * period)

    def _on_stuck(self, reader: Reader, what: str, limit: float) -> None:
        """Count a call blocked past ``limit`` and replace its reader (or wait for it)."""
        description = self._describe(reader.source)
        message = f'camera {what} blocked for more than {limit:g} s ({description})'
        with self._lock:
            if reader is not self._reader or reader.busy_since is None or reader.abandoned \
                    or reader.timed_out or self._stop_event.is_set():
                return  # it returned meanwhile, or was handled already
            counts = self._stats.counts
            counts.stuck_reads_total += 1
            counts.read_errors_total += 1
            counts.consecutive_errors += 1
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
        if stuck > self._policy.max_stuck_reads:
            self._fail(f'{stuck} camera reads or opens are blocked and never returned (more '
                       f'than max_stuck_reads {self._policy.max_stuck_reads}); the driver is '
                       f'hung; last '
                       f'error: {message}')
            return
        self._log.error(f'{message}: abandoning that reader ({stuck} stuck) and reopening a '
                        'fresh source')
        self._spawn_reader(None, reopen=True)

    def _recovery_reason(self, idle: float) -> str:
        with self._lock:
            st = self._stats.copy()
            reader = self._reader
        source = reader.source if reader is not None and reader.source is not None \
            else self._initial
        n = st.counts
        return (f'no new camera frame for {idle:.1f} s (max_recovery_s '
                f'{self._policy.max_recovery_s:g}) from {self._describe(source)}: '
                f'state {st.state}, '
                f'{n.reinit_attempts} reopen attempts, {n.read_errors_total} read errors, '
                f'{n.stuck_reads_total} blocked calls, {n.frozen_errors_total} frozen '
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
