# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated controller's parameters (:data:`PARAMS`, :data:`RULES`), :class:`SimServoConfig`.

ROS-free: the table is checked once (each value by its :class:`Param`, the
pairs and the fault schedule by :data:`RULES`); :meth:`SimServoConfig.from_params`
turns the checked flat values into what
:class:`~face_tracker_ros.sim.controller.SimServoController` takes.
"""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Tuple

from face_tracker_ros.common.params import COMMON, differ, Param, Rule
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.protocols import PROTOCOLS
from face_tracker_ros.sim.serial_faults import parse_serial_faults, SerialFault


def _axis_params(axis: str, travel: float):
    c = AxisCalibration()
    return (
        Param(f'{axis}.travel', travel, f'Physical travel limit of the simulated {axis} servo '
              '(+-)', min=0.05, max=math.pi, unit='rad'),
        Param(f'{axis}.invert', False, f'Simulate a {axis} servo mounted reversed'),
        Param(f'{axis}.center_us', c.center_us, f'Pulse width that puts {axis} at 0',
              min=400.0, max=2600.0, unit='us'),
        Param(f'{axis}.us_per_rad', c.us_per_rad, f'{axis} pulse width change per radian',
              min=50.0, max=5000.0, unit='us/rad'),
    )


PARAMS = (
    Param('protocol', 'ascii', 'Protocol the simulated firmware speaks', choices=PROTOCOLS),
    Param('link_path', '', 'Symlink to the pseudo-terminal; empty = '
          '$XDG_RUNTIME_DIR/face_tracker_ros/sim_servo (or /tmp/face_tracker_ros-<uid>/...)'),
    Param('maestro.pan_channel', 0, 'Maestro channel of the pan servo', min=0, max=23),
    Param('maestro.tilt_channel', 1, 'Maestro channel of the tilt servo', min=0, max=23),
    Param('max_speed', 3.0, 'Servo speed (about 0.17 s per 60 degrees, a common hobby servo)',
          min=0.01, max=50.0, unit='rad/s'),
    Param('faults', '', 'Fault schedule of the simulated controller: comma-separated '
          '<kind>:<start_s>:<duration_s>[:<value>], kinds disconnect, garbage, silent, slow, '
          'stall, error_storm (e.g. "disconnect:20:3")'),
    Param('publish_rate_hz', 100.0, 'Rate of sim/joint_states', min=1.0, max=1000.0, unit='Hz'),
    Param('stop_linger_s', 2.0, 'After its stop signal, go on serving a client that has the '
          'port open until it closes it (the servo node parking the head: under ros2 launch '
          'both stop at once), at most this long; 0 = close at once', min=0.0, max=10.0,
          unit='s', live=True),
) + _axis_params('pan', 1.4) + _axis_params('tilt', 0.8) + COMMON


def _schedule(text: str) -> Tuple[SerialFault, ...]:
    return tuple(parse_serial_faults([e for e in text.split(',') if e.strip()], 'faults'))


def _faults_problem(v):
    try:
        _schedule(v['faults'])
    except ValueError as exc:
        return str(exc)
    return None


#: Rules between the simulated controller's parameters, checked at start.
RULES = (differ('maestro.pan_channel', 'maestro.tilt_channel'),
         Rule(('faults',), _faults_problem))


@dataclass(frozen=True)
class SimServoConfig:
    """The simulated controller's settings, typed (``link_path`` '' = the default path)."""

    protocol: str
    link_path: str
    pan_cal: AxisCalibration
    tilt_cal: AxisCalibration
    pan_channel: int
    tilt_channel: int
    pan_limits: Tuple[float, float]
    tilt_limits: Tuple[float, float]
    max_speed: float
    faults: Tuple[SerialFault, ...]
    publish_rate_hz: float
    stop_linger_s: float

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'SimServoConfig':
        """Return the typed configuration of the flat values ``values`` (already checked)."""
        v = values

        def cal(axis):
            return AxisCalibration(center_us=v[f'{axis}.center_us'],
                                   us_per_rad=v[f'{axis}.us_per_rad'],
                                   invert=v[f'{axis}.invert'])
        return cls(protocol=v['protocol'], link_path=v['link_path'], pan_cal=cal('pan'),
                   tilt_cal=cal('tilt'), pan_channel=v['maestro.pan_channel'],
                   tilt_channel=v['maestro.tilt_channel'],
                   pan_limits=(-v['pan.travel'], v['pan.travel']),
                   tilt_limits=(-v['tilt.travel'], v['tilt.travel']),
                   max_speed=v['max_speed'], faults=_schedule(v['faults']),
                   publish_rate_hz=v['publish_rate_hz'], stop_linger_s=v['stop_linger_s'])
