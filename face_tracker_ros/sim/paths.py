# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Where the simulated face is: seeded, deterministic paths of a world direction over time.

A path maps a time ``t`` in seconds to the face's world direction
``(azimuth, elevation)`` in radians, measured from the pan/tilt home direction
with azimuth positive to the left and elevation positive upwards (the
convention of :func:`face_tracker_ros.geometry.direction_to_pixel`).  Every path
is a pure function of ``(t, seed)``.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
import math
from typing import Optional, Tuple

import numpy as np

from face_tracker_ros.common.checks import check_int, check_number

PATHS = ('still', 'drift', 'steps', 'leave_return')

# still: off the home axis, so the servo has to move once.
STILL_DIRECTION = (0.15, -0.05)
# drift: Lissajous amplitudes (rad) and angular frequencies (rad/s); the peak speed
# is at most hypot(0.35 * 0.30, 0.12 * 0.40) = 0.116 rad/s.
DRIFT_AZ_AMPLITUDE = 0.35
DRIFT_EL_AMPLITUDE = 0.12
DRIFT_AZ_OMEGA = (0.22, 0.30)
DRIFT_EL_OMEGA = (0.30, 0.40)
DRIFT_MAX_SPEED = math.hypot(DRIFT_AZ_AMPLITUDE * DRIFT_AZ_OMEGA[1],
                             DRIFT_EL_AMPLITUDE * DRIFT_EL_OMEGA[1])
# steps: a new direction every STEP_PERIOD seconds within these bounds.
STEP_PERIOD = 4.0
STEP_AZ_LIMIT = 0.45
STEP_EL_LIMIT = 0.2
STEP_MIN_AZ = 0.1


@dataclass(frozen=True)
class LeaveSchedule:
    """When and where a face is away: azimuth +-``azimuth`` rad during leave window k >= 0.

    Window k is ``[start + k * period, start + k * period + duration)`` seconds.
    """

    start: float
    duration: float
    period: float
    azimuth: float

    def window(self, t: float) -> Optional[int]:
        """Return k while ``t`` is inside leave window k, else None (the face is in view)."""
        if t >= self.start and (t - self.start) % self.period < self.duration:
            return math.floor((t - self.start) / self.period)
        return None


# leave_return: away for 3 s at t = 10 s and every 20 s after, beyond the pan travel.
LEAVE = LeaveSchedule(start=10.0, duration=3.0, period=20.0, azimuth=2.1)


def _seed_word(value: int) -> int:
    """Map any integer to a non-negative one, one to one (for numpy seed sequences)."""
    return 2 * value if value >= 0 else -2 * value - 1


def _rng(*words: int) -> np.random.Generator:
    """Return a generator seeded by a sequence of integers of any sign."""
    return np.random.default_rng([_seed_word(w) for w in words])


class FacePath(ABC):
    """A deterministic face trajectory: time in seconds -> (azimuth, elevation) in radians."""

    def position(self, t: float) -> Tuple[float, float]:
        """Return the face direction ``(azimuth, elevation)`` in radians at time ``t``.

        Azimuth is positive to the left, elevation positive upwards.  Raises
        ValueError if ``t`` is not a finite number.
        """
        return self._position(check_number('t', t, unit='seconds'))

    @abstractmethod
    def _position(self, t: float) -> Tuple[float, float]:
        """Return the direction at the finite time ``t``."""


class StillPath(FacePath):
    """A face that never moves, off the home axis."""

    def _position(self, t: float) -> Tuple[float, float]:
        return STILL_DIRECTION


class DriftPath(FacePath):
    """Smooth seeded Lissajous motion that starts off-centre, slower than ~0.12 rad/s."""

    def __init__(self, seed: int = 0) -> None:
        """Draw the amplitudes, frequencies and phases from ``seed``."""
        rng = _rng(seed, 1)
        self.az_amplitude = DRIFT_AZ_AMPLITUDE * rng.uniform(0.85, 1.0)
        self.az_omega = rng.uniform(*DRIFT_AZ_OMEGA)
        # |sin(phase)| >= 0.6: the face starts at least ~0.18 rad off-centre.
        self.az_phase = float(rng.choice([-1.0, 1.0])) * rng.uniform(0.65, math.pi - 0.65)
        self.el_amplitude = DRIFT_EL_AMPLITUDE * rng.uniform(0.85, 1.0)
        self.el_omega = rng.uniform(*DRIFT_EL_OMEGA)
        self.el_phase = rng.uniform(-math.pi, math.pi)

    def _position(self, t: float) -> Tuple[float, float]:
        return (self.az_amplitude * math.sin(self.az_omega * t + self.az_phase),
                self.el_amplitude * math.sin(self.el_omega * t + self.el_phase))


class StepsPath(FacePath):
    """Hold a seeded random direction, jump to a new one every 4 s.

    Successive directions alternate in azimuth sign, so every jump moves the
    face by at least 0.2 rad.
    """

    def __init__(self, seed: int = 0) -> None:
        """Remember ``seed``; each 4 s step draws its direction from (seed, step)."""
        self.seed = seed
        self.first_sign = float(_rng(seed, 2).choice([-1.0, 1.0]))

    def _position(self, t: float) -> Tuple[float, float]:
        step = math.floor(t / STEP_PERIOD)
        rng = _rng(self.seed, 3, step)
        sign = self.first_sign if step % 2 == 0 else -self.first_sign
        return (float(sign * rng.uniform(STEP_MIN_AZ, STEP_AZ_LIMIT)),
                float(rng.uniform(-STEP_EL_LIMIT, STEP_EL_LIMIT)))


class LeaveReturnPath(FacePath):
    """Drift, but leave far out of the pan range for 3 s at t = 10 s and every 20 s after.

    While away the azimuth is +-2.1 rad (the side alternates, the first one is
    seeded), beyond the 1.4 rad pan travel plus the half field of view.
    """

    def __init__(self, seed: int = 0) -> None:
        """Build the underlying drift and the seeded side of the first departure."""
        self.drift = DriftPath(seed)
        self.first_side = float(_rng(seed, 4).choice([-1.0, 1.0]))

    @staticmethod
    def away(t: float) -> bool:
        """Return True while the face is out of view (inside a leave window)."""
        return LEAVE.window(t) is not None

    def _position(self, t: float) -> Tuple[float, float]:
        azimuth, elevation = self.drift.position(t)
        window = LEAVE.window(t)
        if window is not None:
            side = self.first_side if window % 2 == 0 else -self.first_side
            azimuth = side * LEAVE.azimuth
        return azimuth, elevation


def make_path(name: str, seed: int = 0) -> FacePath:
    """Return the path called ``name`` (one of PATHS) seeded with ``seed``.

    Raises ValueError naming ``path`` and the allowed names for an unknown
    name, or naming ``seed`` if it is not an integer.
    """
    if name not in PATHS:
        allowed = ', '.join(repr(p) for p in PATHS)
        raise ValueError(f'path must be one of {allowed}; got {name!r}')
    seed = check_int('seed', seed)
    if name == 'still':
        return StillPath()
    if name == 'drift':
        return DriftPath(seed)
    if name == 'steps':
        return StepsPath(seed)
    return LeaveReturnPath(seed)
