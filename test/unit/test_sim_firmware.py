# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated servo controller without a transport: axis model, firmware, faults, validation.

The controller on a pseudo-terminal is in test/integration/test_sim_controller.py.
"""

import math

from conftest import FakeClock
import pytest

from face_tracker_ros.servo import protocols
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.protocols import Positions
from face_tracker_ros.sim.controller import parse_serial_faults, SimServoController
from face_tracker_ros.sim.firmware import FirmwareConfig, SimFirmware
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel

US_PER_RAD = 2000.0 / math.pi


def make_model(speed=3.0):
    """Return a pan/tilt model with the controller's default travel limits."""
    return PanTiltModel(ServoAxisModel(-1.4, 1.4, speed), ServoAxisModel(-0.8, 0.8, speed))


def test_axis_moves_at_most_max_speed_and_stops_on_target():
    """An axis slews at max speed and stops exactly on its target."""
    axis = ServoAxisModel(-1.0, 1.0, 2.0)
    axis.set_target(0.5)
    axis.advance(0.1)
    assert axis.angle == pytest.approx(0.2)
    axis.advance(1.0)
    assert axis.angle == 0.5
    axis.advance(-1.0)
    axis.advance(math.nan)
    assert axis.angle == 0.5


def test_axis_target_is_clamped_to_travel_limits():
    """Targets and start angles are clamped to the travel limits."""
    axis = ServoAxisModel(-1.0, 1.0, 2.0, angle=5.0)
    assert axis.angle == 1.0
    axis.set_target(-7.0)
    assert axis.target == -1.0
    axis.set_target(math.nan)
    assert axis.target == -1.0


@pytest.mark.parametrize('args, name', [
    ((1.0, -1.0, 1.0), 'min_angle'), ((-1.0, 1.0, 0.0), 'max_speed_rad_s'),
    ((-1.0, math.inf, 1.0), 'max_angle')])
def test_axis_validation(args, name):
    """Bad axis limits or speed raise ValueError naming the field."""
    with pytest.raises(ValueError, match=name):
        ServoAxisModel(*args)


def ascii_firmware(**kwargs):
    """Return an ASCII firmware over a default model."""
    return SimFirmware(FirmwareConfig('ascii'), make_model(), **kwargs)


def test_firmware_ascii_replies_are_independent_of_chunking():
    """The ASCII firmware answers the same whole or byte by byte."""
    stream = b'PING\nVERSION\r\nMOVE 2000 1000\nPOS?\nHOME\nBOGUS 1\nMOVE 1 2 3\n'
    whole = ascii_firmware().handle(stream)
    assert whole == (b'PONG\r\nVERSION face_tracker_ros sim-firmware 1.0\r\nOK\r\n'
                     b'POS 1500 1500\r\nOK\r\nERR UNKNOWN BOGUS\r\n'
                     b'ERR SYNTAX usage: MOVE <pan_us> <tilt_us>\r\n')
    firmware = ascii_firmware()
    assert b''.join(firmware.handle(stream[i:i + 1]) for i in range(len(stream))) == whole
    assert firmware.counts.commands_total == 7 and firmware.counts.errors_total == 2


def test_firmware_ascii_move_sets_targets_through_the_calibration():
    """MOVE sets targets via us_to_angle of each axis calibration."""
    firmware = SimFirmware(FirmwareConfig('ascii', AxisCalibration(invert=True),
                                          AxisCalibration(center_us=1400.0)), make_model())
    assert firmware.handle(b'MOVE 1800 1600\n', now=5.0) == b'OK\r\n'
    assert firmware.model.pan.target == pytest.approx(-300.0 / US_PER_RAD)
    assert firmware.model.tilt.target == pytest.approx(200.0 / US_PER_RAD)
    assert firmware.model.angles() == (0.0, 0.0)  # the owner advances the model
    assert firmware.last_command_time == 5.0


@pytest.mark.parametrize('line, reply', [
    (b'MOVE 2501 1500\n', b'ERR RANGE pan_us not in 500..2500\r\n'),
    (b'MOVE 1500 499\n', b'ERR RANGE tilt_us not in 500..2500\r\n'),
    (b'MOVE 1500 15x0\n', b'ERR SYNTAX usage: MOVE <pan_us> <tilt_us>\r\n'),
    (b'PING now\n', b'ERR SYNTAX PING takes no arguments\r\n'),
    (b'move 1500 1500\n', b'ERR UNKNOWN move\r\n'),
    (b'X' * 70 + b'\n', b'ERR SYNTAX line too long\r\n'),
    (b'PI\xffNG\n', b'ERR SYNTAX non-ASCII or control byte\r\n'),
    (b'\n', b''), (b'   \r\n', b'')])
def test_firmware_ascii_rejects_bad_input_without_moving(line, reply):
    """Bad lines get the documented ERR reply and move nothing."""
    firmware = ascii_firmware()
    assert firmware.handle(line, now=1.0) == reply
    assert (firmware.model.pan.target, firmware.model.tilt.target) == (0.0, 0.0)
    assert firmware.counts.errors_total == (1 if reply else 0)
    assert firmware.last_command_time is None


