# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Kinematic model of hobby servos: slew at a limited speed towards a target inside travel limits.

Angles are joint angles in radians with the conventions of
:mod:`face_tracker_ros.geometry`.  The model has no clock of its own: its
owner calls ``advance(dt)`` with the time that passed.
"""

import dataclasses
import math
from typing import Tuple

from face_tracker_ros.common.checks import is_number


@dataclasses.dataclass
class ServoAxisModel:
    """One servo axis: current ``angle`` moving towards ``target`` at most ``max_speed_rad_s``."""

    min_angle: float
    max_angle: float
    max_speed_rad_s: float
    angle: float = 0.0
    target: float = 0.0

    def __post_init__(self) -> None:
        """Validate the limits and clamp the initial angle and target into them."""
        for field in ('min_angle', 'max_angle', 'max_speed_rad_s', 'angle', 'target'):
            value = getattr(self, field)
            if not is_number(value):
                raise ValueError('{} ({!r}) must be a finite number'.format(field, value))
        if self.min_angle >= self.max_angle:
            raise ValueError('min_angle ({:g}) must be < max_angle ({:g})'.format(
                self.min_angle, self.max_angle))
        if self.max_speed_rad_s <= 0:
            raise ValueError('max_speed_rad_s ({:g}) must be > 0'.format(self.max_speed_rad_s))
        self.angle = self._clamp(self.angle)
        self.target = self._clamp(self.target)

    def _clamp(self, angle: float) -> float:
        return min(self.max_angle, max(self.min_angle, float(angle)))

    def set_target(self, angle: float) -> None:
        """Aim at ``angle`` radians, clamped to the travel limits; non-finite is ignored."""
        if math.isfinite(angle):
            self.target = self._clamp(angle)

    def advance(self, dt: float) -> None:
        """Move towards the target for ``dt`` seconds (no-op for dt <= 0 or non-finite)."""
        if not math.isfinite(dt) or dt <= 0:
            return
        step = self.max_speed_rad_s * dt
        error = self.target - self.angle
        if abs(error) <= step:
            self.angle = self.target
        else:
            self.angle += math.copysign(step, error)


class PanTiltModel:
    """The two axes of the pan/tilt head."""

    def __init__(self, pan: ServoAxisModel, tilt: ServoAxisModel) -> None:
        """Combine a pan and a tilt axis."""
        self.pan = pan
        self.tilt = tilt

    def advance(self, dt: float) -> None:
        """Move both axes for ``dt`` seconds."""
        self.pan.advance(dt)
        self.tilt.advance(dt)

    def angles(self) -> Tuple[float, float]:
        """Return the current ``(pan, tilt)`` angles in radians."""
        return self.pan.angle, self.tilt.angle
