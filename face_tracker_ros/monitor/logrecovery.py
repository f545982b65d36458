# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Reading log files back: the log file's own tail, and the nodes' own ROS log files.

:func:`read_tail` tells a starting :class:`~face_tracker_ros.monitor.logfile.LogFileWriter`
which records its file already holds (``/rosout`` replays them to a new
subscriber).  :func:`read_node_log` and :func:`node_log_records` read the
lines a stalled diagnostics node missed from the processes' own ROS log files
(rcl's ``<exe>_<pid>_<ms>.log``), for :meth:`LogFileWriter.recover`.
"""

from datetime import datetime, timezone
import math
import os
import re
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

from face_tracker_ros.common.status import LOG_LEVEL_LABELS

#: Severity names of rcl_interfaces/Log levels.
LEVEL_NAMES = LOG_LEVEL_LABELS
_LEVEL_NUMBERS = {name: number for number, name in LEVEL_NAMES.items()}

#: How much of an existing file's end is read to skip records already written.
TAIL_BYTES = 256 * 1024

#: A record this much older than the newest written (seconds) is checked for a duplicate.
LATE_S = 1.0

#: How many of the latest records are remembered for that check.
RECENT_RECORDS = 10000

#: A line of a node's own ROS log file (rcl's file logger: the console's default format).
_NODE_LOG_LINE = re.compile(r'^\[(DEBUG|INFO|WARN|ERROR|FATAL)\] \[(\d+(?:\.\d+)?)\] '
                            r'\[([^\]]*)\]: ?(.*)$')

#: How much of the end of a node's own log file :func:`read_node_log` reads.
NODE_LOG_TAIL_BYTES = 4 * 1024 * 1024


def line_timestamp(stamp_s: float) -> str:
    """Return ISO 8601 UTC with milliseconds; the wall time now if ``stamp_s`` is unusable."""
    try:
        value = float(stamp_s)
        if not math.isfinite(value) or value <= 0.0:
            raise ValueError(stamp_s)
        moment = datetime.fromtimestamp(value, timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        moment = datetime.fromtimestamp(time.time(), timezone.utc)
    return moment.isoformat(timespec='milliseconds')


def severity_name(level: int) -> str:
    """Return the log line's name of an rcl_interfaces/Log level (``LEVEL<n>`` if unknown)."""
    return LEVEL_NAMES.get(level, f'LEVEL{level}')


class ReplayGuard:
    """Tells the records a log file holds already, so that none is written twice.

    At start it reads the file's tail (``/rosout`` replays the records kept by
    its publishers to a new subscriber); later it remembers the last
    :data:`RECENT_RECORDS` and checks those arriving more than :data:`LATE_S`
    behind the newest, or while (or up to where) lines are recovered.
    """

    def __init__(self, path: str):
        """Read the tail of the file at ``path`` (missing: nothing written yet)."""
        self.seen, self.tail_newest = read_tail(path)
        self.newest = self.tail_newest
        self.recent: Dict[Tuple[int, int, str, str], None] = {}
        #: Records up to this stamp are always checked (recover() wrote lines up to there).
        self.checked_until = -math.inf
        self.recovering = False

    def is_duplicate(self, stamp_s: float, level: int, node: str, message: str) -> bool:
        """Return True for a record already written; remember it otherwise."""
        if self.seen and self._in_file(stamp_s, level, node, message):
            return True
        return self._written_recently(stamp_s, level, node, message)

    def _in_file(self, stamp_s: float, level: int, node: str, message: str) -> bool:
        """Return True for a record the file held when the writer started (a replay)."""
        try:
            if float(stamp_s) > self.tail_newest + 0.001:
                return False  # newer than anything in the file
        except (TypeError, ValueError):
            return False
        first = (message.splitlines() or [''])[0]
        return (line_timestamp(stamp_s), severity_name(level), node, first) in self.seen

    def _written_recently(self, stamp_s: float, level: int, node: str, message: str) -> bool:
        """Remember this record; return True when it was written already (a late copy)."""
        try:
            stamp = float(stamp_s)
            key = (int(round(stamp * 1e6)), level, node, message)
        except (TypeError, ValueError, OverflowError):
            return False
        late = self.recovering or stamp < self.newest - LATE_S or \
            stamp <= self.checked_until
        if late and key in self.recent:
            return True
        self.recent[key] = None
        if len(self.recent) > RECENT_RECORDS:
            del self.recent[next(iter(self.recent))]
        if stamp > self.newest and math.isfinite(stamp):
            self.newest = stamp
        return False


def _read_end(path: str, size: int) -> Optional[bytes]:
    """Return the last ``size`` bytes of the file at ``path``; None when it cannot be read."""
    try:
        with open(path, 'rb') as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, end - size))
            return handle.read()
    except OSError:
        return None


