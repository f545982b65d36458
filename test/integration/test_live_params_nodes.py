# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Live tuning of running nodes over the parameter service, and start-up refusals (rclpy, DDS).

The rules between parameters, NaN and infinity and unknown names without ROS are in
test/unit/test_live_params.py.
"""

import math
import os
import time
import tty

from conftest import FakeController, wait_for
import pytest

from face_tracker_ros.common.params import (
    LOG_LEVEL,
    Param,
)


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


def test_servo_tuned_live_over_the_parameter_service(node_process, ros_node):
    from geometry_msgs.msg import PointStamped
    from rclpy.parameter_client import AsyncParameterClient
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import JointState

    master, slave = os.openpty()
    tty.setraw(master)
    peer = FakeController(master)
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
