# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Rules between parameters, NaN and infinity, unknown names (live tuning: integration/)."""

import math

import pytest

from face_tracker_ros.common.params import (
    LOG_LEVEL,
    Param,
    ParameterError,
    Tuner,
    unknown_parameters,
    validate_all,
)
from face_tracker_ros.tools.params_doc import node_tables


def _rules():
    from face_tracker_ros.camera.node import RULES as CAMERA
    from face_tracker_ros.detector.params import RULES as DETECTOR
    from face_tracker_ros.monitor.node import RULES as DIAGNOSTICS
    from face_tracker_ros.recorder.node import RULES as FLIGHT_RECORDER
    from face_tracker_ros.servo.node import RULES as SERVO
    from face_tracker_ros.sim.camera_params import RULES as SIM_CAMERA
    from face_tracker_ros.sim.node import RULES as SIM_SERVO
    return {'camera': CAMERA, 'detector': DETECTOR, 'servo': SERVO, 'sim_servo': SIM_SERVO,
            'diagnostics': DIAGNOSTICS, 'flight_recorder': FLIGHT_RECORDER,
            'sim_camera': SIM_CAMERA}


def _tables():
    """Return the node tables and the simulated camera's (the node camera, another executable)."""
    from face_tracker_ros.sim.camera_params import PARAMS as SIM_CAMERA
    return {**node_tables(), 'sim_camera': SIM_CAMERA}


@pytest.mark.parametrize('node, values, message', [
    # The conflicts that used to surface as a ValueError deep in a core (exit 1, traceback).
    ('servo', {'reply_timeout_s': 10.0},
     "parameter 'handshake_timeout_s' = 3.0 must be >= 'reply_timeout_s' = 10.0"),
    ('servo', {'reconnect_backoff_s': 10.0},
     "parameter 'reconnect_backoff_max_s' = 5.0 must be >= 'reconnect_backoff_s' = 10.0"),
    ('servo', {'maestro.pan_channel': 1},
     "parameters 'maestro.pan_channel' and 'maestro.tilt_channel' must differ"),
    ('servo', {'pan.min_angle': 1.0, 'pan.max_angle': -1.0},
     "parameter 'pan.min_angle' = 1.0 must be < 'pan.max_angle' = -1.0"),
    ('servo', {'tilt.home': 0.9},
     "parameter 'tilt.home' = 0.9 must lie within 'tilt.min_angle' = -0.7 .. "
     "'tilt.max_angle' = 0.7"),
    ('servo', {'pan.min_us': 2000.0},
     "parameter 'pan.center_us' = 1500.0 must lie within 'pan.min_us' = 2000.0"),
    ('servo', {'pan.min_us': 2500.0},
     "parameter 'pan.min_us' = 2500.0 must be < 'pan.max_us' = 2500.0"),
    ('diagnostics', {'rss_warn_mb': 700.0},
     "parameter 'rss_warn_mb' = 700.0 must be <= 'rss_error_mb' = 600.0"),
    ('diagnostics', {'fds_error': 100}, "parameter 'fds_warn' = 512 must be <= 'fds_error'"),
    ('diagnostics', {'disk_error_free_percent': 20.0},
     "parameter 'disk_warn_free_percent' = 10.0 must be >= 'disk_error_free_percent' = 20.0"),
    ('diagnostics', {'growth_window_s': 60.0},
     "parameter 'growth_min_span_s' = 600.0 must be <= 'growth_window_s' = 60.0"),
    ('camera', {'reopen_backoff_s': 5.0},
     "parameter 'reopen_backoff_s' = 5.0 must be <= 'reopen_backoff_max_s' = 1.0"),
    ('camera', {'diag.fps_error_ratio': 0.9},
     "parameter 'diag.fps_error_ratio' = 0.9 must be <= 'diag.fps_warn_ratio' = 0.8"),
    ('camera', {'source': 'file'}, "parameter 'video_path' is required when 'source' is 'file'"),
    ('sim_camera', {'sim.hfov': 0.5, 'sim.face_size': 0.6},
     "parameter 'sim.face_size' = 0.6 must be < 'sim.hfov' = 0.5"),
    ('flight_recorder', {'pre_event_s': 30.0},
     "'pre_event_s' (30) + 'post_event_s' (4) must be <= 'buffer_s' (30)"),
    ('sim_servo', {'maestro.tilt_channel': 0}, 'must differ'),
    ('detector', {'detect_width': 16},
     "parameter 'detect_width' = 16 is not allowed: 0 (native size) or >= 32"),
    ('detector', {'roi_size_band': [1.2, 1.6]},
     "parameter 'roi_size_band' = [1.2, 1.6] is not allowed: [low, high] with 0.1 <= low"),
])
def test_rules_between_parameters_give_one_line_naming_both(node, values, message):
    with pytest.raises(ParameterError) as raised:
        validate_all(_tables()[node], values, _rules()[node])
    text = str(raised.value)
    assert message in text and '\n' not in text


