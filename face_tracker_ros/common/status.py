# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Status levels: their values, their names, decoding them from messages, combining them.

The levels have the values of ``diagnostic_msgs/DiagnosticStatus`` (OK 0, WARN 1, ERROR 2,
STALE 3) so they pass through unchanged, but this module imports nothing from ROS: the nodes,
the monitor, the tools and the benchmarks all take the levels from here.  The log severities
(``rcl_interfaces/Log``, ``--log-level``) are at the end.
"""

from typing import Iterable

OK = 0
WARN = 1
ERROR = 2
STALE = 3

#: The message of the OK status diagnostic_updater (and its built-in equivalent) publishes for
#: a task before the task has reported: not a report of the node's health yet.
STARTING_MESSAGE = 'Node starting up'

#: Seconds after a node starts during which missing input or a low rate is not yet an alarm.
STARTUP_GRACE_S = 5.0

#: Lower-case names of the levels, for messages and logs.
LEVEL_NAMES = {OK: 'ok', WARN: 'warn', ERROR: 'error', STALE: 'stale'}

#: Upper-case labels of the levels, as rqt_robot_monitor and ``ros2 topic echo`` readers know them.
LEVEL_LABELS = {OK: 'OK', WARN: 'WARN', ERROR: 'ERROR', STALE: 'STALE'}


def level_name(level: int) -> str:
    """Return the lower-case name of a level ('ok', 'warn', 'error', 'stale')."""
    return LEVEL_NAMES.get(level, f'level {level}')


def level_label(level: int) -> str:
    """Return the upper-case label of a level ('OK', 'WARN', 'ERROR', 'STALE')."""
    return LEVEL_LABELS.get(level, str(level))


def decode_level(level) -> int:
    """Return a ``DiagnosticStatus.level`` (a byte in ROS 2, an int in recordings) as an int."""
    if isinstance(level, (bytes, bytearray)):
        return level[0] if level else 0
    return int(level)


def worst(levels: Iterable[int]) -> int:
    """Combine levels the way diagnostic_aggregator combines a group.

    The result is the highest of OK, WARN and ERROR present; STALE only when
    every level is STALE; a mix of STALE and fresh levels is ERROR (something
    that should report has stopped).  An empty iterable is OK.
    """
    seen = []
    for level in levels:
        if level not in LEVEL_NAMES:
            raise ValueError(f'levels must contain only OK, WARN, ERROR or STALE '
                             f'(0, 1, 2, 3), got {level!r}')
        seen.append(level)
    if not seen:
        return OK
    if all(level == STALE for level in seen):
        return STALE
    if STALE in seen:
        return ERROR
    return max(seen)


#: Log severities by the names ``--log-level`` and ``log_level`` take, with the values of
#: ``rcl_interfaces/Log`` (and rcutils): the bring-up, every node's ``log_level``, the log
#: file and the tools take them from here.
LOG_SEVERITIES = {'debug': 10, 'info': 20, 'warn': 30, 'error': 40, 'fatal': 50}
#: The names alone, lowest first.
LOG_LEVEL_NAMES = tuple(LOG_SEVERITIES)
#: Upper-case labels by severity, as the log lines show them.
LOG_LEVEL_LABELS = {number: name.upper() for name, number in LOG_SEVERITIES.items()}
#: Python logging's names for two of them, accepted too.
LOG_LEVEL_ALIASES = {'warning': 'warn', 'critical': 'fatal'}
