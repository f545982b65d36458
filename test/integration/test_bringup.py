# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The node plan shared by launch and the standalone runner, and the runner's respawn."""

import contextlib
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from conftest import ROOT, wait_for
import pytest
import yaml

from face_tracker_ros.bringup.plan import BringupArgs, camera_overrides, make_plan, parse_bool
from face_tracker_ros.bringup.standalone import node_command, Supervisor, transport_env
from face_tracker_ros.common.status import ERROR
from face_tracker_ros.interface import (
    CAMERA_STATUS,
    DIAGNOSTICS_TOPIC,
    ROSOUT_TOPIC,
    SIM_INJECT_FAULT_TOPIC,
)


@pytest.mark.parametrize('source, expected', [
    ('', {}),
    ('sim', {'source': 'sim'}),
    ('/dev/video2', {'source': 'v4l2', 'device': '/dev/video2'}),
    ('/dev/v4l/by-id/usb-cam-video-index0', {'source': 'v4l2',
                                             'device': '/dev/v4l/by-id/usb-cam-video-index0'}),
    ('0', {'source': 'v4l2', 'device': '0'}),
    ('clips/face.mp4', {'source': 'file', 'video_path': 'clips/face.mp4'}),
])
def test_camera_source_argument(source, expected):
    assert camera_overrides(source) == expected


def test_hardware_plan_runs_the_tracker_nodes_and_their_monitor():
    plan = make_plan(BringupArgs(camera_source='/dev/video0', serial_port='/dev/ttyACM0',
                                 protocol='maestro', log_dir='/var/log/ft',
                                 node_log_levels={'servo': 'debug'}))
    assert [s.name for s in plan] == ['camera', 'detector', 'servo', 'flight_recorder',
                                      'diagnostics']
    servo = plan[2].parameters
    assert servo == {'port': '/dev/ttyACM0', 'protocol': 'maestro'}
    assert plan[2].log_level == 'debug' and plan[0].log_level == ''
    assert plan[3].parameters == {'output_dir': '/var/log/ft/flight_recorder'}
    assert plan[4].parameters == {'watched_nodes': ['camera', 'detector', 'servo',
                                                    'flight_recorder'],
                                  'log_dir': '/var/log/ft'}
    assert 'flight_recorder' not in [s.name for s in make_plan(BringupArgs(
        flight_recorder=False))]


def test_node_log_levels_parse():
    from face_tracker_ros.bringup.plan import parse_node_log_levels
    assert parse_node_log_levels('camera=DEBUG, servo=warn') == {'camera': 'debug',
                                                                 'servo': 'warn'}
    assert parse_node_log_levels('') == {}
    with pytest.raises(ValueError, match='camera=debug'):
        parse_node_log_levels('camera')


def test_sim_plan_links_the_servo_node_to_the_simulated_controller(tmp_path):
    link = str(tmp_path / 'servo')
    plan = {s.name: s for s in make_plan(BringupArgs(use_sim=True, sim_port=link,
                                                     sim_path='steps', debug_image=True))}
    assert set(plan) == {'sim_servo', 'camera', 'detector', 'servo', 'flight_recorder',
                         'diagnostics'}
    assert plan['diagnostics'].parameters['watched_nodes'] == ['sim_servo', 'camera',
                                                               'detector', 'servo',
                                                               'flight_recorder']
    assert plan['sim_servo'].parameters['link_path'] == link
    assert plan['servo'].parameters['port'] == link
    assert plan['camera'].parameters == {'source': 'sim', 'sim.path': 'steps',
                                         'sim.wait_for_pose': True}
    # Where no YuNet model is found, the simulation asks for Haar explicitly (no model warning).
    from face_tracker_ros.detector.models import find_model
    expected = {'publish_debug_image': True}
    if find_model() is None:
        expected['backend'] = 'haar'
    assert plan['detector'].parameters == expected


def test_log_levels_accept_python_names():
    from face_tracker_ros.bringup.standalone import log_level
    assert log_level('WARNING') == 'warn'
    assert log_level('CRITICAL') == 'fatal'
    assert log_level('Debug') == 'debug'
    with pytest.raises(Exception, match='invalid log level'):
        log_level('verbose')


def test_parse_bool():
    assert parse_bool('True') and parse_bool('1') and not parse_bool('false')
    with pytest.raises(ValueError, match='not a boolean'):
        parse_bool('maybe')