def test_the_defaults_keep_every_rule():
    for node, table in node_tables().items():
        validate_all(table, {}, _rules()[node])


def test_the_parameter_layer_checks_what_the_cores_check():
    # The values the cores refused (ValueError at construction) are refused first here.
    from face_tracker_ros.monitor.levels import Band
    from face_tracker_ros.servo.connection import ServoConnection  # noqa: F401 - same rule
    from face_tracker_ros.servo.link import Backoff
    with pytest.raises(ValueError):
        Backoff(initial_s=10.0, max_s=5.0)
    with pytest.raises(ValueError):
        Band('rss_mb', 700.0, 600.0)
    servo, rules = node_tables()['servo'], _rules()['servo']
    with pytest.raises(ParameterError, match='reconnect_backoff'):
        validate_all(servo, {'reconnect_backoff_s': 10.0}, rules)


def test_every_double_refuses_nan_and_infinity():
    doubles = 0
    for table in node_tables().values():
        for p in table:
            if p.type_name != 'double':
                continue
            doubles += 1
            for bad in (math.nan, math.inf, -math.inf):
                with pytest.raises(ParameterError, match=rf"'{p.name}' = .*(finite|range)"):
                    p.validate(bad)
    assert doubles > 50
    band = Param('roi_size_band', [0.7, 1.6], 'a band')
    with pytest.raises(ParameterError, match='finite'):
        band.validate([0.7, math.nan])


def test_unknown_parameters_name_the_closest_known_one():
    table = node_tables()['servo']
    lines = unknown_parameters(['pann.kp', 'totally_unknown', 'pan.kp', 'use_sim_time',
                                'qos_overrides./joint_states.publisher.depth',
                                'diagnostic_updater.period', 'start_type_description_service',
                                'log_level'], table)
    assert lines == ["unknown parameter 'pann.kp' ignored: did you mean 'pan.kp'?",
                     "unknown parameter 'totally_unknown' ignored: this node has no such "
                     'parameter']


def test_every_node_has_a_live_log_level_and_says_why_the_rest_is_read_only():
    for node, table in node_tables().items():
        assert LOG_LEVEL in table, node
        for p in table:
            doc = p.doc()
            if p.live:
                assert 'live' in doc
            else:
                assert 'read-only: ' in doc and 'restart the node to change it' in doc, doc
    servo = {p.name: p for p in node_tables()['servo']}
    assert 'the port is opened at start' in servo['port'].doc()
    assert all(servo[f'pan.{n}'].live for n in ('kp', 'ki', 'kd', 'deadband', 'max_velocity',
                                                'min_angle', 'max_angle', 'invert'))
    assert servo['hfov'].live and servo['vfov'].live
    detector = {p.name: p for p in node_tables()['detector']}
    assert detector['yunet.score_threshold'].live and detector['haar.min_neighbors'].live
    assert not detector['backend'].live


def test_tuner_checks_changes_like_at_start_and_applies_only_what_changed():
    from face_tracker_ros.servo.node import PARAMS, RULES
    values = validate_all(PARAMS, {}, RULES)
    applied = []
    tuner = Tuner(PARAMS, values, RULES, apply=applied.append)
    accepted, reason = tuner.check({'pan.kp': 2, 'pan.invert': True, 'use_sim_time': True})
    assert reason == '' and accepted == {'pan.kp': 2.0, 'pan.invert': True}
    changed = tuner.commit(accepted)
    assert changed == {'pan.kp': (10.0, 2.0), 'pan.invert': (False, True)}
    assert applied == [{'pan.kp': 2.0, 'pan.invert': True}]
    assert values['pan.kp'] == 2.0
    assert tuner.commit({'pan.kp': 2.0}) == {} and len(applied) == 1  # nothing changed

    _, reason = tuner.check({'port': '/dev/ttyACM0'})
    assert reason == ("parameter 'port' is read-only: the port is opened at start; restart "
                      'the node to change it')
    _, reason = tuner.check({'log_level': 'verbose'})
    assert "'log_level' = 'verbose' is not allowed: one of '', 'debug', 'info'" in reason
    _, reason = tuner.check({'pan.max_angle': -2.0})
    assert reason == "parameter 'pan.min_angle' = -1.3 must be < 'pan.max_angle' = -2.0"
    # Moving both limits at once is checked together (set_parameters_atomically).
    accepted, reason = tuner.check({'pan.min_angle': -3.0, 'pan.max_angle': -2.0,
                                    'pan.home': -2.5})
    assert reason == '' and len(accepted) == 3
    _, reason = tuner.check({'pan.kd': math.nan})
    assert "'pan.kd' = nan" in reason
    assert values['pan.max_angle'] == 1.3  # nothing refused was stored


