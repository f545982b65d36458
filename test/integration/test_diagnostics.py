# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Diagnostics: the updater's contract (either implementation) and each node's health."""

import time

from conftest import wait_for
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import pytest
from rclpy.parameter import Parameter

from face_tracker_ros.common import compat
from face_tracker_ros.common.health import (
    decode_level,
    ERROR,
    format_value,
    NodeHealth,
    OK,
    to_msg_level,
    WARN,
)
from face_tracker_ros.interface import CAMERA_STATUS, DIAGNOSTICS_TOPIC


def _collect(node):
    arrays = []
    node.create_subscription(DiagnosticArray, DIAGNOSTICS_TOPIC, arrays.append, 50)
    return arrays


def _statuses(arrays, name):
    return [s for a in arrays for s in a.status if s.name == name]


def test_backend_is_reported():
    assert compat.DIAGNOSTICS_BACKEND in ('diagnostic_updater', 'builtin')


def test_updater_contract_names_levels_hardware_id_pid_and_period(ros_node):
    node = ros_node('health_probe')
    listener = ros_node('health_listener')
    arrays = _collect(listener)
    health = NodeHealth(node, hardware_id='/dev/fake0', period=0.2)
    assert node.get_parameter('diagnostic_updater.period').value == pytest.approx(0.2)
    state = {'level': OK}
    figures = {'rate_hz': 29.97, 'on': True, 'count': 3}
    health.add('widget', lambda: (state['level'], 'all good', figures))
    assert wait_for(lambda: len(_statuses(arrays, 'health_probe: widget')) >= 6, 10.0,
                    spin=ros_node.spin)
    statuses = _statuses(arrays, 'health_probe: widget')
    # The first status of a new task says the node is starting up.
    assert statuses[0].message == 'Node starting up'
    status = statuses[-1]
    assert status.level == DiagnosticStatus.OK
    assert status.message == 'all good'
    assert status.hardware_id == '/dev/fake0'
    values = {kv.key: kv.value for kv in status.values}
    assert status.values[0].key == 'pid'
    assert int(values['pid']) > 0
    assert values['rate_hz'] == '29.97' and values['on'] == 'true' and values['count'] == '3'
    # About five per second (period 0.2 s), measured on the message stamps.
    stamps = [a.header.stamp.sec + a.header.stamp.nanosec * 1e-9 for a in arrays
              if any(s.name == 'health_probe: widget' and s.message == 'all good'
                     for s in a.status)]
    assert 0.15 < (stamps[-1] - stamps[0]) / (len(stamps) - 1) < 0.3

    state['level'] = WARN
    count = len(statuses)
    assert wait_for(lambda: len(_statuses(arrays, 'health_probe: widget')) > count + 1, 5.0,
                    spin=ros_node.spin)
    assert _statuses(arrays, 'health_probe: widget')[-1].level == DiagnosticStatus.WARN


def test_period_comes_from_the_parameter(ros_node):
    node = ros_node('period_probe',
                    parameter_overrides=[Parameter('diagnostic_updater.period', value=0.5)])
    health = NodeHealth(node, hardware_id='none', period=1.0)
    assert health.updater.period == pytest.approx(0.5)
    assert node.get_parameter('diagnostic_updater.period').value == pytest.approx(0.5)


def test_a_failing_report_is_an_error_not_a_crash(ros_node):
    node = ros_node('broken_probe')
    arrays = _collect(ros_node('broken_listener'))
    health = NodeHealth(node, hardware_id='none', period=0.2)

    def broken():
        raise RuntimeError('sensor on fire')
    health.add('broken', broken)
    assert wait_for(lambda: any(s.level == DiagnosticStatus.ERROR for s in
                                _statuses(arrays, 'broken_probe: broken')), 10.0,
                    spin=ros_node.spin)
    status = [s for s in _statuses(arrays, 'broken_probe: broken')
              if s.level == DiagnosticStatus.ERROR][-1]
    assert 'sensor on fire' in status.message


def test_level_and_value_conversions():
    assert to_msg_level(ERROR) == DiagnosticStatus.ERROR
    assert decode_level(DiagnosticStatus.WARN) == WARN
    assert format_value(0.1234567) == '0.123'
    assert format_value(None) == ''
    assert format_value(False) == 'false'


def _camera_states(arrays):
    return [(s.level, {kv.key: kv.value for kv in s.values}.get('state'), s.message)
            for s in _statuses(arrays, CAMERA_STATUS)]


def test_camera_status_follows_a_failing_and_recovering_source(node_process, ros_node):
    camera = node_process('face_tracker_ros.sim.camera_node', 'camera', {
        'source': 'sim', 'sim.faults': 'read_fail:3:3', 'reopen_backoff_s': 0.2,
        'reopen_backoff_max_s': 0.5, 'diagnostic_updater.period': 0.25})
    arrays = _collect(ros_node('camera_listener'))
    started = time.monotonic()

    def seen(state, level):
        return any(st == state and lv == level for lv, st, _ in _camera_states(arrays))
    assert wait_for(lambda: seen('streaming', DiagnosticStatus.OK), 15.0, spin=ros_node.spin), \
        camera.output()
    assert wait_for(lambda: seen('reconnecting', DiagnosticStatus.ERROR), 15.0,
                    spin=ros_node.spin), camera.output()
    # Back to streaming once the fault is over.

    def recovered():
        states = _camera_states(arrays)
        first_bad = next(i for i, (_, st, _) in enumerate(states) if st == 'reconnecting')
        return any(st == 'streaming' and lv == DiagnosticStatus.OK
                   for lv, st, _ in states[first_bad:])
    assert wait_for(recovered, 20.0, spin=ros_node.spin), _camera_states(arrays)
    assert time.monotonic() - started < 30
    last = _statuses(arrays, CAMERA_STATUS)[-1]
    values = {kv.key: kv.value for kv in last.values}
    assert int(values['reinit_attempts']) >= 1
    assert int(values['read_errors_total']) > 10
    assert camera.alive()
    assert camera.stop() == 0
