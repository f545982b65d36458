# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The bring-up argument checks the launch file uses, without ROS.

The launch itself is tested in the distribution lane (test/launch_tests/).
"""

import pytest

from face_tracker_ros.bringup.plan import (
    ArgumentError,
    BringupArgs,
    check_argument,
    default_sim_port,
    instance_log_dir,
    logger_name,
    make_plan,
    parse_log_level,
    parse_namespace,
)


@pytest.mark.parametrize('text, level', [('debug', 'debug'), ('INFO', 'info'),
                                         (' warn ', 'warn'), ('warning', 'warn'),
                                         ('critical', 'fatal')])
def test_log_levels(text, level):
    assert parse_log_level('log_level', text) == level


def test_an_unknown_log_level_names_the_argument_and_the_levels():
    with pytest.raises(ArgumentError) as error:
        parse_log_level('log_level', 'verbose')
    assert str(error.value) == ("invalid argument log_level:='verbose' "
                                '(allowed: debug, info, warn, error, fatal)')


def test_choices():
    assert check_argument('protocol', '', ('ascii', 'maestro'), empty_ok=True) == ''
    with pytest.raises(ArgumentError, match=r"protocol:='bogus' \(allowed: ascii, maestro"):
        check_argument('protocol', 'bogus', ('ascii', 'maestro'), empty_ok=True)


@pytest.mark.parametrize('text, namespace', [('', ''), ('left', '/left'), ('/left/', '/left'),
                                             ('robot1/head', '/robot1/head')])
def test_namespaces(text, namespace):
    assert parse_namespace(text) == namespace


@pytest.mark.parametrize('text', ['1left', 'a//b', 'left-side', 'le ft'])
def test_invalid_namespaces(text):
    with pytest.raises(ArgumentError, match='invalid argument namespace'):
        parse_namespace(text)


def test_logger_names_follow_the_namespace():
    assert logger_name('', 'detector') == 'detector'
    assert logger_name('/robot1/head', 'detector') == 'robot1.head.detector'


def test_a_namespace_gives_its_own_log_dir_sim_port_and_flight_recorder_folder(
        monkeypatch, tmp_path):
    monkeypatch.setenv('ROS_LOG_DIR', str(tmp_path))
    left = BringupArgs(use_sim=True, namespace='/left')
    assert instance_log_dir(left) == str(tmp_path / 'face_tracker_ros' / 'left')
    assert instance_log_dir(BringupArgs()) == ''
    assert instance_log_dir(BringupArgs(log_dir='/x', namespace='/left')) == '/x'
    assert default_sim_port('/left') != default_sim_port('/right') != default_sim_port()
    plan = {spec.name: spec for spec in make_plan(left)}
    assert plan['diagnostics'].parameters['log_dir'] == instance_log_dir(left)
    assert plan['flight_recorder'].parameters['output_dir'] == str(
        tmp_path / 'face_tracker_ros' / 'left' / 'flight_recorder')
    assert 'sim_servo_left_' in plan['servo'].parameters['port']
