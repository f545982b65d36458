# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``ros2 launch`` run as a user runs it (a subprocess): arguments, configuration errors, signals.

* an invalid argument fails fast: one line naming it and the allowed values, no traceback,
  nothing started, non-zero exit;
* a node whose configuration is wrong exits 2 once, says why, and is not restarted;
* two trackers side by side (``namespace:=left`` / ``right``): each tracks, has its own sim
  port, log file and flight-recorder folder; each watchdog acts only on its own processes
  (a look-alike ``__node:=detector`` process elsewhere is left alone);
  ``log_level:=debug`` shows the tracker's debug lines and no rcl/rmw ones; the optional
  diagnostic_aggregator and rosbag2 are one WARN each; SIGINT to one launch: exit 0, no
  traceback; SIGTERM to the other: none of its processes is left.
"""

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from geometry_msgs.msg import PointStamped
from launch_helpers import (
    assert_installed_package,
    fast_watchdog_params,
    Launch,
    node_pid,
    node_processes,
    ros2_on_node,
    STARTUP_GRACE_S,
    stub_package,
    TRACEBACK,
    tracebacks_in,
    wait_until,
)
import psutil
import pytest
import yaml

AGGREGATOR_WARNING = "package 'diagnostic_aggregator' is not installed"
RECORD_WARNING = "record:=true needs 'ros2 bag record'"


@pytest.fixture
def launches():
    """Start ``Launch`` objects; whatever is left of them is killed at the end."""
    started = []

    def start(*args, **kwargs):
        launch = Launch(*args, **kwargs)
        started.append(launch)
        return launch

    yield start
    for launch in started:
        launch.cleanup()


@pytest.mark.parametrize('argument, name, allowed', [
    ('log_level:=verbose', 'log_level', 'debug, info, warn, error, fatal'),
    ('protocol:=bogus', 'protocol', 'ascii, maestro'),
    ('use_sim:=maybe', 'use_sim', 'true, false'),
    ('namespace:=1left', 'namespace', 'letters, digits and _'),
])
def test_an_invalid_argument_fails_fast(tmp_path, launches, argument, name, allowed):
    assert_installed_package()
    launch = launches(tmp_path, 'use_sim:=true', argument)
    status = launch.proc.wait(timeout=120)
    out = launch.output()
    lines = [line for line in out.splitlines() if f'invalid argument {name}:=' in line]
    assert status != 0, out
    assert len(lines) == 1, out
    assert allowed in lines[0], lines[0]
    assert TRACEBACK not in out
    assert 'process started' not in out


def test_ctrl_c_while_the_nodes_start(tmp_path, launches):
    """A Ctrl-C during the nodes' first second (interpreter start, imports): no traceback."""
    launch = launches(tmp_path, 'use_sim:=true')
    assert wait_until(lambda: launch.output().count('process started') >= 6, 60.0), \
        launch.output()
    assert launch.stop(signal.SIGINT, timeout=60.0) == 0, launch.output()
    out = launch.output()
    assert TRACEBACK not in out and 'Fatal Python error' not in out, out
    assert wait_until(lambda: not launch.survivors(), 15.0), launch.survivors()


def test_configuration_errors_are_not_respawned(tmp_path, launches):
    """A node exiting 2 says why once and is not restarted; the launch says so; others run."""
    from ament_index_python.packages import get_package_share_directory
    source = Path(get_package_share_directory('face_tracker_ros')) / 'config' / 'tracker.yaml'
    params = yaml.safe_load(source.read_text())
    params['servo']['ros__parameters']['protocol'] = 'bogus'
    params['detector']['ros__parameters'].update({'backend': 'yunet', 'yunet.model_path': ''})
    path = tmp_path / 'bad.yaml'
    path.write_text(yaml.safe_dump(params))
    # Here diagnostic_aggregator is "installed" (a stand-in): the launch starts it, no WARN.
    prefix = tmp_path / 'prefix'
    stub_package(prefix, 'diagnostic_aggregator', 'aggregator_node')
    env = dict(os.environ, AMENT_PREFIX_PATH=f"{prefix}:{os.environ['AMENT_PREFIX_PATH']}")
    launch = launches(tmp_path, f'params_file:={path}', 'respawn_delay:=0.5',
                      'camera_source:=/nonexistent/clip.mp4', 'serial_port:=/nonexistent/tty',
                      env=env)
    nodes = ('camera', 'detector', 'servo')
    said = wait_until(lambda: all(re.search(
        rf'^\[ERROR\] \[tracker.launch.py\]: {node} exited with status 2', launch.output(), re.M)
        for node in nodes), 60.0)
    time.sleep(5.0)  # ten respawn delays: a restart loop would show by now
    out = launch.output()
    assert said, out
    for node in nodes:
        starts = re.findall(rf'^\[INFO\] \[{node}_node-\d+\]: process started', out, re.M)
        assert len(starts) == 1, f'{node} started {len(starts)} times:\n{out}'
        fatal = [line for line in out.splitlines() if '[FATAL]' in line and f'[{node}]' in line]
        assert len(fatal) == 1, f'{node}: {fatal}\n{out}'
    fatal = '\n'.join(line for line in out.splitlines() if '[FATAL]' in line)
    assert 'bogus' in fatal and 'protocol' in fatal
    assert 'clip.mp4' in fatal
    assert 'model' in fatal
    # The nodes without a configuration error run on, and the aggregator where installed.
    for node in ('flight_recorder', 'diagnostics'):
        assert node_pid(launch.ps, node) is not None, node
    assert 'stand-in' in out and re.search(r'\[aggregator_node-\d+\]: process started', out)
    assert AGGREGATOR_WARNING not in out
    assert TRACEBACK not in out
    launch.stop(signal.SIGINT)


