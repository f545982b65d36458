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
"""

from datetime import datetime, timezone
import logging
import logging.handlers
import math
import os
import sys
import threading
import time
from typing import Callable, Optional, Tuple

#: Severity names of rcl_interfaces/Log levels.
LEVEL_NAMES = {10: 'DEBUG', 20: 'INFO', 30: 'WARN', 40: 'ERROR', 50: 'FATAL'}


class _Handler(logging.handlers.RotatingFileHandler):
    """A rotating handler that counts write errors instead of printing tracebacks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors_count = 0
        self.last_error: Optional[BaseException] = None

    def handleError(self, record):
        """Count the failure (disk full, file removed...) and keep going."""
        self.errors_count += 1
        self.last_error = sys.exc_info()[1]


def _timestamp(stamp_s: float) -> str:
    """Return ISO 8601 UTC with milliseconds; the wall time now if ``stamp_s`` is unusable."""
    try:
        value = float(stamp_s)
        if not math.isfinite(value) or value <= 0.0:
            raise ValueError(stamp_s)
        moment = datetime.fromtimestamp(value, timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        moment = datetime.fromtimestamp(time.time(), timezone.utc)
    return moment.isoformat(timespec='milliseconds')


def _level_name(level: int) -> str:
    return LEVEL_NAMES.get(level, f'LEVEL{level}')


def _one_line(text: object) -> str:
    return ' '.join(str(text).split())


class LogFileWriter:
    """Writes log records as prefixed lines to a size-rotated file.

    ``lines_written`` counts lines in the file (repeat summaries included),
    ``records_dropped_repeats`` the identical records collapsed,
    ``records_dropped_level`` those below ``min_level`` and ``write_errors``
    the records the file system refused (the writer keeps going).
    """

    def __init__(self, path: str, max_bytes: int = 10 * 1024 * 1024, backups: int = 5,
                 min_level: int = 10, repeat_window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
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
        # The last record written: key (node, level, message), the wall stamp of its last
        # repeat, when it was last written (clock), and repeats not written since.
        self._last_key: Optional[Tuple[str, int, str]] = None
        self._last_stamp = 0.0
        self._last_written = 0.0
        self._repeats = 0
        self.lines_written = 0
        self.records_dropped_repeats = 0
        self.records_dropped_level = 0

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
                self.records_dropped_level += 1
                return
            key = (node, level, message)
            now = self._clock()
            if key == self._last_key and now - self._last_written < self.repeat_window_s:
                self._repeats += 1
                self._last_stamp = stamp_s
                self.records_dropped_repeats += 1
                return
            self._write_repeats()
            prefix = f'{_timestamp(stamp_s)} {_level_name(level)} [{node}] '
            lines = message.splitlines() or ['']
            self._emit([prefix + text for text in lines])
            self._last_key = key
            self._last_stamp = stamp_s
            self._last_written = now

    def flush(self) -> None:
        """Write the pending repeat count, if any, and flush the file."""
        with self._lock:
            if self._closed:
                return
            self._write_repeats()
            try:
                self._handler.flush()
            except (OSError, ValueError):
                self._handler.errors_count += 1

    def close(self) -> None:
        """Flush and close the file; later writes are ignored."""
        self.flush()
        with self._lock:
            if self._closed:
                return
            self._closed = True
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
        if self._repeats == 0 or self._last_key is None:
            return
        node, level, _ = self._last_key
        times = 'time' if self._repeats == 1 else 'times'
        self._emit([f'{_timestamp(self._last_stamp)} {_level_name(level)} [{node}] '
                    f'(previous message repeated {self._repeats} {times})'])
        self._repeats = 0
        # The summary stands for the run so far: the next repeat starts a new run.
        self._last_key = None

    def _emit(self, lines) -> None:
        record = logging.makeLogRecord({'msg': '\n'.join(lines), 'levelno': logging.INFO})
        errors = self._handler.errors_count
        self._handler.handle(record)
        if self._handler.errors_count == errors:
            self.lines_written += len(lines)