def _sample(table, rng, change=0.3):
    """Return values for ``table``: each its default, or with probability ``change`` random."""
    values = {}
    for p in table:
        value = p.default
        if rng.random() < change:
            if p.choices is not None:
                value = rng.choice(list(p.choices))
            elif p.type_name == 'bool':
                value = rng.random() < 0.5
            elif p.type_name in ('double', 'integer'):
                low = p.min if p.min is not None else -1000.0
                high = p.max if p.max is not None else (low + 1.0) * 1000.0
                value = rng.uniform(low, high)
                value = round(value) if p.type_name == 'integer' else value
        values[p.name] = value
    return values


def test_what_the_parameter_layer_accepts_every_core_accepts():
    """Random configurations: refused with a ParameterError, or built without a ValueError."""
    import random

    from face_tracker_ros.monitor.node import _bands
    from face_tracker_ros.monitor.node import PARAMS as MONITOR
    from face_tracker_ros.monitor.node import RULES as MONITOR_RULES
    from face_tracker_ros.monitor.trend import LeakTrend
    from face_tracker_ros.monitor.watchdog import Watchdog
    from face_tracker_ros.servo.connection import ServoConnection
    from face_tracker_ros.servo.control import PanTiltController, TrackerConfig
    from face_tracker_ros.servo.link import Backoff, SerialLink
    from face_tracker_ros.servo.params import axis_calibration as _calibration
    from face_tracker_ros.servo.params import axis_gains as _gains
    from face_tracker_ros.servo.params import PARAMS as SERVO
    from face_tracker_ros.servo.params import RULES as SERVO_RULES
    from face_tracker_ros.servo.protocols import make_protocol

    rng = random.Random(14)
    accepted = {'servo': 0, 'diagnostics': 0}
    for _ in range(400):
        try:
            p = validate_all(SERVO, _sample(SERVO, rng, 0.15), SERVO_RULES)
        except ParameterError:
            pass
        else:
            accepted['servo'] += 1
            pan, tilt = _calibration(p, 'pan'), _calibration(p, 'tilt')
            pan.validate('pan')
            tilt.validate('tilt')
            PanTiltController(TrackerConfig(hfov=p['hfov'], vfov=p['vfov'],
                                            max_target_age=p['max_target_age_s'],
                                            lost_hold=p['lost_hold_s'],
                                            home_speed=p['home_speed']),
                              _gains(p, 'pan'), _gains(p, 'tilt'))
            protocol = make_protocol(p['protocol'], pan_channel=p['maestro.pan_channel'],
                                     tilt_channel=p['maestro.tilt_channel'],
                                     pan_center_us=pan.angle_to_us(p['pan.home']),
                                     tilt_center_us=tilt.angle_to_us(p['tilt.home']))
            ServoConnection(
                SerialLink('/dev/null', baudrate=p['baudrate'],
                           write_timeout_s=p['write_timeout_s']),
                protocol,
                Backoff(initial_s=p['reconnect_backoff_s'], max_s=p['reconnect_backoff_max_s']),
                reply_timeout_s=p['reply_timeout_s'],
                handshake_timeout_s=p['handshake_timeout_s'], keepalive_s=p['keepalive_s'],
                max_garbage=p['max_garbage'])
        try:
            p = validate_all(MONITOR, _sample(MONITOR, rng, 0.15), MONITOR_RULES)
        except ParameterError:
            continue
        accepted['diagnostics'] += 1
        _bands(p)
        LeakTrend(window_s=p['growth_window_s'], min_span_s=p['growth_min_span_s'])
        Watchdog(['camera'], stale_timeout_s=p['watchdog.stale_timeout_s'],
                 startup_grace_s=p['watchdog.startup_grace_s'],
                 kill_grace_s=p['watchdog.kill_grace_s'],
                 max_restarts_per_hour=p['watchdog.max_restarts_per_hour'],
                 rss_limit_mb=p['rss_error_mb'], enabled=p['watchdog.enabled'])
    assert min(accepted.values()) > 20, accepted
