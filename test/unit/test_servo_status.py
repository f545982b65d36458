# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the servo's status and refusal bookkeeping, without ROS, on a fake clock."""

import dataclasses

from face_tracker_ros.common.params import Tuner, validate_all
from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.servo.control import PanTiltController
from face_tracker_ros.servo.params import PARAMS, RULES, ServoConfig
from face_tracker_ros.servo.status import (
    REFUSAL_LOG_S,
    REFUSAL_WARN_S,
    ServoStatus,
    STALE_WARN_COUNT,
    TargetRefusals,
)


class Clock:
    """A clock the test moves."""

    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


class FakeConnection:
    """The stats() a ServoConnection returns, as the test sets them."""

    def __init__(self, **stats):
        self.link = dict.fromkeys((
            'reconnects', 'write_errors_total', 'read_errors_total', 'commands_sent',
            'commands_dropped', 'replies_ok', 'error_replies', 'recent_error_replies',
            'resends', 'resends_skipped', 'garbage_replies', 'invalid_replies',
            'connects_total'), 0)
        self.link.update(state='connected', connected=True, last_reply_age_s=None,
                         reply_delay_ms_max=None, last_disconnect_reason='', last_error='')
        self.link.update(stats)

    def stats(self, now):
        return dict(self.link)


def make(clock, **stats):
    config = ServoConfig.from_params(validate_all(PARAMS, {}, RULES))
    controller = PanTiltController(config.tracker, config.pan_gains, config.tilt_gains)
    status = ServoStatus(controller, FakeConnection(**stats), config, startup_grace_s=5.0,
                         clock=clock)
    return controller, status


def test_config_from_the_defaults_is_typed_and_homes_at_the_centre_pulse():
    config = ServoConfig.from_params(validate_all(PARAMS, {}, RULES))
    assert config.link.port == '/dev/ttyUSB0' and config.protocol.name == 'ascii'
    assert config.pan_gains.max_angle == 1.3 and config.tilt_gains.max_angle == 0.7
    assert config.home_us == (1500.0, 1500.0)
    assert config.connection.handshake_timeout_s >= config.connection.reply_timeout_s


def test_a_live_change_rebuilds_the_config_from_the_values_as_at_start():
    values = validate_all(PARAMS, {}, RULES)
    tuner = Tuner(PARAMS, values, RULES)
    tuner.commit(tuner.check({'pan.kp': 2, 'pan.invert': True, 'pan.home': 0.5})[0])
    config = ServoConfig.from_params(values)
    assert config.pan_gains.kp == 2.0 and config.pan_calibration.invert
    assert config.home_us == (config.pan_calibration.angle_to_us(0.5), 1500.0)
    assert config.home_us[0] < 1500.0  # inverted: a positive angle is a shorter pulse


def test_refusals_are_logged_at_most_every_refusal_log_s_with_a_count():
    clock = Clock()
    controller, _ = make(clock)
    refusals = TargetRefusals(controller, clock)
    first = refusals.refuse('future', 'stamp 1')
    assert first.startswith('target refused: stamped in the future')
    assert first.endswith('stamp 1; 1 refused so far')
    clock.t += 1.0
    assert refusals.refuse('future', 'stamp 2') is None
    clock.t += REFUSAL_LOG_S
    line = refusals.refuse('future', 'stamp 3')
    assert '3 refused so far (2 since the last report)' in line
    assert controller.refused['future'] == 3 and refusals.count('future') == 3
    refusals.refuse('malformed', 'nan')
    assert refusals.malformed == 1 and refusals.count('malformed') == 1


def test_refusing_warns_for_a_while_and_stale_only_when_repeated():
    clock = Clock()
    controller, status = make(clock)
    assert status.report()[:2] == (OK, 'home')
    for _ in range(STALE_WARN_COUNT - 1):
        status.refusals.refuse('stale', 'old')
    status.refusals.refuse('out_of_order', 'again')
    assert status.report()[0] == OK
    status.refusals.refuse('stale', 'old')
    level, message, figures = status.report()
    assert level == WARN and 'refusing targets: older than max_target_age_s' in message
    assert figures['stale_targets'] == STALE_WARN_COUNT and figures['targets_out_of_order'] == 1
    clock.t += REFUSAL_WARN_S
    assert status.report()[0] == OK


def test_a_port_not_there_is_warn_while_starting_then_error():
    clock = Clock()
    _, status = make(clock, state='disconnected', connected=False,
                     last_disconnect_reason='no such file')
    level, message, _ = status.report()
    assert level == WARN and message == 'starting, disconnected: /dev/ttyUSB0: no such file'
    clock.t += 5.0
    assert status.report()[:2] == (ERROR, 'disconnected: /dev/ttyUSB0: no such file')


def test_slow_replies_and_controller_errors_are_warn():
    clock = Clock()
    _, status = make(clock, reply_delay_ms_max=300.0)
    assert status.report()[:2] == (WARN, 'home, slow controller: replies up to 300 ms')
    status.config = dataclasses.replace(status.config, slow_reply_warn_s=0.5)  # a live change
    assert status.report()[0] == OK
    _, status = make(clock, recent_error_replies=2)
    assert status.report()[:2] == (WARN, 'home, controller errors: 2 in the last 5 s')


def test_a_clock_step_is_reported_once():
    clock = Clock()
    controller, status = make(clock)
    assert status.clock_step_message() is None
    controller.refusal(1000.0, 1000.0)
    controller.refusal(990.0, 990.0)
    message = status.clock_step_message()
    assert message.startswith('the clock went back by 10.000 s')
    assert status.clock_step_message() is None
