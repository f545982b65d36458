# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Each node's own health on ``/diagnostics``, with the tracker's conventions.

One diagnostic_updater ``Updater`` per node (or the built-in equivalent from
:mod:`face_tracker_ros.common.compat`), a hardware id, and tasks that return a
level, a short human message and their figures.  Every status carries the
node's ``pid`` first, so the diagnostics node can find the process behind it;
figure names carry their unit (``_ms``, ``_mb``, ``_hz``, ``_s``, ``_rad``).
"""

import os
from typing import Callable, Dict, Tuple

from diagnostic_msgs.msg import DiagnosticStatus

from face_tracker_ros.common.compat import Updater
from face_tracker_ros.common.status import (  # noqa: F401 - the levels, re-exported
    decode_level,
    ERROR,
    OK,
    STALE,
    STARTUP_GRACE_S,
    WARN,
)

#: A task returns (level, message, figures).
Report = Tuple[int, str, Dict[str, object]]


def to_msg_level(level: int) -> bytes:
    """Convert an integer level (0 OK .. 3 STALE) to the ``DiagnosticStatus.level`` byte."""
    return bytes([level])


def format_value(value) -> str:
    """Render a figure as diagnostic_updater expects (strings): floats short, bools lower."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return f'{value:.3f}'.rstrip('0').rstrip('.') if abs(value) < 1e6 else f'{value:.6g}'
    if value is None:
        return ''
    return str(value)


class NodeHealth:
    """Publishes a node's health tasks through one ``Updater``."""

    def __init__(self, node, hardware_id: str, period: float = 1.0):
        """Create the updater (parameter ``diagnostic_updater.period`` sets ``period``)."""
        self.node = node
        self.updater = Updater(node, period=period)
        self.updater.setHardwareID(hardware_id)
        self.pid = str(os.getpid())

    def set_hardware_id(self, hardware_id: str) -> None:
        """Change the hardware id (e.g. once a device is resolved)."""
        self.updater.setHardwareID(hardware_id)

    def add(self, task: str, report: Callable[[], Report]) -> None:
        """Add a task; ``report()`` runs once per period and may not raise (errors -> ERROR)."""
        def run(status):
            status.add('pid', self.pid)
            try:
                level, message, figures = report()
            except Exception as exc:  # noqa: BLE001 - a broken report must not stop the others
                status.summary(DiagnosticStatus.ERROR, f'health report failed: {exc}')
                return status
            status.summary(to_msg_level(level), message)
            for key, value in figures.items():
                status.add(key, format_value(value))
            return status
        self.updater.add(task, run)
