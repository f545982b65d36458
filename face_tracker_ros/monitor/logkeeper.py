# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node's log file: what it writes from ``/rosout``, its gaps, its status.

:class:`LogKeeper` owns the :class:`~face_tracker_ros.monitor.logfile.LogFileWriter`
(the file may be unwritable: that is its ERROR status, not a crash), takes
this run's ``/rosout`` records, notices time in which this node did not run
for longer than ``/rosout`` keeps lines (``ROSOUT_KEEP_S``) and writes the
lines of that time once from the processes' own ROS log files, and builds
the ``diagnostics: log file`` status.  ROS-free; the clocks and the log are
injected.
"""

import os
import time
from typing import Callable, Dict, Optional, Tuple

from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.monitor.logfile import LogFileWriter
from face_tracker_ros.monitor.logrecovery import node_log_records, ros_log_dir, ROSOUT_KEEP_S
from face_tracker_ros.monitor.params import LogFileConfig

#: After the log file took lines again, its status stays WARN this long (seconds).
LOG_RECOVERED_WARN_S = 60.0

#: Less free space than this where the log file is written is ERROR before a write fails.
LOG_FREE_ERROR_BYTES = 256 * 1024


def utc(stamp_s: float) -> str:
    """Return an epoch time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(stamp_s))


class LogKeeper:
    """Writes this run's log lines to the rotating file and reports on it."""

    def __init__(self, config: LogFileConfig, log: Callable[[int, str], None],
                 ours: Callable[[int], bool], prefix: str = '',
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time):
        """Open the file of ``config``; ``ours(pid)`` tells a process of this run.

        ``prefix`` (``left.`` in namespace ``/left``) selects this run's
        loggers on the global ``/rosout``; ``log(level, text)`` logs.
        """
        self.log_dir = config.directory
        self.log_path = config.path
        self._log = log
        self._ours = ours
        self.prefix = prefix
        self._clock = clock
        self._wall = wall_clock
        self.writer: Optional[LogFileWriter] = None
        self.writer_error = ''
        self.writer_gaps = 0
        try:
            self.writer = LogFileWriter(str(self.log_path), max_bytes=config.max_bytes,
                                        backups=config.backups, min_level=config.min_level)
        except OSError as exc:
            self.writer_error = str(exc)
            log(ERROR, f'cannot write the log file {self.log_path}: {exc}')
        self._alive = clock()

    def configure(self, config: LogFileConfig) -> None:
        """Take the live settings of a new config (the lowest level written)."""
        if self.writer is not None:
            self.writer.min_level = config.min_level

    def arm(self) -> None:
        """Start timing the gaps from now (call it when the node starts its timers)."""
        self._alive = self._clock()

    def continuing_note(self) -> str:
        """Return the sentence to log when the file already held lines ('' when new)."""
        if self.writer is None or self.writer.tail_newest <= 0.0:
            return ''
        return (f'log file: continuing {self.log_path} after its line of '
                f'{utc(self.writer.tail_newest)}; lines /rosout replays that are already '
                'in it are skipped')

    def write(self, stamp_s: float, level: int, name: str, message: str, file: str = '',
              function: str = '', line: int = 0) -> None:
        """Write one ``/rosout`` record, if it is of this run's loggers."""
        if self.writer is None:
            return
        if self.prefix and not name.startswith(self.prefix):
            return  # /rosout is global: another tracker's lines belong in its own log file
        try:
            self.writer.write(stamp_s, level, name, message, file, function, line)
        except OSError as exc:
            self.writer_error = str(exc)

    def watch(self) -> None:
        """Call once a second: a long gap since the last call is lines /rosout may have lost."""
        # The monotonic clock runs on while this process is stopped or starved: a long gap
        # between two ticks is time in which /rosout lines may have expired unread.
        now = self._clock()
        gap = now - self._alive
        self._alive = now
        if gap > ROSOUT_KEEP_S and self.writer is not None:
            self.writer_gaps += 1
            wall = self._wall()
            # The lines /rosout no longer has, with a margin (duplicates are skipped).
            start, end = wall - gap - 1.0, wall - ROSOUT_KEEP_S + 0.5
            directory, files, recovered = self._recover_lines(start, end)
            self._log(WARN,
                      f'log file: this node did not run for {gap:.1f} s (stopped or starved); '
                      f'/rosout keeps lines only {ROSOUT_KEEP_S:.0f} s for a late reader: '
                      f'{recovered} lines of {utc(start)} to {utc(end)} were read back from '
                      f'{files} node log file(s) in {directory}; lines of a process that wrote '
                      'none there may be missing')

    def _recover_lines(self, start: float, end: float) -> Tuple[str, int, int]:
        """Write the lines of this run's nodes stamped in [start, end] from their own log files.

        Returns the directory, the files read and the lines written.
        """
        directory = ros_log_dir()
        try:
            files, records = node_log_records(directory, start, end, self._ours, self.prefix)
        except OSError:
            return directory, 0, 0
        return directory, files, self.writer.recover(records, start, end)

    def report(self) -> Tuple[int, str, Dict[str, object]]:
        """Return (level, message, figures) of ``diagnostics: log file``."""
        figures: Dict[str, object] = {'path': str(self.log_path)}
        if self.writer is None or self.writer_error:
            return ERROR, f'cannot write {self.log_path}: {self.writer_error}', figures
        writer = self.writer
        counts = writer.counts
        writer.flush()  # offers held-back lines to the file again
        try:
            size = self.log_path.stat().st_size if self.log_path.exists() else 0
        except OSError:
            size = 0
        try:
            fs = os.statvfs(self.log_dir)
            free = fs.f_bavail * fs.f_frsize
        except OSError:
            free = None
        figures['free_mb'] = None if free is None else free / 1e6
        figures.update({'lines_written': counts.lines_written,
                        'size_mb': size / 1e6,
                        'repeats_collapsed': counts.records_dropped_repeats,
                        'write_errors': writer.write_errors,
                        'lines_held_back': writer.lines_held_back,
                        'lines_late': counts.lines_late, 'lines_lost': counts.lines_lost,
                        'duplicates_skipped': counts.duplicates_skipped,
                        'writer_gaps': self.writer_gaps,
                        'lines_recovered': counts.lines_recovered,
                        'reopened': counts.reopened})
        losses = (f'{writer.write_errors} write errors, {counts.lines_late} lines written '
                  f'late, {counts.lines_lost} lost')
        if writer.lines_held_back:
            return ERROR, (f'cannot write {self.log_path}: {writer.last_error}; '
                           f'{writer.lines_held_back} lines held back ({losses})'), figures
        if free is not None and free < LOG_FREE_ERROR_BYTES:
            # Full before a line fails: say so now, not at the next error.
            return ERROR, (f'the disk of {self.log_path} is full: {free / 1024:.0f} KiB '
                           f'free; lines will be held back in memory'), figures
        if writer.last_failure is not None and \
                self._wall() - writer.last_failure < LOG_RECOVERED_WARN_S:
            return WARN, f'writing {self.log_path} again after {losses}', figures
        return OK, f'writing {self.log_path}', figures

    def close(self) -> None:
        """Flush and close the log file."""
        if self.writer is not None:
            self.writer.close()
