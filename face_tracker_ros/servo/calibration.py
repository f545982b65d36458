# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Map joint angles (radians, geometry.py conventions) to servo pulse widths and back.

One :class:`AxisCalibration` describes one hobby servo: the pulse that puts the
joint at angle 0, how many microseconds one radian takes, the pulse limits the
mechanics allow, and whether the servo is mounted the other way round.
"""

import dataclasses
import math
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class AxisCalibration:
    """Linear angle <-> pulse-width map of one servo axis.

    ``pulse = center_us + us_per_rad * angle`` (``-angle`` when ``invert``),
    clamped into ``[min_us, max_us]``.  The defaults span 500..2500 us over
    180 degrees with 1500 us at angle 0.
    """

    center_us: float = 1500.0
    us_per_rad: float = 2000.0 / math.pi
    min_us: float = 500.0
    max_us: float = 2500.0
    invert: bool = False

    def angle_to_us(self, angle: float) -> float:
        """Return the pulse width in microseconds for ``angle`` radians, clamped to the limits.

        A NaN angle maps to ``center_us``.
        """
        signed = -angle if self.invert else angle
        us = self.center_us + self.us_per_rad * signed
        if math.isnan(us):
            return self.center_us
        return min(self.max_us, max(self.min_us, us))

    def us_to_angle(self, us: float) -> float:
        """Return the angle in radians that ``us`` microseconds commands.

        This is the exact inverse of :meth:`angle_to_us` inside ``[min_us, max_us]``;
        it does not clamp, so a pulse outside the limits maps to an angle outside
        :meth:`angle_limits`.
        """
        angle = (us - self.center_us) / self.us_per_rad
        return -angle if self.invert else angle

    def angle_limits(self) -> Tuple[float, float]:
        """Return ``(lowest, highest)`` angle reachable inside the pulse limits."""
        a = self.us_to_angle(self.min_us)
        b = self.us_to_angle(self.max_us)
        return (min(a, b), max(a, b))

    def validate(self, prefix: str = '') -> None:
        """Raise ValueError naming the offending field when the calibration is unusable.

        ``prefix`` (for example ``'pan'``) is put in front of each field name
        in the message: ``pan.min_us (2600) must be < pan.max_us (2500)``.
        """
        def name(field: str) -> str:
            return '{}.{}'.format(prefix, field) if prefix else field

        for field in ('center_us', 'us_per_rad', 'min_us', 'max_us'):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ValueError('{} ({!r}) must be a finite number'.format(name(field), value))
        if not isinstance(self.invert, bool):
            raise ValueError('{} ({!r}) must be true or false'.format(
                name('invert'), self.invert))
        if self.us_per_rad <= 0:
            raise ValueError('{} ({:g}) must be > 0 (use {} to flip the direction)'.format(
                name('us_per_rad'), self.us_per_rad, name('invert')))
        if self.min_us < 0:
            raise ValueError('{} ({:g}) must be >= 0'.format(name('min_us'), self.min_us))
        if self.min_us >= self.max_us:
            raise ValueError('{} ({:g}) must be < {} ({:g})'.format(
                name('min_us'), self.min_us, name('max_us'), self.max_us))
        if not self.min_us <= self.center_us <= self.max_us:
            raise ValueError('{} ({:g}) must be within {} ({:g}) .. {} ({:g})'.format(
                name('center_us'), self.center_us, name('min_us'), self.min_us,
                name('max_us'), self.max_us))
