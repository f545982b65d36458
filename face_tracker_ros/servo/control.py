# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The pan/tilt control law: from a face's image offset to commanded joint angles.

Each axis runs a velocity-form PID on its angle error: the controller output
is a joint velocity (rad/s) that is slew-limited and integrated into the
commanded angle, which is then held inside soft travel limits.  Working in
velocity form makes the gains independent of the frame rate.

* **Deadband**: errors smaller than ``deadband`` (rad) count as zero, and
  larger ones are reduced by it, so the command has no step at its edge and
  the head does not hunt around the centre.
* **Anti-windup**: the integral is clamped to ``+-integral_limit`` (rad*s) and
  stops growing while the axis sits at a travel limit pushing outwards.
* **Slew-rate limit**: ``max_velocity`` (rad/s) caps the commanded velocity.

**Latency compensation**: an observation describes the face relative to
where the head pointed when the image was captured, tens of milliseconds
ago; the head has moved since.  The tracker keeps the commands of the last
second and corrects each error by the move made since the capture
(``error_now = error_at_capture + command_at_capture - command_now``), so
commands already on their way are not issued twice.  This removes the
overshoot that the pipeline's delay would otherwise cause and allows firmer
gains.

The tracker as a whole (:class:`PanTiltController`) adds the target life
cycle: targets older than ``max_target_age`` seconds are ignored; when the face
is lost (no face for ``max_target_age`` seconds) the head holds still until
``lost_hold`` seconds after the last sighting, then returns home at
``home_speed`` rad/s and stays there until a face is seen again.

