# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Rules between parameters, NaN and infinity, unknown names, and live tuning of running nodes."""

import math
import os
import select
import threading
import time
import tty

from conftest import wait_for
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
    from face_tracker_ros.detector.node import RULES as DETECTOR
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


# ------------------------------------------------------------------ real rclpy, real DDS


def _set(client, spin, **values):
    from rclpy.parameter import Parameter
    future = client.set_parameters([Parameter(name.replace('__', '.'), value=value)
                                    for name, value in values.items()])
    assert wait_for(future.done, 10.0, spin=spin)
    return future.result().results


def test_detector_thresholds_change_in_the_running_node(ros_node):
    """A live change over the parameter service reaches the detector's backend at once."""
    import rclpy
    from rclpy.parameter_client import AsyncParameterClient

    from face_tracker_ros.detector.node import DetectorNode

    detector = DetectorNode(context=ros_node('unused').context)
    try:
        client_node = ros_node('test_tuner')
        executor = client_node.executor
        executor.add_node(detector)
        client = AsyncParameterClient(client_node, 'detector')
        assert client.wait_for_services(10.0)
        spin = ros_node.spin
        (result,) = _set(client, spin, haar__min_neighbors=9)
        assert result.successful, result.reason
        assert detector.finder.backend.min_neighbors == 9
        (result,) = _set(client, spin, selection__max_jump=0.5)
        assert result.successful and detector.selector.max_jump == 0.5
        (result,) = _set(client, spin, diag__input_timeout_s=7)  # an integer for a double
        assert result.successful and detector.params['diag.input_timeout_s'] == 7.0
        assert detector.get_parameter('diag.input_timeout_s').value == 7.0
        assert isinstance(detector.get_parameter('diag.input_timeout_s').value, float)
        (result,) = _set(client, spin, selection__max_jump=0.0)
        assert not result.successful
        assert 'must be > 0' in result.reason or 'out of range' in result.reason.lower()
        assert detector.selector.max_jump == 0.5
        (result,) = _set(client, spin, backend='yunet')
        assert not result.successful and 'read-only' in result.reason
        (result,) = _set(client, spin, log_level='debug')
        assert result.successful
        assert detector.get_logger().get_effective_level() == 10
        (result,) = _set(client, spin, log_level='')
        assert result.successful
        assert detector.get_logger().get_effective_level() == 20
    finally:
        executor.remove_node(detector)
        detector.destroy_node()
    assert rclpy.ok(context=client_node.context)


def test_without_post_set_callbacks_changes_apply_in_the_validation_callback(ros_node):
    """An rclpy without post-set and pre-set callbacks (Humble): applied after validation."""
    from rclpy.parameter import Parameter

    from face_tracker_ros.common.params import declare

    class HumbleNode:
        """The node as an rclpy without add_post/pre_set_parameters_callback shows it."""

        def __init__(self, node):
            self._node = node

        def __getattr__(self, name):
            if name in ('add_post_set_parameters_callback', 'add_pre_set_parameters_callback'):
                raise AttributeError(name)
            return getattr(self._node, name)

    node = ros_node('humble')
    applied = []
    table = (Param('gain', 1.0, 'a gain', min=0.0, max=5.0, live=True),
             Param('port', 'a', 'a port', why='the port is opened at start'), LOG_LEVEL)
    values = declare(HumbleNode(node), table, apply=applied.append)
    (result,) = node.set_parameters([Parameter('gain', value=2.5)])
    assert result.successful and values['gain'] == 2.5 and applied == [{'gain': 2.5}]
    (result,) = node.set_parameters([Parameter('gain', value=9.0)])
    assert not result.successful and 'out of range' in result.reason.lower()
    assert values['gain'] == 2.5 and len(applied) == 1
    (result,) = node.set_parameters([Parameter('port', value='b')])
    assert not result.successful and values['port'] == 'a'
    assert 'read-only: the port is opened at start' in \
        node.describe_parameter('port').description


class _Controller:
    """The far end of a pseudo-terminal speaking the ASCII protocol; keeps what it got."""

    def __init__(self, master: int):
        self.master = master
        self.data = b''
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        pending = b''
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.data += chunk
            pending += chunk
            *lines, pending = pending.split(b'\n')
            replies = [b'PONG' if line.strip() == b'PING' else b'OK' for line in lines
                       if line.strip()]
            if replies:
                os.write(self.master, b'\r\n'.join(replies) + b'\r\n')

    def moves(self, since: int = 0):
        """Return the (pan_us, tilt_us) of the MOVE commands received after byte ``since``."""
        return [(int(parts[1]), int(parts[2])) for parts in
                (line.split() for line in self.data[since:].decode(errors='replace')
                 .splitlines()) if len(parts) == 3 and parts[0] == 'MOVE']

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2.0)


