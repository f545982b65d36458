# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The servo's parameters (:data:`PARAMS`, :data:`RULES`) and their typed form, ServoConfig.

ROS-free: the table is checked once (each value by its :class:`Param`, the pairs by
:data:`RULES`); :meth:`ServoConfig.from_params` turns the checked flat values
(``'pan.kp'`` ...) into the typed settings the cores take: a
:class:`~face_tracker_ros.servo.control.TrackerConfig`, per axis its
:class:`~face_tracker_ros.servo.control.AxisGains` and
:class:`~face_tracker_ros.servo.calibration.AxisCalibration`, the serial link, the
connection and the protocol.  The node builds it at start and again for every live change.
"""

import dataclasses
import math
from typing import Any, Mapping, Tuple

from face_tracker_ros.common.params import (
    at_least,
    at_most,
    COMMON,
    differ,
    Param,
    ParameterError,
    within,
)
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.connection_config import ConnectionConfig
from face_tracker_ros.servo.control import AxisGains, TrackerConfig
from face_tracker_ros.servo.protocols import PROTOCOLS

BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)

#: Why the pulse calibration is read-only.
_PULSES = ('the pulse calibration and limits protect the mechanism; check them with the '
           'servo parked')
#: Why the serial link settings are read-only.
_LINK = 'the serial connection is set up with it at start'


def axis_params(axis: str, limit: float) -> Tuple[Param, ...]:
    """Return the parameters of one axis (``pan.*`` or ``tilt.*``), travel limits +-``limit``."""
    g = AxisGains()
    c = AxisCalibration()
    return (
        Param(f'{axis}.min_angle', -limit, f'Soft travel limit of {axis}, low side',
              min=-math.pi, max=math.pi, unit='rad', live=True),
        Param(f'{axis}.max_angle', limit, f'Soft travel limit of {axis}, high side',
              min=-math.pi, max=math.pi, unit='rad', live=True),
        Param(f'{axis}.home', 0.0, f'Home angle of {axis}', min=-math.pi, max=math.pi,
              unit='rad', live=True),
        Param(f'{axis}.kp', g.kp, f'{axis} proportional gain (velocity per error)', min=0.0,
              max=100.0, unit='1/s', live=True),
        Param(f'{axis}.ki', g.ki, f'{axis} integral gain', min=0.0, max=100.0, unit='1/s^2',
              live=True),
        Param(f'{axis}.kd', g.kd, f'{axis} derivative gain', min=0.0, max=10.0, live=True),
        Param(f'{axis}.deadband', g.deadband, f'{axis} errors below this are ignored',
              min=0.0, max=0.5, unit='rad', live=True),
        Param(f'{axis}.integral_limit', g.integral_limit, f'{axis} anti-windup clamp of the '
              'error integral', min=0.0, max=10.0, unit='rad*s', live=True),
        Param(f'{axis}.max_velocity', g.max_velocity, f'{axis} slew-rate limit',
              min=0.01, max=20.0, unit='rad/s', live=True),
        Param(f'{axis}.invert', c.invert, f'{axis} servo mounted reversed (flips the pulse '
              'direction)', live=True),
        Param(f'{axis}.center_us', c.center_us, f'{axis} pulse width at angle 0',
              min=400.0, max=2600.0, unit='us', why=_PULSES),
        Param(f'{axis}.us_per_rad', c.us_per_rad, f'{axis} pulse width change per radian',
              min=50.0, max=5000.0, unit='us/rad', why=_PULSES),
        Param(f'{axis}.min_us', c.min_us, f'{axis} shortest pulse sent', min=400.0,
              max=2600.0, unit='us', why=_PULSES),
        Param(f'{axis}.max_us', c.max_us, f'{axis} longest pulse sent', min=400.0,
              max=2600.0, unit='us', why=_PULSES),
    )


def axis_rules(axis: str):
    """Return the rules between the parameters of one axis."""
    return (
        at_most(f'{axis}.min_angle', f'{axis}.max_angle', strict=True),
        within(f'{axis}.home', f'{axis}.min_angle', f'{axis}.max_angle'),
        at_most(f'{axis}.min_us', f'{axis}.max_us', strict=True),
        within(f'{axis}.center_us', f'{axis}.min_us', f'{axis}.max_us'),
    )


_T = TrackerConfig()
_C = ConnectionConfig()

PARAMS = (
    Param('port', '/dev/ttyUSB0', 'Serial port of the servo controller (device, by-id link '
          'or pyserial URL)', why='the port is opened at start'),
    Param('baudrate', 115200, 'Serial baud rate', choices=BAUDRATES,
          why='the port is opened at start'),
    Param('protocol', 'ascii', 'Servo controller protocol', choices=PROTOCOLS, why=_LINK),
    Param('maestro.pan_channel', 0, 'Maestro channel of the pan servo', min=0, max=23,
          why=_LINK),
    Param('maestro.tilt_channel', 1, 'Maestro channel of the tilt servo', min=0, max=23,
          why=_LINK),
    Param('hfov', _T.hfov, 'Horizontal field of view of the camera', min=0.1, max=3.0,
          unit='rad', live=True),
    Param('vfov', _T.vfov, 'Vertical field of view of the camera', min=0.1, max=3.0,
          unit='rad', live=True),
    Param('max_target_age_s', _T.max_target_age, 'Targets older than this (capture to now) '
          'are ignored; no face for this long means the face is lost', min=0.01, max=10.0,
          unit='s', live=True),
    Param('max_target_lead_s', _T.max_lead, 'Targets stamped more than this ahead of the '
          "servo's clock are refused; the newest target stamp this far ahead means the clock "
          'was stepped back (ordering restarts)', min=0.01, max=60.0, unit='s', live=True),
    Param('lost_hold_s', _T.lost_hold, 'After losing the face, hold still until this long '
          'after the last sighting, then return home', min=0.0, max=600.0, unit='s',
          live=True),
    Param('latency_compensation', _T.latency_compensation, "Correct each target by the head's "
          'move since its image was captured (keeps high gains stable despite pipeline '
          'delay)', live=True),
    Param('home_speed', _T.home_speed, 'Speed of the return home', min=0.01, max=10.0,
          unit='rad/s', live=True),
    Param('tick_rate_hz', 20.0, 'Rate of the timer that handles lost targets, replies and '
          'reconnects', min=1.0, max=200.0, unit='Hz', why='the timer is created at start'),
    Param('write_timeout_s', 0.05, 'Longest a serial write may block', min=0.001, max=2.0,
          unit='s', why='the port is opened at start'),
    Param('reply_timeout_s', _C.reply_timeout_s, 'A request unanswered this long means the '
          'controller is unresponsive: the port is closed and reopened', min=0.05, max=60.0,
          unit='s', why=_LINK),
    Param('handshake_timeout_s', _C.handshake_timeout_s, 'Time a newly opened controller has '
          'to answer the handshake (Arduinos reset on open)', min=0.05, max=60.0, unit='s',
          why=_LINK),
    Param('keepalive_s', _C.keepalive_s, 'Handshake sent this often when nothing else asks '
          'for a reply (the Maestro never acknowledges moves)', min=0.05, max=60.0, unit='s',
          why=_LINK),
    Param('slow_reply_warn_s', 0.25, 'Controller replies slower than this (over the last 5 s) '
          'are WARN', min=0.001, max=60.0, unit='s', live=True),
    Param('max_garbage', _C.max_garbage, 'Garbage replies within 2 s, with no valid reply, '
          'after which the port is reopened (wrong baud rate?)', min=1, max=10000, why=_LINK),
    Param('reconnect_backoff_s', 0.5, 'First wait before reopening the port', min=0.01,
          max=60.0, unit='s', why=_LINK),
    Param('reconnect_backoff_max_s', 5.0, 'Longest wait between reopen attempts', min=0.01,
          max=600.0, unit='s', why=_LINK),
) + axis_params('pan', 1.3) + axis_params('tilt', 0.7) + COMMON

#: Rules between the servo's parameters, checked at start and for every change.
RULES = (
    at_least('handshake_timeout_s', 'reply_timeout_s',
             why='the handshake is a request that must be answered in time too'),
    at_least('reconnect_backoff_max_s', 'reconnect_backoff_s'),
    differ('maestro.pan_channel', 'maestro.tilt_channel'),
) + axis_rules('pan') + axis_rules('tilt')


def axis_gains(p: Mapping[str, Any], axis: str) -> AxisGains:
    """Return the gains and travel limits of ``axis`` from the flat values."""
    return AxisGains(kp=p[f'{axis}.kp'], ki=p[f'{axis}.ki'], kd=p[f'{axis}.kd'],
                     deadband=p[f'{axis}.deadband'],
                     integral_limit=p[f'{axis}.integral_limit'],
                     max_velocity=p[f'{axis}.max_velocity'], min_angle=p[f'{axis}.min_angle'],
                     max_angle=p[f'{axis}.max_angle'], home=p[f'{axis}.home'])


def axis_calibration(p: Mapping[str, Any], axis: str) -> AxisCalibration:
    """Return the pulse calibration of ``axis`` from the flat values."""
    return AxisCalibration(center_us=p[f'{axis}.center_us'], us_per_rad=p[f'{axis}.us_per_rad'],
                           min_us=p[f'{axis}.min_us'], max_us=p[f'{axis}.max_us'],
                           invert=p[f'{axis}.invert'])


@dataclasses.dataclass(frozen=True)
class LinkConfig:
    """The serial port and how it is opened (:class:`~face_tracker_ros.servo.link.SerialLink`)."""

    port: str
    baudrate: int
    write_timeout_s: float


@dataclasses.dataclass(frozen=True)
class ProtocolConfig:
    """The controller protocol and the Maestro channels (:func:`~.protocols.make_protocol`)."""

    name: str
    pan_channel: int
    tilt_channel: int


@dataclasses.dataclass(frozen=True)
class ServoConfig:
    """The servo node's settings, typed, as the cores take them."""

    tracker: TrackerConfig
    pan_gains: AxisGains
    tilt_gains: AxisGains
    pan_calibration: AxisCalibration
    tilt_calibration: AxisCalibration
    link: LinkConfig
    connection: ConnectionConfig
    #: First and longest wait before reopening the port (:class:`~.link.Backoff`), seconds.
    backoff_initial_s: float
    backoff_max_s: float
    protocol: ProtocolConfig
    tick_rate_hz: float
    slow_reply_warn_s: float

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'ServoConfig':
        """Build the typed settings from values checked by :data:`PARAMS` and :data:`RULES`.

        ParameterError when the port is empty or a calibration is unusable.
        """
        p = values
        if not p['port']:
            raise ParameterError("parameter 'port' is required (e.g. /dev/ttyUSB0, "
                                 '/dev/serial/by-id/...)')
        pan_cal, tilt_cal = axis_calibration(p, 'pan'), axis_calibration(p, 'tilt')
        try:
            pan_cal.validate('pan')
            tilt_cal.validate('tilt')
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        return cls(
            tracker=TrackerConfig(hfov=p['hfov'], vfov=p['vfov'],
                                  max_target_age=p['max_target_age_s'],
                                  lost_hold=p['lost_hold_s'], home_speed=p['home_speed'],
                                  latency_compensation=p['latency_compensation'],
                                  max_lead=p['max_target_lead_s']),
            pan_gains=axis_gains(p, 'pan'), tilt_gains=axis_gains(p, 'tilt'),
            pan_calibration=pan_cal, tilt_calibration=tilt_cal,
            link=LinkConfig(port=p['port'], baudrate=p['baudrate'],
                            write_timeout_s=p['write_timeout_s']),
            connection=ConnectionConfig(
                reply_timeout_s=p['reply_timeout_s'],
                handshake_timeout_s=p['handshake_timeout_s'], keepalive_s=p['keepalive_s'],
                max_garbage=p['max_garbage']),
            backoff_initial_s=p['reconnect_backoff_s'],
            backoff_max_s=p['reconnect_backoff_max_s'],
            protocol=ProtocolConfig(name=p['protocol'], pan_channel=p['maestro.pan_channel'],
                                    tilt_channel=p['maestro.tilt_channel']),
            tick_rate_hz=p['tick_rate_hz'], slow_reply_warn_s=p['slow_reply_warn_s'])

    @property
    def home_us(self) -> Tuple[float, float]:
        """Return the pulses ``(pan_us, tilt_us)`` of the home angles."""
        return (self.pan_calibration.angle_to_us(self.pan_gains.home),
                self.tilt_calibration.angle_to_us(self.tilt_gains.home))