def test_node_command_keeps_string_values_strings():
    spec = make_plan(BringupArgs(camera_source='0'))[0]
    cmd = node_command(spec, 'tracker.yaml', 'debug')
    assert cmd[:3] == [sys.executable, '-m', 'face_tracker_ros.camera.node']
    assert 'device:="0"' in cmd and '__node:=camera' in cmd
    assert cmd[-2:] == ['--log-level', 'debug']


def test_transport_profile_is_applied_unless_set_or_disabled():
    env = transport_env(True, {})
    assert env['FASTDDS_DEFAULT_PROFILES_FILE'].endswith('config/fastdds.xml')
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in transport_env(False, {})
    assert transport_env(True, {'FASTDDS_DEFAULT_PROFILES_FILE': 'x'})[
        'FASTDDS_DEFAULT_PROFILES_FILE'] == 'x'


@contextlib.contextmanager
def supervised(plan, tmp_path):
    """Run ``plan`` under the standalone supervisor (node output in nodes.log); stop it after."""
    with open(tmp_path / 'nodes.log', 'w') as log:
        sup = Supervisor(plan, str(ROOT / 'config' / 'tracker.yaml'), respawn_delay=0.5,
                         env=transport_env(True), stdout=log)
        sup.start()
        try:
            yield sup
        finally:
            sup.stop()


def test_supervisor_restarts_a_killed_node(tmp_path):
    plan = make_plan(BringupArgs(use_sim=True, sim_port=str(tmp_path / 'servo'),
                                 log_dir=str(tmp_path / 'logs')))
    with supervised(plan, tmp_path) as sup:
        assert wait_for(lambda: len(sup.pids()) == 6, 10.0)
        old = sup.pids()['detector']
        os.kill(old, signal.SIGKILL)

        def restarted():
            sup.poll()
            return sup.pids().get('detector') not in (None, old)
        assert wait_for(restarted, 10.0)
        assert sup.restarts['detector'] == 1
        assert sup.restarts['camera'] == 0
    assert sup.pids() == {}


def test_standalone_stops_on_an_invalid_parameter(tmp_path):
    config = yaml.safe_load((ROOT / 'config' / 'tracker.yaml').read_text())
    # Not a parameter the simulation's plan sets on the command line (it may choose the
    # backend), so the parameters file's value is what the detector gets.
    config['detector']['ros__parameters']['haar.scale_factor'] = 0.5
    bad = tmp_path / 'bad.yaml'
    bad.write_text(yaml.safe_dump(config))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, '-m', 'face_tracker_ros.bringup.standalone', '--use-sim',
         '--sim-port', str(tmp_path / 'servo'), '--params-file', str(bad), '--duration', '60'],
        capture_output=True, text=True, timeout=90, cwd=str(ROOT))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert time.monotonic() - started < 60
    out = proc.stdout + proc.stderr
    assert "parameter 'haar.scale_factor'" in out
    assert 'not restarting' in out