def test_servo_tuned_live_over_the_parameter_service(node_process, ros_node):
    from geometry_msgs.msg import PointStamped
    from rclpy.parameter_client import AsyncParameterClient
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import JointState

    master, slave = os.openpty()
    tty.setraw(master)
    peer = _Controller(master)
    servo = node_process('face_tracker_ros.servo.node', 'servo',
                         {'port': os.ttyname(slave), 'protocol': 'ascii'})
    node = ros_node('test_servo_tuner')
    spin = ros_node.spin
    pub = node.create_publisher(PointStamped, 'face/target',
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    joints = []
    node.create_subscription(JointState, 'joint_states', joints.append, 50)
    client = AsyncParameterClient(node, 'servo')
    try:
        assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=spin), \
            servo.output()
        assert client.wait_for_services(10.0)
        assert wait_for(lambda: 'servo controller connected' in servo.output(), 10.0), \
            servo.output()

        def track(seconds: float):
            """Send a face right of centre for ``seconds``; return the MOVEs it caused."""
            start = len(peer.data)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                msg = PointStamped()
                msg.header.stamp = node.get_clock().now().to_msg()
                msg.point.x, msg.point.y, msg.point.z = 0.5, 0.0, 0.15
                pub.publish(msg)
                spin(0.05)
            spin(0.2)
            return peer.moves(start)

        # Gains: with kp = ki = 0 the head does not move towards the face ...
        results = _set(client, spin, pan__kp=0.0, pan__ki=0.0)
        assert all(r.successful for r in results), results
        moves = track(0.5)
        assert moves and all(pan == 1500 for pan, _ in moves), moves
        assert joints[-1].position[0] == 0.0
        # ... and with them back it does at once: a face right, pan turns right.
        results = _set(client, spin, pan__kp=10.0, pan__ki=1.0)
        assert all(r.successful for r in results)
        moves = track(0.3)
        assert moves and moves[-1][0] < 1500, moves
        assert -1.3 < joints[-1].position[0] < -0.01
        angle = joints[-1].position[0]

        # invert: the same angle is sent as the mirrored pulse.
        (result,) = _set(client, spin, pan__invert=True)
        assert result.successful, result.reason
        moves = track(0.3)
        assert moves and moves[-1][0] > 1500, moves
        assert joints[-1].position[0] < angle  # still turning right
        assert "parameter 'pan.invert' changed: False -> True" in servo.output()

        # A structural parameter: refused, and the reason is in the log and its description.
        (result,) = _set(client, spin, port='/dev/ttyACM0')
        assert not result.successful and 'read-only' in result.reason and 'port' in result.reason
        described = client.describe_parameters(['port'])
        assert wait_for(described.done, 10.0, spin=spin)
        text = described.result().descriptors[0].description
        assert 'read-only: the port is opened at start; restart the node to change it' in text
        assert described.result().descriptors[0].read_only
        assert wait_for(lambda: "'port' is read-only: the port is opened at start"
                        in servo.output(), 5.0), servo.output()

        # Invalid values: the allowed values, the rule between two parameters, NaN.
        (result,) = _set(client, spin, log_level='verbose')
        assert not result.successful
        assert "one of '', 'debug', 'info', 'warn', 'error', 'fatal'" in result.reason
        (result,) = _set(client, spin, pan__min_angle=2.0)
        assert not result.successful
        assert result.reason == ("parameter 'pan.min_angle' = 2.0 must be < 'pan.max_angle' = "
                                 '1.3')
        (result,) = _set(client, spin, hfov=math.nan)
        assert not result.successful
        (result,) = _set(client, spin, log_level='debug')
        assert result.successful
        assert servo.alive()
        assert 'Traceback' not in servo.output()
    finally:
        peer.stop()
        assert servo.stop() == 0
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize('module, name, yaml_text, expected', [
    ('face_tracker_ros.servo.node', 'servo', 'reply_timeout_s: 10.0',
     "'handshake_timeout_s' = 3.0 must be >= 'reply_timeout_s' = 10.0"),
    ('face_tracker_ros.servo.node', 'servo', 'reconnect_backoff_s: 10.0',
     "'reconnect_backoff_max_s' = 5.0 must be >= 'reconnect_backoff_s' = 10.0"),
    ('face_tracker_ros.monitor.node', 'diagnostics', 'rss_warn_mb: 700.0',
     "'rss_warn_mb' = 700.0 must be <= 'rss_error_mb' = 600.0"),
    ('face_tracker_ros.monitor.node', 'diagnostics', 'rss_warn_mb: .nan',
     "'rss_warn_mb' = nan is not allowed: must be a finite number"),
    ('face_tracker_ros.monitor.node', 'diagnostics', 'growth_window_s: .inf',
     "'growth_window_s' = inf is not allowed: must be a finite number"),
])
def test_conflicting_parameters_stop_the_node_with_exit_2_and_one_line(
        node_process, tmp_path, module, name, yaml_text, expected):
    params = tmp_path / 'params.yaml'
    params.write_text(f'{name}:\n  ros__parameters:\n    {yaml_text}\n')
    extra = {'port': str(tmp_path / 'no-port')} if name == 'servo' else \
        {'log_dir': str(tmp_path / 'log')}
    proc = node_process(module, name, extra, params_file=str(params))
    assert proc.wait(30.0) == 2
    out = proc.output()
    assert expected in out, out
    assert 'invalid parameter' in out.strip().splitlines()[-1]
    assert 'Traceback' not in out


def test_a_misspelt_parameter_is_named_with_the_closest_known_one(node_process, tmp_path):
    params = tmp_path / 'params.yaml'
    params.write_text('servo:\n  ros__parameters:\n    pann.kp: 3.0\n    totally_unknown: 1\n'
                      '    use_sim_time: false\n')
    servo = node_process('face_tracker_ros.servo.node', 'servo',
                         {'port': str(tmp_path / 'no-port')}, params_file=str(params))
    assert wait_for(lambda: 'totally_unknown' in servo.output(), 20.0), servo.output()
    out = servo.output()
    assert "unknown parameter 'pann.kp' ignored: did you mean 'pan.kp'?" in out
    assert "unknown parameter 'totally_unknown' ignored: this node has no such parameter" in out
    assert 'use_sim_time' not in out
    assert servo.alive()
    assert servo.stop() == 0


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
