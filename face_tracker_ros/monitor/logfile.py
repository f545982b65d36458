# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""One rotating, grep-able log file for everything the tracker's nodes log.

The diagnostics node feeds it the plain fields of the ``rcl_interfaces/Log``
records it receives on /rosout.  Each record becomes one line (or one line per
line of a multi-line message such as a traceback)::

    2026-03-01T12:00:05.123+00:00 ERROR [camera] read failed: timeout

so ``grep ERROR`` shows whole tracebacks and ``grep -F '[camera]'`` one node.
Rotation is the standard library's ``RotatingFileHandler`` (``path``,
``path.1`` ... ``path.<backups>``, oldest discarded); a multi-line record is
never split across two files.  Runs of identical records are collapsed into a
``(previous message repeated N times)`` line, at least one copy per
``repeat_window_s``, so a stuck error still shows up in the log every minute
without flooding it.

**Nothing is lost without a word.**  Each record is written with one
unbuffered ``write``; one the file system refuses (a full disk, ``ENOSPC``;
a removed directory) is cut back off the file, so no half line stays, and
counted in ``write_errors``.  Its lines are held in memory (the newest
:data:`BACKLOG_LINES`) and written, in order, as soon as a write succeeds
again (the next record or :meth:`LogFileWriter.flush`), followed by a line
that says how many were written late and how many did not fit the backlog
(``lines_lost``).  :meth:`LogFileWriter.note` writes such a line for losses
found elsewhere (the node's own gaps).

**No duplicates after a restart.**  ``/rosout`` is kept by its publishers
for a while (transient local) and replayed to a new subscriber, so a writer
that starts on an existing file skips records already in it, and lines
delivered twice, or once by ``/rosout`` and once by :meth:`LogFileWriter.recover`
(lines a stalled writer missed, read back from the nodes' own log files), are
written once: ``duplicates_skipped``
(:class:`~face_tracker_ros.monitor.logrecovery.ReplayGuard`).
"""

import collections
import dataclasses
import logging
import logging.handlers
import math
import os
import sys
import threading
import time
from typing import Callable, Deque, Iterable, List, Optional, Tuple

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.interface import DIAGNOSTICS_NODE
from face_tracker_ros.monitor.logrecovery import (  # noqa: F401 - read_node_log: old imports
    LEVEL_NAMES,
    line_timestamp,
    read_node_log,
    ReplayGuard,
    severity_name,
)

#: Lines held in memory while the file cannot be written (the newest are kept).
BACKLOG_LINES = 5000

#: Held-back lines are offered to the file again at most this often (seconds).
RETRY_S = 0.5


class _Handler(logging.handlers.RotatingFileHandler):
    """A rotating handler writing each record unbuffered, whole or not at all.

    Write errors are counted instead of printing tracebacks.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors_count = 0
        self.last_error: Optional[BaseException] = None

    def handleError(self, record):
        """Count the failure (disk full, file removed...) and keep going."""
        self.errors_count += 1
        self.last_error = sys.exc_info()[1]

    def shouldRollover(self, record):
        """Rotate when this record would take the file past ``maxBytes``."""
        if self.stream is None:
            self.stream = self._open()
        size = os.fstat(self.stream.fileno()).st_size
        return size > 0 and size + len(self.format(record)) + 1 > self.maxBytes

    def emit(self, record):
        """Write the record with unbuffered writes; on failure cut it off again and count it."""
        try:
            if self.shouldRollover(record):
                self.doRollover()
            if self.stream is None:
                self.stream = self._open()
            data = (self.format(record) + self.terminator).encode(
                self.encoding or 'utf-8', self.errors or 'strict')
            fd = self.stream.fileno()
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                done = 0
                while done < len(data):
                    done += os.write(fd, data[done:])
            except OSError:
                try:  # no half line: the record is written again whole, later
                    os.ftruncate(fd, start)
                except OSError:
                    pass
                raise
        except Exception:  # noqa: BLE001 - counted, the writer keeps going
            self.handleError(record)


def _one_line(text: object) -> str:
    return ' '.join(str(text).split())


@dataclasses.dataclass
class _LastRecord:
    """The last record written, whose identical successors are collapsed."""

    key: Optional[Tuple[str, int, str]] = None  # (node, level, message)
    stamp: float = 0.0  # the wall stamp of its last repeat
    written: float = 0.0  # when it was last written (the writer's clock)
    repeats: int = 0  # repeats not written since


class LogFileWriter:
    """Writes log records as prefixed lines to a size-rotated file.

    ``counts`` holds its event counts: ``lines_written`` the lines in the file
    (repeat summaries included), ``records_dropped_repeats`` the identical
    records collapsed, ``records_dropped_level`` those below ``min_level``,
    ``lines_late`` the lines written late, ``lines_lost`` those that did not
    fit the backlog, ``duplicates_skipped`` the records found already in the
    file at start, ``lines_recovered`` those written by :meth:`recover` and
    ``reopened`` how often a removed file was opened again.  The properties
    ``write_errors`` (the writes the file system refused; the writer keeps
    going) and ``lines_held_back`` (the lines waiting to be written again)
    complete them.
    ``own_name`` is the node name of the lines the writer adds itself.
    """

    def __init__(self, path: str, max_bytes: int = 10 * 1024 * 1024, backups: int = 5,
                 min_level: int = 10, repeat_window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, own_name: str = DIAGNOSTICS_NODE,
                 backlog_lines: int = BACKLOG_LINES):
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f'path must be a non-empty file path, got {path!r}')
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f'max_bytes must be an integer > 0, got {max_bytes!r}')
        if isinstance(backups, bool) or not isinstance(backups, int) or backups < 1:
            raise ValueError(f'backups must be an integer >= 1, got {backups!r}')
        if min_level not in LEVEL_NAMES or isinstance(min_level, bool):
            allowed = ', '.join(f'{k} ({v})' for k, v in LEVEL_NAMES.items())
            raise ValueError(f'min_level must be one of {allowed}, got {min_level!r}')
        try:
            window = float(repeat_window_s)
        except (TypeError, ValueError):
            window = float('nan')
        if not math.isfinite(window) or window < 0.0:
            raise ValueError('repeat_window_s must be a finite number of seconds >= 0 '
                             f'(0 disables collapsing), got {repeat_window_s!r}')
        self.path = os.path.abspath(os.path.expanduser(path))
        self.max_bytes = max_bytes
        self.backups = backups
        self.min_level = min_level
        self.repeat_window_s = window
        self._clock = clock
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
            self._handler = _Handler(self.path, maxBytes=max_bytes, backupCount=backups,
                                     encoding='utf-8', errors='backslashreplace')
        except OSError as exc:
            raise OSError(exc.errno, f'cannot write the log file {self.path}: '
                                     f'{exc.strerror or exc}', self.path) from exc
        self._handler.setFormatter(logging.Formatter('%(message)s'))
        self._lock = threading.Lock()
        self._closed = False
        self._last = _LastRecord()
        self.counts = Counters('lines_written', 'records_dropped_repeats',
                               'records_dropped_level', 'lines_late', 'lines_lost',
                               'duplicates_skipped', 'lines_recovered', 'reopened')
        self.own_name = _one_line(own_name) or DIAGNOSTICS_NODE
        self._backlog: Deque[str] = collections.deque()
        self._backlog_max = max(1, int(backlog_lines))
        self._backlog_dropped = 0  # lost from the current backlog, not yet said in the file
        self._next_retry = 0.0
        self.failing_since: Optional[float] = None  # wall time of the first failed write
        self.last_failure: Optional[float] = None  # wall time of the latest failed write
        self._replay = ReplayGuard(self.path)
        self.tail_newest = self._replay.tail_newest

    @property
    def lines_held_back(self) -> int:
        """Return how many lines wait in memory for the file to take them."""
        return len(self._backlog)

    @property
    def last_error(self) -> str:
        """Return the last write error, '' when none happened."""
        error = self._handler.last_error
        if error is None:
            return ''
        return getattr(error, 'strerror', None) or str(error) or type(error).__name__

    @property
    def write_errors(self) -> int:
        """Return how many records the file system refused."""
        return self._handler.errors_count

    def write(self, stamp_s: float, level: int, node: str, message: str,
              file: str = '', function: str = '', line: int = 0) -> None:
        """Write one record; never raises.

        ``stamp_s`` is the record's time in seconds since the epoch (the
        wall time now is used when it is zero or unusable); ``file``,
        ``function`` and ``line`` are accepted for completeness and not
        written, the log's lines stay short.
        """
        try:
            level = int(level)
        except (TypeError, ValueError, OverflowError):
            level = 20
        node = _one_line(node) or '?'
        message = '' if message is None else str(message)
        with self._lock:
            if self._closed:
                return
            if level < self.min_level:
                self.counts.records_dropped_level += 1
                return
            if self._replay.is_duplicate(stamp_s, level, node, message):
                self.counts.duplicates_skipped += 1
                return
            key = (node, level, message)
            now = self._clock()
            last = self._last
            if key == last.key and now - last.written < self.repeat_window_s:
                last.repeats += 1
                last.stamp = stamp_s
                self.counts.records_dropped_repeats += 1
                return
            self._write_repeats()
            prefix = f'{line_timestamp(stamp_s)} {severity_name(level)} [{node}] '
            lines = message.splitlines() or ['']
            self._emit([prefix + text for text in lines])
            self._last = _LastRecord(key, stamp_s, now)

    def recover(self, records: Iterable[Tuple[float, int, str, str]], start_s: float,
                end_s: float) -> int:
        """Write the ``(stamp_s, level, node, message)`` records stamped in ``[start_s, end_s]``.

        For lines the writer missed (it was stopped, ``/rosout`` no longer had
        them); records already written are skipped.  Returns how many were written.
        """
        chosen = sorted(r for r in records if start_s <= r[0] <= end_s)
        with self._lock:
            before = (self.counts.duplicates_skipped, self.counts.records_dropped_level)
            # Every one of these is checked, and so are later copies from /rosout of any.
            self._replay.checked_until = max(self._replay.checked_until, end_s)
            self._replay.recovering = True
        try:
            for stamp_s, level, node, message in chosen:
                self.write(stamp_s, level, node, message)
        finally:
            self._replay.recovering = False
        with self._lock:
            skipped = (self.counts.duplicates_skipped - before[0]) + \
                (self.counts.records_dropped_level - before[1])
            written = max(0, len(chosen) - skipped)
            self.counts.lines_recovered += written
        return written

    def note(self, level: int, message: str) -> None:
        """Write a line of the writer's own (as ``own_name``), stamped now; never raises."""
        self.write(time.time(), level, self.own_name, message)

    def flush(self) -> None:
        """Write the pending repeat count and held-back lines, if any, and flush the file."""
        with self._lock:
            if self._closed:
                return
            self._reopen_if_gone()
            self._write_repeats()
            if self._backlog:
                self._emit([])
            try:
                self._handler.flush()
            except (OSError, ValueError):
                self._handler.errors_count += 1

    def _reopen_if_gone(self) -> None:
        """Reopen the file when it was removed or replaced (lines would go to a lost inode)."""
        stream = self._handler.stream
        if stream is None:
            return
        try:
            current = os.fstat(stream.fileno())
            named = os.stat(self.path)
            if (current.st_dev, current.st_ino) == (named.st_dev, named.st_ino):
                return
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._handler.close()
            self._handler.stream = self._handler._open()
            self._handler._closed = False
        except OSError:
            return  # the next write fails, is counted and held back
        self.counts.reopened += 1
        self._emit([f'{line_timestamp(time.time())} WARN [{self.own_name}] log file: '
                    f'{self.path} was removed or replaced while it was written; reopened '
                    '(lines written since went to the removed file)'])

    def close(self) -> None:
        """Flush and close the file; later writes are ignored (held-back lines count as lost)."""
        self.flush()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.counts.lines_lost += len(self._backlog)
            self._backlog.clear()
            try:
                self._handler.close()
            except (OSError, ValueError):
                self._handler.errors_count += 1

    def __enter__(self) -> 'LogFileWriter':
        """Return the writer, for ``with LogFileWriter(...) as log:``."""
        return self

    def __exit__(self, *exc_info) -> None:
        """Close the writer."""
        self.close()

    def _write_repeats(self) -> None:
        last = self._last
        if last.repeats == 0 or last.key is None:
            return
        node, level, _ = last.key
        times = 'time' if last.repeats == 1 else 'times'
        self._emit([f'{line_timestamp(last.stamp)} {severity_name(level)} [{node}] '
                    f'(previous message repeated {last.repeats} {times})'])
        last.repeats = 0
        # The summary stands for the run so far: the next repeat starts a new run.
        last.key = None

    def _emit(self, lines: List[str]) -> None:
        if self._backlog:
            # The file refused lines before: they go first, in order, then what happened.
            now = self._clock()
            if now < self._next_retry:
                self._hold(lines)
                return
            held = list(self._backlog)
            if not self._write_lines(held):
                self._next_retry = now + RETRY_S
                self._hold(lines)
                return
            self._backlog.clear()
            self.counts.lines_late += len(held)
            lost = self._backlog_dropped
            self._backlog_dropped = 0
            lost_text = f', {lost} older ones did not fit in memory and are lost' if lost else ''
            since = line_timestamp(self.failing_since or time.time())
            self.failing_since = None
            self._write_lines([
                f'{line_timestamp(time.time())} WARN [{self.own_name}] log file: the {len(held)} '
                f'lines above were held back since {since} while the file could not be '
                f'written ({self.last_error}) and are written late{lost_text}'])
        if lines and not self._write_lines(lines):
            self._next_retry = self._clock() + RETRY_S
            self._hold(lines)

    def _write_lines(self, lines: List[str]) -> bool:
        record = logging.makeLogRecord({'msg': '\n'.join(lines), 'levelno': logging.INFO})
        errors = self._handler.errors_count
        self._handler.handle(record)
        if self._handler.errors_count == errors:
            self.counts.lines_written += len(lines)
            return True
        self.last_failure = time.time()
        if self.failing_since is None:
            self.failing_since = self.last_failure
        return False

    def _hold(self, lines: List[str]) -> None:
        self._backlog.extend(lines)
        while len(self._backlog) > self._backlog_max:
            self._backlog.popleft()
            self._backlog_dropped += 1
            self.counts.lines_lost += 1