def test_demo_summary(tmp_path):
    """The main job, short: the face ends up tracked and the summary has every figure.

    What is asserted does not depend on how busy the machine is (other tests, other
    work on the cores): the face is near the centre in most frames (the median error),
    the detector processes frames and the servo acts on them, every status is seen.
    How well it tracks (RMS error, latency, frames processed) on a busy or small
    computer is measured by the benchmark's budget section (``make bench``), which
    runs the loop under CPU quotas and beside CPU hogs.
    """
    out = tmp_path / 'summary.json'
    logs = tmp_path / 'logs'
    proc = subprocess.run(
        [sys.executable, '-m', 'face_tracker_ros.tools.demo', '--duration', '15',
         '--sim-port', str(tmp_path / 'servo'), '--output', str(out), '--quiet-nodes',
         '--log-dir', str(logs)],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(Path(out).read_text())
    for key in ('duration_s', 'frames_published', 'frames_processed', 'detections',
                'servo_commands', 'target_error_rms', 'target_error_max', 'target_error_p50',
                'latency_capture_to_command_ms_p50', 'latency_capture_to_command_ms_p99'):
        assert summary[key] is not None, key
    assert summary['servo_commands'] > 50
    assert summary['frames_processed'] >= 0.25 * summary['frames_published'], summary
    # Tracked: the face within 0.1 half-widths of the centre in at least half of the frames.
    # (Under load the RMS error grows with the seconds the loop waits for the CPU; at rest
    # it is about 0.03, see docs/benchmarks.md; the benchmark holds it to its targets.)
    assert summary['target_error_p50'] <= 0.10, summary
    assert 0 < summary['latency_capture_to_command_ms_p50'] < 500
    # Every node's status, the system status and one status per process, all OK.
    diagnostics = summary['diagnostics']
    assert diagnostics['missing'] == [], diagnostics
    assert diagnostics['all_seen_ok_after_s'] is not None, diagnostics
    # One rotating log file with lines from every node.
    text = (logs / 'face_tracker.log').read_text()
    for node in ('camera', 'detector', 'servo', 'sim_servo', 'diagnostics'):
        assert f'[{node}]' in text, node
    assert 'resource monitor: node=camera' in text


def test_watchdog_ends_a_frozen_node_and_the_runner_restarts_it(tmp_path):
    plan = make_plan(BringupArgs(use_sim=True, sim_port=str(tmp_path / 'servo'),
                                 log_dir=str(tmp_path / 'logs')))
    stale = 2.0
    for spec in plan:
        if spec.name == 'diagnostics':
            spec.parameters.update({'watchdog.stale_timeout_s': stale,
                                    'watchdog.startup_grace_s': 5.0,
                                    'watchdog.kill_grace_s': 1.0, 'sample_period_s': 0.5})
    with supervised(plan, tmp_path) as sup:
        assert wait_for(lambda: len(sup.pids()) == 6, 10.0)
        time.sleep(6.0)  # everything seen healthy
        frozen = sup.pids()['detector']
        os.kill(frozen, signal.SIGSTOP)
        stopped = time.monotonic()

        def replaced():
            sup.poll()
            return sup.pids().get('detector') not in (None, frozen)
        assert wait_for(replaced, stale + 5.0 + 3.0), (tmp_path / 'nodes.log').read_text()
        assert time.monotonic() - stopped <= stale + 5.0 + 1.0
    text = (tmp_path / 'logs' / 'face_tracker.log').read_text()
    assert 'watchdog: detector hung' in text
    assert 'SIGKILL' in text  # a stopped process cannot act on SIGTERM


def test_camera_fault_produces_a_flight_recorder_bag_that_report_renders(tmp_path, ros_node):
    """The post-mortem chain: fault -> ERROR -> bag within 5 s -> report plots."""
    from rosbags.highlevel import AnyReader
    from std_msgs.msg import String

    from face_tracker_ros.tools.report import make_report

    logs = tmp_path / 'logs'
    plan = make_plan(BringupArgs(use_sim=True, sim_port=str(tmp_path / 'servo'),
                                 log_dir=str(logs)))
    with supervised(plan, tmp_path) as sup:
        pub = ros_node('fault_injector').create_publisher(String, SIM_INJECT_FAULT_TOPIC, 10)
        assert wait_for(lambda: pub.get_subscription_count() >= 2, 20.0, spin=ros_node.spin)
        ros_node.spin(8.0)  # tracking, and some history in the recorder
        pub.publish(String(data='camera:read_fail:4'))
        injected = time.monotonic()
        bags = logs / 'flight_recorder'

        def written():
            sup.poll()
            return [b for b in bags.glob('flight_*') if (b / 'metadata.yaml').exists()] \
                if bags.exists() else []
        assert wait_for(written, 20.0, spin=ros_node.spin), (tmp_path / 'nodes.log').read_text()
        # The camera needs a moment to reach ERROR (10 failed reads); the bag follows
        # within post_event_s (4 s) of that.
        assert time.monotonic() - injected < 12.0
    bag = written()[0]
    with AnyReader([bag]) as reader:
        topics = {c.topic for c in reader.connections}
        assert {DIAGNOSTICS_TOPIC, ROSOUT_TOPIC} <= topics
        errors = []
        stamps = []
        for conn, t, raw in reader.messages():
            stamps.append(t)
            if conn.topic == DIAGNOSTICS_TOPIC:
                msg = reader.deserialize(raw, conn.msgtype)
                if any(s.name == CAMERA_STATUS and s.level == ERROR for s in msg.status):
                    errors.append(t)
    assert errors, 'the bag holds the ERROR'
    assert min(stamps) < errors[0] < max(stamps), 'messages from before and after the event'
    result = make_report(bag, tmp_path / 'report')
    for name in ('target_error', 'pan_tilt', 'latency', 'camera_fps', 'process_rss',
                 'process_cpu', 'status_timeline'):
        assert (tmp_path / 'report' / f'{name}.png').stat().st_size > 10_000, name
    assert 'camera' in (tmp_path / 'report' / 'summary.md').read_text()
    assert result.summary
