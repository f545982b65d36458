# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Status levels and warn/error thresholds of the figures the monitor watches.

The levels have the values of ``diagnostic_msgs/DiagnosticStatus`` (OK 0,
WARN 1, ERROR 2, STALE 3) so the node can pass them through, but this module
does not import ROS.
"""

from dataclasses import dataclass
import math
from typing import Optional

from face_tracker_ros.common.checks import as_float
from face_tracker_ros.common.status import (  # noqa: F401 - the levels, re-exported
    ERROR,
    level_name,
    LEVEL_NAMES,
    OK,
    STALE,
    WARN,
    worst,
)


def _format_value(value: float) -> str:
    if value == 0.0 or abs(value) >= 1.0 or math.isinf(value):
        return f'{value:.1f}'
    return f'{value:.3g}'


@dataclass(frozen=True)
class Band:
    """The warn and error thresholds of one figure.

    With ``higher_is_worse`` (memory, CPU, temperature) a value at or above
    ``warn`` is WARN and at or above ``error`` is ERROR; otherwise (free disk,
    free memory) at or below them.  An unknown value (None or NaN) is OK:
    a figure the platform cannot read is not an alarm.
    """

    name: str
    warn: float
    error: float
    higher_is_worse: bool = True
    unit: str = ''

    def __post_init__(self):
        """Check that the thresholds are numbers in the right order."""
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f'name must be a non-empty string, got {self.name!r}')
        for field in ('warn', 'error'):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or math.isnan(value):
                raise ValueError(f'{self.name}: {field} must be a number, got {value!r}')
        if self.higher_is_worse and self.warn > self.error:
            raise ValueError(f'{self.name}: warn must be <= error when higher is worse, '
                             f'got warn={self.warn!r} error={self.error!r}')
        if not self.higher_is_worse and self.warn < self.error:
            raise ValueError(f'{self.name}: warn must be >= error when lower is worse, '
                             f'got warn={self.warn!r} error={self.error!r}')

    def level(self, value: Optional[float]) -> int:
        """Return OK, WARN or ERROR for ``value``; None or NaN is OK."""
        number = as_float(value, allow_inf=True)
        if number is None:
            return OK
        if self.higher_is_worse:
            if number >= self.error:
                return ERROR
            if number >= self.warn:
                return WARN
            return OK
        if number <= self.error:
            return ERROR
        if number <= self.warn:
            return WARN
        return OK

    def describe(self, value: Optional[float]) -> str:
        """Return a short text for messages, e.g. ``'rss_mb 612.0 >= 600 (error)'``.

        The comparison shown is against the threshold that decided the level
        (the warn threshold when OK).
        """
        number = as_float(value, allow_inf=True)
        unit = f' {self.unit}' if self.unit else ''
        if number is None:
            return f'{self.name} unknown (ok)'
        level = self.level(number)
        threshold = self.error if level == ERROR else self.warn
        if level == OK:
            sign = '<' if self.higher_is_worse else '>'
        else:
            sign = '>=' if self.higher_is_worse else '<='
        return (f'{self.name} {_format_value(number)}{unit} {sign} {threshold:g}{unit} '
                f'({level_name(level)})')