def test_yunet_on_an_opencv_older_than_its_model(tmp_path):
    """Debian's OpenCV 4.6 cannot load the 2023mar YuNet model: one line naming both versions."""
    import cv2
    model = Path(os.environ.get('FACE_TRACKER_SHARED', '/nonexistent')) / 'models' / \
        'face_detection_yunet.onnx'
    if not model.is_file():
        pytest.skip(f'{model} does not exist')
    if tuple(int(x) for x in cv2.__version__.split('.')[:2]) >= (4, 8):
        pytest.skip(f'OpenCV {cv2.__version__} loads the model')
    done = subprocess.run(
        ['ros2', 'run', 'face_tracker_ros', 'detector_node', '--ros-args', '-p',
         'backend:=yunet', '-p', f'yunet.model_path:={model}'],
        capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert cv2.__version__ in out and '4.8' in out, out
    assert TRACEBACK not in out


def _track(namespace: str, seconds: float) -> int:
    """Count face targets on ``/<namespace>/face/target`` over ``seconds``."""
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node(f'count_{namespace}', context=context)
        faces = []
        node.create_subscription(
            PointStamped, f'/{namespace}/face/target',
            lambda msg: faces.append(msg) if msg.point.z > 0.0 else None,
            QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        executor = rclpy.executors.SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(faces) < 20:
            executor.spin_once(timeout_sec=0.1)
        executor.shutdown()
        node.destroy_node()
        return len(faces)
    finally:
        rclpy.shutdown(context=context)


def test_two_trackers_side_by_side(tmp_path, launches):
    ros_log = tmp_path / 'ros-log'
    params = fast_watchdog_params(tmp_path)
    common = ('use_sim:=true', f'params_file:={params}', 'respawn_delay:=1.0')
    left = launches(tmp_path, *common, 'namespace:=left', 'log_level:=debug', 'record:=true',
                    name='left', ros_log_dir=ros_log)
    right = launches(tmp_path, *common, 'namespace:=right', name='right', ros_log_dir=ros_log)
    # A look-alike of a hung detector that belongs to neither launch.
    decoy = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)', '--ros-args',
                              '-r', '__node:=detector', '-r', '__ns:=/left'],
                             start_new_session=True)
    os.kill(decoy.pid, signal.SIGSTOP)
    try:
        assert _track('left', 120.0) >= 20, left.output()
        assert _track('right', 120.0) >= 20, right.output()
        for launch in (left, right):
            out = launch.output()
            assert out.count(AGGREGATOR_WARNING) == 1, out
            assert TRACEBACK not in out
        assert left.output().count(RECORD_WARNING) == 1
        assert 'bag_recorder' not in left.output()
        # Own sim port, log file and flight-recorder folder per instance, from the namespace.
        ports = [re.search(r'simulated servo controller \(\w+\) on (\S+)', launch.output())
                 for launch in (left, right)]
        assert all(ports) and ports[0].group(1) != ports[1].group(1)
        for namespace in ('left', 'right'):
            folder = ros_log / 'face_tracker_ros' / namespace
            assert wait_until(lambda folder=folder: (folder / 'face_tracker.log').is_file() and
                              (folder / 'flight_recorder').is_dir(), 30.0), folder
        # The parameters file applies to the namespaced nodes too.
        got = ros2_on_node('param', 'get', '/left/diagnostics', 'watchdog.startup_grace_s')
        assert str(STARTUP_GRACE_S) in got.stdout, got.stdout + got.stderr
        # log_level:=debug: the tracker's own debug lines, and none from rcl or rmw.
        out = left.output()
        assert re.search(r'\[DEBUG\] \[[\d.]+\] \[left\.\w+', out), out[-3000:]
        assert not re.search(r'\[DEBUG\] \[[\d.]+\] \[(rcl|rmw)', out)
        assert '[DEBUG]' not in right.output()

        # The left detector hangs: the left watchdog ends it; the right one signals only its
        # own processes (on a busy machine it may end a slow one of its own), never the left
        # detector or the look-alike.
        right.remember_descendants()
        old = node_pid(left.ps, 'detector')
        os.kill(old, signal.SIGSTOP)
        new = wait_until(lambda: node_pid(left.ps, 'detector') not in (None, old), 90.0)
        assert new, left.output()[-3000:]
        assert re.search(rf'SIG(TERM|KILL) to pid {old}\b', left.output()), left.output()[-3000:]
        time.sleep(2.0)
        assert psutil.Process(decoy.pid).status() == psutil.STATUS_STOPPED
        signalled = {int(pid) for pid in re.findall(r'SIG(?:TERM|KILL) to pid (\d+)',
                                                    right.output())}
        assert signalled <= right.remembered_pids(), right.output()[-3000:]
        assert _track('left', 90.0) >= 20, left.output()[-3000:]

        # Ctrl-C to the left launch: exit 0, no traceback anywhere.
        assert left.stop(signal.SIGINT, timeout=60.0) == 0, left.output()[-3000:]
        assert TRACEBACK not in left.output()
        assert tracebacks_in(ros_log / 'face_tracker_ros' / 'left') == []
        assert wait_until(lambda: not left.survivors(), 15.0), left.survivors()

        # SIGTERM to the right launch itself (not forwarded by launch): the nodes notice.
        assert len(node_processes(right.ps, 'servo')) == 1
        right.stop(signal.SIGTERM, timeout=30.0)
        assert wait_until(lambda: not right.survivors(), 15.0), right.survivors()
    finally:
        decoy.kill()
        decoy.wait()