def read_node_log(path: str, start_s: float = 0.0,
                  end_s: float = math.inf) -> List[Tuple[float, int, str, str]]:
    """Return the ``(stamp_s, level, node, message)`` records of a node's own ROS log file.

    That file (``<ros log dir>/<exe>_<pid>_<ms>.log``, written by rcl's file
    logger) holds what the process logged, in the console's format
    (``[INFO] [1700000000.123456789] [camera]: message``); a line without
    that prefix continues the record before it.  Only the last
    :data:`NODE_LOG_TAIL_BYTES` are read; records outside ``[start_s, end_s]``
    are left out.  An unreadable file gives no records.
    """
    data = _read_end(path, NODE_LOG_TAIL_BYTES)
    if data is None:
        return []
    records: List[Tuple[float, int, str, str]] = []
    current: Optional[List] = None
    for line in data.decode('utf-8', 'replace').splitlines():
        match = _NODE_LOG_LINE.match(line)
        if match is None:
            if current is not None:
                current[3] += '\n' + line
            continue
        if current is not None:
            records.append(tuple(current))
        level, stamp, node, message = match.groups()
        current = [float(stamp), _LEVEL_NUMBERS[level], node, message]
    if current is not None:
        records.append(tuple(current))
    return [r for r in records if start_s <= r[0] <= end_s]


def read_tail(path: str) -> Tuple[Set[Tuple[str, str, str, str]], float]:
    """Return the (time, level, node, message) of the lines at the end of ``path``.

    Also returns the newest time among them in seconds (0.0 when the file is
    missing or empty).  Only the first line of a record matters: continuation
    lines of a multi-line record carry the same prefix.
    """
    data = _read_end(path, TAIL_BYTES)
    if data is None:
        return set(), 0.0
    lines = data.decode('utf-8', 'replace').splitlines()
    if len(data) >= TAIL_BYTES and lines:
        lines = lines[1:]  # probably cut in the middle
    seen = set()
    newest = 0.0
    for line in lines:
        parts = line.split(' ', 3)
        if len(parts) < 4 or parts[1] not in _LEVEL_NUMBERS or not parts[2].startswith('[') \
                or not parts[2].endswith(']'):
            continue
        try:
            moment = datetime.fromisoformat(parts[0]).timestamp()
        except ValueError:
            continue
        seen.add((parts[0], parts[1], parts[2][1:-1], parts[3]))
        newest = max(newest, moment)
    return seen, newest


#: How long publishers keep /rosout lines for a subscriber that reads late (rcl's rosout
#: QoS: transient local, lifespan 10 s); a writer away longer may miss lines.
ROSOUT_KEEP_S = 10.0

#: The name of a process's own ROS log file: ``<executable>_<pid>_<milliseconds>.log``.
NODE_LOG_NAME = re.compile(r'^.+_(\d+)_\d+\.log$')


def ros_log_dir() -> str:
    """Return the directory rcl writes each process's own log file to."""
    try:
        from rclpy.logging import get_logging_directory
        return str(get_logging_directory())
    except Exception:  # noqa: BLE001 - an rclpy without it: the same rule by hand
        if os.environ.get('ROS_LOG_DIR'):
            return os.path.expanduser(os.environ['ROS_LOG_DIR'])
        home = os.environ.get('ROS_HOME') or os.path.join(os.path.expanduser('~'), '.ros')
        return os.path.join(home, 'log')


def node_log_records(directory: str, start: float, end: float, ours: Callable[[int], bool],
                     prefix: str = '') -> Tuple[int, List[Tuple[float, int, str, str]]]:
    """Return (files read, records) of this run's node log files in ``directory``.

    Only files written since ``start`` by this process or a process ``ours``
    accepts, only records stamped in ``[start, end]`` and, with a ``prefix``
    (``left.`` in namespace ``/left``), only loggers named with it.  Raises
    OSError when the directory cannot be listed.
    """
    names = os.listdir(directory)
    records: List[Tuple[float, int, str, str]] = []
    files = 0
    for name in names:
        match = NODE_LOG_NAME.match(name)
        path = os.path.join(directory, name)
        try:
            if match is None or os.path.getmtime(path) < start:
                continue
        except OSError:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not ours(pid):
            continue  # another run's (or another tracker's) process
        files += 1
        records += [r for r in read_node_log(path, start, end)
                    if not prefix or r[2].startswith(prefix)]
    return files, records