**Stamps it does not trust**: targets are taken in stamp order (a target
stamped at or before the newest one taken is out of order), but a stamp is
only taken when it lies within ``max_target_age`` before and ``max_lead``
after the receive clock, so one far-future stamp (a bad clock, a hostile
publisher) is refused instead of becoming a high-water mark that every later
target falls below.  A receive clock that steps backwards (NTP correcting
the clock of a computer without a real-time clock) is noticed when ``now``
goes back by more than :data:`CLOCK_STEP_S`, or when the newest stamp taken
lies more than ``max_lead`` ahead of ``now``: the ordering and the time-based
state restart from the current command, so tracking resumes with the next
frame instead of after the length of the step.  Every refusal is counted by
reason in :attr:`PanTiltController.refused`.
"""

import bisect
from collections import deque
from dataclasses import dataclass
import math
from typing import Deque, Optional, Tuple

from face_tracker_ros.geometry import offset_to_angle_errors

TRACKING = 'tracking'
HOLDING = 'holding'
RETURNING = 'returning_home'
HOME = 'home'
STATES = (TRACKING, HOLDING, RETURNING, HOME)

# Largest time step one update integrates: longer gaps (a dropped frame burst,
# a paused process) restart the step instead of producing a jump.
MAX_STEP_S = 0.25

#: One observation moves an axis at most this fraction of its error.  The velocity-form step
#: ``kp * error * dt`` exceeds the error itself once frames come further apart than 1 / kp
#: (0.1 s at the default kp 10): on a small or busy computer whose detector falls to a few
#: frames per second the head was sent past the face, and with the capture-to-command delay
#: the next frame saw that late: an oscillation.  In the in-process closed loop (drift path,
#: virtual clock) at 5 fps and 0.15 s latency the RMS error was 0.36 without the limit and
#: 0.038 with it; at 30 fps the limit is never reached (kp * dt = 0.33).
MAX_STEP_FRACTION = 0.8

# How much command history latency compensation keeps (longer than any useful target age).
HISTORY_S = 2.0

#: A receive clock that goes back by more than this (seconds) has been stepped backwards.
CLOCK_STEP_S = 0.1

#: Reasons a target is refused, the keys of :attr:`PanTiltController.refused`.
REFUSALS = ('stale', 'future', 'out_of_order')

#: Largest ``|x|`` and ``|y|`` of a target: the face centre's offset from the image centre is
#: in [-1, 1]; a little more is tolerated for a detection box reaching past the image edge.
OFFSET_LIMIT = 1.1

#: Largest target size ``z`` (face width over image width; 0 means no face).
MAX_FACE_SIZE = 1.5


def target_problem(x: float, y: float, z: float) -> Optional[str]:
    """Return why ``(x, y, z)`` is not a target the detector could have sent, or None."""
    if not all(math.isfinite(v) for v in (x, y, z)):
        return f'({x}, {y}, {z}) is not finite'
    if abs(x) > OFFSET_LIMIT or abs(y) > OFFSET_LIMIT:
        return f'offset ({x:g}, {y:g}) is outside +-{OFFSET_LIMIT:g}'
    if not 0.0 <= z <= MAX_FACE_SIZE:
        return f'face size z {z:g} is outside 0..{MAX_FACE_SIZE:g}'
    return None


def _time_of(entry: Tuple[float, float, float]) -> float:
    return entry[0]


@dataclass(frozen=True)
class AxisGains:
    """Gains and limits of one axis; angles in radians, times in seconds."""

    kp: float = 10.0
    ki: float = 1.0
    kd: float = 0.0
    deadband: float = 0.005
    integral_limit: float = 0.1
    max_velocity: float = 2.0
    min_angle: float = -1.3
    max_angle: float = 1.3
    home: float = 0.0

    def validate(self, axis: str) -> None:
        """Raise ValueError naming the first bad field as ``<axis>.<field>``."""
        for field in ('kp', 'ki', 'kd', 'deadband', 'integral_limit'):
            if getattr(self, field) < 0.0:
                raise ValueError(f'{axis}.{field} must be >= 0, got {getattr(self, field)}')
        if self.max_velocity <= 0.0:
            raise ValueError(f'{axis}.max_velocity must be > 0, got {self.max_velocity}')
        if not self.min_angle < self.max_angle:
            raise ValueError(f'{axis}.min_angle ({self.min_angle}) must be < '
                             f'{axis}.max_angle ({self.max_angle})')
        if not self.min_angle <= self.home <= self.max_angle:
            raise ValueError(f'{axis}.home ({self.home}) must lie within '
                             f'[{self.min_angle}, {self.max_angle}]')


class AxisController:
    """Velocity-form PID with deadband, anti-windup, slew limit and soft limits."""

    def __init__(self, gains: AxisGains):
        """Start at the home angle with a cleared integral."""
        self.gains = gains
        self.position = gains.home
        self.integral = 0.0
        self._prev_error: Optional[float] = None

    def reset(self) -> None:
        """Forget the integral and derivative history (the position stays)."""
        self.integral = 0.0
        self._prev_error = None

    @property
    def saturated(self) -> bool:
        """True when the commanded angle sits at a travel limit."""
        g = self.gains
        return self.position <= g.min_angle or self.position >= g.max_angle

    def update(self, error: float, dt: float) -> float:
        """Integrate one step towards zero ``error`` (rad) and return the new angle."""
        g = self.gains
        dt = min(max(dt, 0.0), MAX_STEP_S)
        if abs(error) <= g.deadband:
            e = 0.0
        else:
            e = math.copysign(abs(error) - g.deadband, error)
        derivative = 0.0
        if self._prev_error is not None and dt > 0.0:
            derivative = (e - self._prev_error) / dt
        self._prev_error = e
        pushing_out = ((self.position >= g.max_angle and e > 0.0)
                       or (self.position <= g.min_angle and e < 0.0))
        if not pushing_out:
            self.integral += e * dt
            self.integral = min(max(self.integral, -g.integral_limit), g.integral_limit)
        velocity = g.kp * e + g.ki * self.integral + g.kd * derivative
        velocity = min(max(velocity, -g.max_velocity), g.max_velocity)
        step = velocity * dt
        if e != 0.0 and abs(step) > MAX_STEP_FRACTION * abs(e):
            step = math.copysign(MAX_STEP_FRACTION * abs(e), step)
        self.position = min(max(self.position + step, g.min_angle), g.max_angle)
        return self.position

    def move_towards(self, goal: float, speed: float, dt: float) -> float:
        """Slew towards ``goal`` at ``speed`` rad/s without any PID action."""
        step = speed * min(max(dt, 0.0), MAX_STEP_S)
        delta = goal - self.position
        self.position += max(-step, min(step, delta))
        return self.position


@dataclass(frozen=True)
class TrackerConfig:
    """What the pan/tilt tracker needs beyond the per-axis gains."""

    hfov: float = math.radians(60.0)
    vfov: float = 2.0 * math.atan(math.tan(math.radians(30.0)) * 0.75)
    max_target_age: float = 0.5
    lost_hold: float = 1.5
    home_speed: float = 0.3
    latency_compensation: bool = True
    max_lead: float = 1.0

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        for field in ('hfov', 'vfov'):
            if not 0.0 < getattr(self, field) < math.pi:
                raise ValueError(f'{field} must be in (0, pi) radians, '
                                 f'got {getattr(self, field)}')
        if self.max_target_age <= 0.0:
            raise ValueError(f'max_target_age must be > 0 s, got {self.max_target_age}')
        if self.lost_hold < 0.0:
            raise ValueError(f'lost_hold must be >= 0 s, got {self.lost_hold}')
        if self.home_speed <= 0.0:
            raise ValueError(f'home_speed must be > 0 rad/s, got {self.home_speed}')
        if not self.max_lead > 0.0:
            raise ValueError(f'max_lead must be > 0 s, got {self.max_lead}')


class PanTiltController:
    """Turns target observations into pan/tilt commands, with the lost-face behaviour.

    Times are seconds on one clock shared with the observation stamps (the
    ROS system clock in the node, a virtual clock in the in-process loop).
    Methods return the new ``(pan, tilt)`` command, or None when nothing
    should be sent.
    """

    def __init__(self, config: TrackerConfig, pan: AxisGains, tilt: AxisGains):
        """Validate the configuration and start at home, in state ``home``."""
        config.validate()
        pan.validate('pan')
        tilt.validate('tilt')
        self.config = config
        self.pan = AxisController(pan)
        self.tilt = AxisController(tilt)
        self.state = HOME
        self.last_face_time: Optional[float] = None
        self._last_stamp: Optional[float] = None
        self._last_tick: Optional[float] = None
        self._last_now: Optional[float] = None
        #: Targets refused, by reason (:data:`REFUSALS`).
        self.refused = dict.fromkeys(REFUSALS, 0)
        #: Backward steps of the receive clock noticed, and the size of the latest (s).
        self.clock_steps = 0
        self.last_clock_step = 0.0
        # (time, pan, tilt) of recent commands, oldest first, for latency compensation.
        self._history: Deque[Tuple[float, float, float]] = deque(
            [(-math.inf, pan.home, tilt.home)])

    @property
    def command(self) -> Tuple[float, float]:
        """The current commanded (pan, tilt) in radians."""
        return self.pan.position, self.tilt.position

    @property
    def stale_targets(self) -> int:
        """Targets refused for being older than ``max_target_age``."""
        return self.refused['stale']

    def is_stale(self, stamp: float, now: float) -> bool:
        """Return True when an observation stamped ``stamp`` is too old at ``now``."""
        return now - stamp > self.config.max_target_age

    def refusal(self, stamp: float, now: float) -> Optional[str]:
        """Return why a target stamped ``stamp`` would be refused at ``now`` (None: taken).

        Notices a backward step of the receive clock first (see the module text).
        """
        self._check_clock(now)
        if self.is_stale(stamp, now):
            return 'stale'
        if stamp - now > self.config.max_lead:
            return 'future'
        if self._last_stamp is not None and stamp <= self._last_stamp:
            return 'out_of_order'
        return None

    def _check_clock(self, now: float) -> None:
        last = self._last_now
        self._last_now = now
        step = 0.0
        if last is not None and now < last - CLOCK_STEP_S:
            step = last - now
        elif self._last_stamp is not None and self._last_stamp - now > self.config.max_lead:
            step = self._last_stamp - now
        if step <= 0.0:
            return
        # Everything remembered in the old time line is in the future now: restart it from
        # the current command.  A face seen just before the step counts as seen now.
        self.clock_steps += 1
        self.last_clock_step = step
        self._last_stamp = None
        self._last_tick = now
        if self.last_face_time is not None:
            self.last_face_time = now
        self._history = deque([(-math.inf, self.pan.position, self.tilt.position)])

    def observe_face(self, x: float, y: float, stamp: float,
                     now: float) -> Optional[Tuple[float, float]]:
        """Act on a face at normalised offset (x, y) in an image captured at ``stamp``."""
        why = self.refusal(stamp, now)
        if why is not None:
            self.refused[why] += 1
            return None
        dt = 0.0 if self._last_stamp is None else stamp - self._last_stamp
        if self.state != TRACKING:
            self.pan.reset()
            self.tilt.reset()
            dt = 0.0 if self.state == HOME else min(dt, MAX_STEP_S)
        self._last_stamp = stamp
        self.last_face_time = now
        self.state = TRACKING
        pan_err, tilt_err = offset_to_angle_errors(x, y, self.config.hfov, self.config.vfov)
        if self.config.latency_compensation:
            pan_then, tilt_then = self.command_at(stamp)
            pan_err += pan_then - self.pan.position
            tilt_err += tilt_then - self.tilt.position
        self.pan.update(pan_err, dt)
        self.tilt.update(tilt_err, dt)
        self._last_tick = now
        self._remember(now)
        return self.command

    def command_at(self, t: float) -> Tuple[float, float]:
        """Return the command in force at time ``t`` (the oldest one known if earlier)."""
        i = bisect.bisect_right(self._history, t, key=_time_of) - 1
        _, pan, tilt = self._history[max(i, 0)]
        return pan, tilt

    def _remember(self, now: float) -> None:
        self._history.append((now, self.pan.position, self.tilt.position))
        while len(self._history) > 1 and self._history[1][0] < now - HISTORY_S:
            self._history.popleft()

    def observe_no_face(self, stamp: float, now: float) -> Optional[Tuple[float, float]]:
        """Record an explicit "no face" observation; returns what :meth:`tick` returns."""
        why = self.refusal(stamp, now)
        if why is None:
            self._last_stamp = stamp
        else:
            self.refused[why] += 1
        return self.tick(now)

    def tick(self, now: float) -> Optional[Tuple[float, float]]:
        """Advance the lost-face behaviour; call periodically and on "no face"."""
        self._check_clock(now)
        dt = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        if self.state == TRACKING:
            if self.last_face_time is not None and now - self.last_face_time > \
                    self.config.max_target_age:
                self.state = HOLDING
                self.pan.reset()
                self.tilt.reset()
            return None
        if self.state == HOLDING:
            if self.last_face_time is None or \
                    now - self.last_face_time >= self.config.lost_hold:
                self.state = RETURNING
            return None
        if self.state == RETURNING:
            speed = self.config.home_speed
            self.pan.move_towards(self.pan.gains.home, speed, dt)
            self.tilt.move_towards(self.tilt.gains.home, speed, dt)
            if self.pan.position == self.pan.gains.home and \
                    self.tilt.position == self.tilt.gains.home:
                self.state = HOME
            self._remember(now)
            return self.command
        return None