def test_firmware_unknown_command_echo_keeps_replies_short():
    """The echoed unknown command is truncated to keep replies within 64."""
    reply = ascii_firmware().handle(b'Z' * 64 + b'\n')
    assert reply.startswith(b'ERR UNKNOWN ') and len(reply.rstrip(b'\r\n')) <= 64


def test_firmware_maestro_commands_and_protocol_errors():
    """Maestro targets, positions, off targets and the protocol error bit."""
    clock = FakeClock(1000.0)
    firmware = SimFirmware(FirmwareConfig('maestro', pan_channel=3, tilt_channel=4),
                           make_model(), clock=clock)
    proto = protocols.make_protocol('maestro', pan_channel=3, tilt_channel=4)
    assert firmware.handle(proto.encode_move(2000, 1250)) == b''
    assert firmware.model.pan.target == pytest.approx(500.0 / US_PER_RAD)
    assert firmware.model.tilt.target == pytest.approx(-250.0 / US_PER_RAD)
    assert firmware.last_command_time == clock.now
    assert proto.feed(firmware.handle(proto.encode_query_positions())) == [
        Positions(1500.0, 1500.0)]
    # A zero target (Maestro "off") leaves the servo where it was.
    assert firmware.handle(bytes.fromhex('84 03 00 00')) == b''
    assert firmware.model.pan.target == pytest.approx(500.0 / US_PER_RAD)
    # A stray data byte, an unknown command and an interrupted packet are protocol errors.
    assert firmware.handle(b'\x05\xff\x84\x03\x70\xa1') == b'\x10\x00'
    assert firmware.counts.errors_total == 3
    assert firmware.handle(b'\xa1') == b'\x00\x00'  # reading the errors clears them


@pytest.mark.parametrize('kwargs, name', [
    ({'protocol': 'can'}, 'allowed: ascii, maestro'), ({'pan_channel': 30}, 'pan_channel'),
    ({'pan_limits': (1.0, -1.0)}, 'pan_limits'), ({'tilt_limits': 3}, 'tilt_limits'),
    ({'max_speed_rad_s': 0.0}, 'max_speed_rad_s'),
    ({'pan_cal': AxisCalibration(min_us=3000.0)}, 'pan_cal.min_us')])
def test_controller_validation(kwargs, name):
    """Bad controller settings raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        SimServoController(**kwargs)


def test_parse_serial_faults_defaults_and_values():
    """Entries parse with each kind's default value; blank entries are skipped."""
    faults = parse_serial_faults(['disconnect:1:2', ' garbage:0:1 ', 'garbage:0:1:3',
                                  'slow:2.5:1', 'slow:0:1:0.25', 'silent:0:1', 'stall:3:0.5',
                                  ''])
    assert [(f.kind, f.start_s, f.duration_s, f.value) for f in faults] == [
        ('disconnect', 1.0, 2.0, 0.0), ('garbage', 0.0, 1.0, 8.0), ('garbage', 0.0, 1.0, 3.0),
        ('slow', 2.5, 1.0, 0.5), ('slow', 0.0, 1.0, 0.25), ('silent', 0.0, 1.0, 0.0),
        ('stall', 3.0, 0.5, 0.0)]
    assert faults[0].active(1.0) and faults[0].active(2.9) and not faults[0].active(3.0)


@pytest.mark.parametrize('entries, message', [
    (['unplug:1:2'], 'kind one of disconnect, error_storm, garbage, silent, slow, stall'),
    (['error_storm:0:1:0'], 'error lines per second'),
    (['stall:1'], '<kind>:<start_s>:<duration_s>'),
    (['stall:x:1'], 'not a number'), (['stall:1:inf'], 'not finite'),
    (['stall:-1:1'], 'start_s >= 0'), (['stall:1:0'], 'duration_s > 0'),
    (['silent:0:1:2'], 'silent takes no value'), (['garbage:0:1:1.5'], 'integer in 1..4096'),
    (['slow:0:1:0'], 'reply delay'), ('stall:0:1', 'must be a list'), ([3], 'not a string')])
def test_parse_serial_faults_errors_name_the_parameter(entries, message):
    """Bad entries raise ValueError naming the parameter and what is allowed."""
    with pytest.raises(ValueError, match='serial_faults') as info:
        parse_serial_faults(entries, 'serial_faults')
    assert message in str(info.value)


def test_bad_faults_are_refused_by_the_controller_and_inject():
    """The constructor and inject() validate faults with clear messages."""
    with pytest.raises(ValueError, match='faults'):
        SimServoController(faults=['boom:0:1'])
    ctrl = SimServoController()
    with pytest.raises(ValueError, match='kind'):
        ctrl.inject('boom', 1.0)
    with pytest.raises(ValueError, match='duration_s'):
        ctrl.inject('stall', 0.0)
    with pytest.raises(ValueError, match='garbage value'):
        ctrl.inject('garbage', 1.0, 0.5)


def test_firmware_reset_input_drops_a_partial_command():
    """reset_input() forgets a line cut by an unplug."""
    firmware = ascii_firmware()
    assert firmware.handle(b'MOVE 2000') == b''
    firmware.reset_input()
    assert firmware.handle(b'PING\n') == b'PONG\r\n'
    assert firmware.counts.errors_total == 0
