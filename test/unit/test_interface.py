# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The shared names are the public interface: their values are pinned here, spelt out.

Every other module and test imports them from face_tracker_ros.interface; this test is the
one place that says what they are, so renaming a topic, a node or a status is a visible
change of the interface, not a silent one.
"""

import re

from conftest import ROOT

from face_tracker_ros import interface as i


def test_topics_and_services():
    assert (i.IMAGE_TOPIC, i.CAMERA_INFO_TOPIC, i.TARGET_TOPIC, i.DEBUG_IMAGE_TOPIC,
            i.JOINT_STATES_TOPIC, i.COMMAND_LATENCY_TOPIC, i.DIAGNOSTICS_TOPIC,
            i.ROSOUT_TOPIC, i.PREVIEW_TOPIC) == (
        'camera/image_raw', 'camera/camera_info', 'face/target', 'face/debug_image',
        'joint_states', 'servo/command_latency', '/diagnostics', '/rosout',
        'camera/preview/compressed')
    assert (i.SIM_JOINT_STATES_TOPIC, i.SIM_TRUE_TARGET_TOPIC, i.SIM_INJECT_FAULT_TOPIC) == (
        'sim/joint_states', 'sim/true_target', 'sim/inject_fault')
    assert i.RECORDER_TRIGGER_SERVICE == '~/trigger'
    assert (i.RUN_ID_ENV, i.PARENT_PID_ENV) == ('FACE_TRACKER_RUN_ID', 'FACE_TRACKER_PARENT_PID')


def test_node_names_and_their_executables_in_setup_py():
    assert (i.CAMERA_NODE, i.DETECTOR_NODE, i.SERVO_NODE, i.SIM_SERVO_NODE, i.DIAGNOSTICS_NODE,
            i.FLIGHT_RECORDER_NODE) == ('camera', 'detector', 'servo', 'sim_servo',
                                        'diagnostics', 'flight_recorder')
    scripts = dict(re.findall(r"'(\w+) = face_tracker_ros\.([\w.]+):main'",
                              (ROOT / 'setup.py').read_text()))
    executables = [*i.NODE_EXECUTABLES.values(), i.SIM_CAMERA_EXECUTABLE, i.RECORD_EXECUTABLE]
    assert all(name in scripts for name in executables), (executables, scripts)
    assert i.NODE_EXECUTABLES == {node: f'{node}_node' for node in i.NODE_EXECUTABLES}
    assert i.PACKAGE == 'face_tracker_ros'


def test_status_names():
    assert (i.CAMERA_STATUS, i.DETECTOR_STATUS, i.SERVO_STATUS, i.SYSTEM_STATUS,
            i.LOG_FILE_STATUS, i.FLIGHT_RECORDER_STATUS) == (
        'camera: camera', 'detector: detector', 'servo: servo', 'diagnostics: system',
        'diagnostics: log file', 'flight_recorder: flight recorder')
    assert (i.SIM_SERVO_TASK, i.CAMERA_DEVICE_TASK) == ('simulated controller', 'camera device')
    assert i.status_name(i.DIAGNOSTICS_NODE, i.process_task('servo')) == \
        'diagnostics: process servo'
    assert i.watchdog_task('detector') == 'watchdog detector'
    assert i.status_name(i.FLIGHT_RECORDER_NODE, i.peer_watch_task(i.DIAGNOSTICS_NODE)) == \
        'flight_recorder: peer watch diagnostics'
    assert i.split_status_name('diagnostics: process servo') == ('diagnostics', 'process servo')
    assert i.split_status_name('odd') == ('odd', '')
