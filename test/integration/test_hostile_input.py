# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Hostile input to the servo and detector nodes (issue 14): stamps, values, an error storm.

Real parts: each node in its own process over real DDS, the simulated servo
controller on a real pseudo-terminal opened by the node with pyserial.  The
clock step test runs the servo node in this process on simulated ROS time,
because the system clock itself cannot be stepped in a test.
"""

import time

from conftest import fill_disk, wait_for
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
import pytest
from rcl_interfaces.msg import Log
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState, TimeReference

from face_tracker_ros.common.image_wire import encode_point_stamped, MAX_STAMP_SEC
from face_tracker_ros.sim.controller import SimServoController

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
PERIOD = 1.0 / 30.0


@pytest.fixture
def sim(tmp_path):
    """Start a simulated ASCII controller; its link path is the servo port."""
    controller = SimServoController(protocol='ascii', link_path=str(tmp_path / 'ttyServo'),
                                    fault_seed=3)
    controller.start()
    yield controller
    controller.stop()


def _figures(status):
    return {kv.key: kv.value for kv in status.values}


class ServoRig:
    """The servo node in a process, and a test node publishing targets and listening."""

    def __init__(self, node_process, ros_node, sim, params=None):
        """Start the servo on the simulated controller; wait until it is connected."""
        self.servo = node_process('face_tracker_ros.servo.node', 'servo',
                                  dict({'port': sim.port_path}, **(params or {})))
        self.spin = ros_node.spin
        self.node = node = ros_node('hostile_servo_client')
        self.pub = node.create_publisher(PointStamped, 'face/target', RELIABLE)
        self.commands = []
        self.joints = []
        self.statuses = []
        node.create_subscription(TimeReference, 'servo/command_latency',
                                 lambda m: self.commands.append(time.monotonic()), RELIABLE)
        node.create_subscription(JointState, 'joint_states',
                                 lambda m: self.joints.append(time.monotonic()), RELIABLE)
        node.create_subscription(
            DiagnosticArray, '/diagnostics',
            lambda m: self.statuses.extend(s for s in m.status if s.name == 'servo: servo'), 50)
        assert wait_for(lambda: self.pub.get_subscription_count() > 0, 20.0, spin=self.spin), \
            self.servo.output()
        assert wait_for(lambda: 'servo controller connected' in self.servo.output(), 15.0,
                        spin=self.spin), self.servo.output()

    def send(self, x=0.3, y=0.1, z=0.2, ahead_s=0.0, sec=None, nanosec=None):
        """Publish one target stamped now (+ ``ahead_s``), or with the given stamp fields."""
        msg = PointStamped()
        msg.header.frame_id = 'camera_optical_frame'
        stamp_ns = time.time_ns() + int(ahead_s * 1e9)
        msg.header.stamp.sec = stamp_ns // 1_000_000_000 if sec is None else sec
        msg.header.stamp.nanosec = stamp_ns % 1_000_000_000 if nanosec is None else nanosec
        msg.point.x, msg.point.y, msg.point.z = x, y, z
        self.pub.publish(msg)

    def track(self, seconds):
        """Publish good targets at 30 Hz for ``seconds``; return the commands they caused."""
        before = len(self.commands)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.send()
            self.spin(PERIOD)
        self.spin(0.3)
        return len(self.commands) - before

    def status(self, predicate, timeout=5.0):
        """Wait for a servo status satisfying ``predicate``; return it (None on timeout)."""
        found = []

        def check():
            found[:] = [s for s in self.statuses if predicate(s)]
            return bool(found)

        wait_for(check, timeout, spin=self.spin)
        return found[-1] if found else None


def test_a_future_stamp_and_bad_targets_are_refused_and_tracking_goes_on(node_process,
                                                                         ros_node, sim):
    rig = ServoRig(node_process, ros_node, sim)
    assert rig.track(1.0) >= 10, rig.servo.output()
    # Issue 14: one target stamped an hour ahead stopped every later command.
    rig.send(ahead_s=3600.0)
    rig.spin(0.1)
    after = rig.track(1.5)
    assert after >= 15, rig.servo.output()
    # Values and stamps that are not a target: refused, counted, nothing commanded.
    for fields in ({'z': 1e30}, {'x': float('nan')}, {'z': -0.5}, {'x': 4.0},
                   {'sec': 0}, {'sec': -5}, {'sec': MAX_STAMP_SEC},
                   {'nanosec': 2_000_000_000}):
        before = len(rig.commands)
        rig.send(**fields)
        rig.spin(0.15)
        assert len(rig.commands) == before, fields
    status = rig.status(lambda s: _figures(s).get('targets_bad_stamp') == '4'
                        and _figures(s).get('targets_malformed') == '4')
    assert status is not None, (_figures(rig.statuses[-1]), rig.statuses[-1].message)
    figures = _figures(status)
    assert figures['targets_future'] == '1'
    assert status.level == b'\x01' and 'refusing targets' in status.message, status
    # Tracking goes on; the WARN clears once nothing is refused for a while.
    assert rig.track(1.0) >= 10
    output = rig.servo.output()
    assert 'stamped in the future' in output and 'face size z 1e+30' in output
    assert output.count('target refused') <= 6, output  # one per reason, throttled
    assert 'Traceback' not in output
    assert rig.servo.stop() == 0


def test_an_error_reply_storm_does_not_starve_the_servo_node(node_process, ros_node, sim):
    rig = ServoRig(node_process, ros_node, sim)
    assert rig.track(0.5) >= 5
    joints_before = len(rig.joints)
    sim.inject('error_storm', 3.0)  # 3500 'ERR MAESTRO 0x0001' lines per second
    started = time.monotonic()
    commands = rig.track(3.0)
    took = time.monotonic() - started
    joints = len(rig.joints) - joints_before
    assert sim.counts.storm_lines_total > 3000
    # Every target still gives one command, joint_states keep their rate (30 Hz with the
    # commands; issue 14 saw 5 Hz), and nothing is re-sent for an ERR line.
    assert commands >= 60, rig.servo.output()
    assert joints / took >= 15.0, (joints, took)
    status = rig.status(lambda s: 'controller errors' in s.message)
    assert status is not None and status.level == b'\x01', rig.servo.output()
    assert int(_figures(status)['resends']) <= 1
    output = rig.servo.output()
    assert 'again (after' not in output
    assert output.count('servo controller error') <= 2, output
    assert 'Traceback' not in output
    assert rig.servo.stop() == 0


def test_a_clock_stepped_back_resumes_commands_within_two_frames(sim):
    """The servo node on simulated ROS time; the clock and the stamps jump back an hour."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.time import Time

    from face_tracker_ros.servo.node import ServoNode

    context = rclpy.Context()
    rclpy.init(context=context)
    node = ServoNode(context=context, parameter_overrides=[
        Parameter('port', value=sim.port_path), Parameter('use_sim_time', value=True)])
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    clock = node.get_clock()
    t = [1_700_000_000.0]

    def step(target=True):
        t[0] += PERIOD
        clock.set_ros_time_override(Time(nanoseconds=int(t[0] * 1e9)))
        if target:
            sec, frac = divmod(t[0] - 0.02, 1.0)
            node._on_target(encode_point_stamped(int(sec), int(frac * 1e9), 'camera', 0.3,
                                                 0.0, 0.2))
        executor.spin_once(timeout_sec=0.01)

    try:
        deadline = time.monotonic() + 10.0
        while not node.conn.is_connected and time.monotonic() < deadline:
            step(target=False)
            time.sleep(0.01)
        assert node.conn.is_connected
        for _ in range(30):
            step()
        assert node.conn.counts.commands_sent >= 25
        t[0] -= 3600.0
        sent = []
        for _ in range(5):
            before = node.conn.counts.commands_sent
            step()
            sent.append(node.conn.counts.commands_sent - before)
        assert sent[0] + sent[1] >= 1 and sum(sent) >= 4, sent
        assert node.controller.clock_steps == 1
        assert node.status.report()[0] == 0 or 'refusing' not in node.status.report()[1]
    finally:
        node.shutdown()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def test_the_detector_skips_images_whose_stamp_is_not_a_time(node_process, ros_node):
    from sensor_msgs.msg import Image

    from face_tracker_ros.common.compat import array_to_image
    from face_tracker_ros.sim.scene import SimScene

    detector = node_process('face_tracker_ros.detector.node', 'detector')
    node = ros_node('hostile_camera')
    pub = node.create_publisher(Image, 'camera/image_raw', RELIABLE)
    targets = []
    node.create_subscription(PointStamped, 'face/target', targets.append, RELIABLE)
    statuses = []
    node.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda m: statuses.extend(s for s in m.status if s.name == 'detector: detector'), 50)
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=ros_node.spin), \
        detector.output()
    frame, _ = SimScene(path='still').render(5.0, 0.0, 0.0)
    from builtin_interfaces.msg import Time
    msg = array_to_image(frame, Time(sec=1), 'camera_optical_frame')
    took = {}
    for sec, nanosec in ((0, 0), (-5, 0), (MAX_STAMP_SEC, 0), (1_700_000_000, 1_000_000_000),
                         (1_700_000_000, 2_000_000_000), (1_700_000_000, 4_294_967_295)):
        msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
        pub.publish(msg)
        ros_node.spin(0.2)
        # A good frame right after is processed at once (issue 14 saw a 2 s block).
        msg.header.stamp.sec, msg.header.stamp.nanosec = 1_700_000_001, len(took)
        start = time.monotonic()
        count = len(targets)
        pub.publish(msg)
        assert wait_for(lambda n=count: len(targets) > n, 10.0, interval=0.01,
                        spin=ros_node.spin), \
            detector.output()
        took[(sec, nanosec)] = time.monotonic() - start
    assert all(t.header.stamp.sec == 1_700_000_001 for t in targets), \
        [(t.header.stamp.sec, t.header.stamp.nanosec) for t in targets]
    assert max(took.values()) < 1.5, took
    assert wait_for(lambda: any(s.level == b'\x01' and 'stamp is not a time' in s.message
                                for s in statuses), 5.0, spin=ros_node.spin), statuses[-1:]
    output = detector.output()
    assert 'image skipped: stamp' in output
    assert 'Traceback' not in output and '[ERROR]' not in output, output
    assert detector.stop() == 0


# The log file (issue 14, finding 5) ------------------------------------------------------------

def _log_status(arrays):
    return [s for a in arrays for s in a.status if s.name == 'diagnostics: log file']


def _start_writer(node_process, log_dir):
    return node_process('face_tracker_ros.monitor.node', 'diagnostics', {
        'watched_nodes': ['nobody'], 'sample_period_s': 0.5, 'diagnostic_updater.period': 0.5,
        'log_dir': str(log_dir)})


def _chatter(ros_node, arrays):
    node = ros_node('chatter')
    node.create_subscription(DiagnosticArray, '/diagnostics', arrays.append, 100)
    return node


def _file_lines(log_dir):
    path = log_dir / 'face_tracker.log'
    return path.read_text(errors='replace').splitlines() if path.exists() else []


def _say(node, ros_node, text, count, period=0.02):
    for i in range(count):
        node.get_logger().info(f'{text} {i:03d}')
        ros_node.spin(period)


def test_the_log_file_on_a_full_disk_is_error_and_writes_the_lines_late(node_process,
                                                                        ros_node, small_disk):
    arrays = []
    node = _chatter(ros_node, arrays)
    writer = _start_writer(node_process, small_disk / 'logs')
    assert wait_for(lambda: any(s.level == b'\x00' for s in _log_status(arrays)), 20.0,
                    spin=ros_node.spin), writer.output()
    _say(node, ros_node, 'before', 5)
    assert wait_for(lambda: sum('before' in x for x in _file_lines(small_disk / 'logs')) == 5,
                    10.0, spin=ros_node.spin)
    filler = fill_disk(small_disk)
    _say(node, ros_node, 'while the disk is full, line', 60)
    # The free-space check may say 'is full' before a line has failed; wait for the
    # report of the failed write itself, which names the OS error.
    assert wait_for(lambda: any(s.level == b'\x02' and 'lines held back' in s.message
                                for s in _log_status(arrays)), 10.0, spin=ros_node.spin), \
        [s.message for s in _log_status(arrays)[-3:]]
    error = [s for s in _log_status(arrays)
             if s.level == b'\x02' and 'lines held back' in s.message][-1]
    assert 'No space left on device' in error.message
    assert int(_figures(error)['write_errors']) >= 1
    filler.unlink()
    assert wait_for(lambda: any(s.level == b'\x01' and 'again after' in s.message
                                for s in _log_status(arrays)), 10.0, spin=ros_node.spin), \
        [s.message for s in _log_status(arrays)[-3:]]
    lines = _file_lines(small_disk / 'logs')
    full = [x for x in lines if 'while the disk is full' in x]
    assert [int(x.split()[-1]) for x in full] == list(range(60)), full
    assert any('lines above were held back since' in x for x in lines)
    assert 'Traceback' not in writer.output()
    assert writer.stop() == 0


def test_a_restarted_log_writer_writes_no_line_twice(node_process, ros_node, tmp_path):
    log_dir = tmp_path / 'logs'
    arrays = []
    node = _chatter(ros_node, arrays)
    writer = _start_writer(node_process, log_dir)
    # A /rosout publisher that keeps its lines for every late reader, without a lifespan
    # (as rcl's does up to Iron): its lines are replayed to the restarted writer however
    # long that takes to start on a busy machine.
    keeper = node.create_publisher(Log, '/rosout', QoSProfile(
        depth=100, reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL, history=HistoryPolicy.KEEP_LAST))
    assert wait_for(lambda: _log_status(arrays), 20.0, spin=ros_node.spin), writer.output()
    said = time.monotonic()  # the first run's lines expire from /rosout 10 s after this
    _say(node, ros_node, 'first run', 20)
    for i in range(10):
        keeper.publish(Log(stamp=node.get_clock().now().to_msg(), level=Log.INFO,
                           name='keeper', msg=f'kept line {i:03d}'))
    assert wait_for(lambda: sum('first run' in x for x in _file_lines(log_dir)) == 20
                    and sum('kept line' in x for x in _file_lines(log_dir)) == 10, 10.0,
                    spin=ros_node.spin)
    assert writer.stop() == 0
    arrays.clear()
    # Within the 10 s /rosout keeps them, the new writer is sent the old lines again.
    writer = _start_writer(node_process, log_dir)

    def new_writer_status():
        # Only the new process's own statuses: one of the stopped writer's may still be
        # queued here after clear() (it was: its duplicates_skipped 0 failed the check).
        pid = str(writer.proc.pid)
        return [s for s in _log_status(arrays) if _figures(s).get('pid') == pid]

    assert wait_for(new_writer_status, 20.0, spin=ros_node.spin), writer.output()
    _say(node, ros_node, 'second run', 5)
    assert wait_for(lambda: sum('second run' in x for x in _file_lines(log_dir)) == 5, 10.0,
                    spin=ros_node.spin)
    # The new writer's /rosout subscription was matched by now (it wrote the second run):
    # if that was within the first run's lifespan, with a margin, they were replayed to it.
    replayed = time.monotonic() - said < 8.0
    lines = [x for x in _file_lines(log_dir) if '[chatter]' in x or '[keeper]' in x]
    assert len(lines) == len(set(lines)) == 35, lines
    # The keeper's 10 lines are always replayed to the new writer, and skipped; the
    # logger's first run too when the writer's subscription was matched within their
    # lifespan (the second run's lines came on it, so it was matched by then).
    skipped = 30 if replayed else 10
    assert wait_for(lambda: int(_figures(new_writer_status()[-1])['duplicates_skipped'])
                    >= skipped, 5.0, spin=ros_node.spin), _figures(new_writer_status()[-1])
    assert any('log file: continuing' in x for x in _file_lines(log_dir))
    assert writer.stop() == 0


CHATTER = r"""
import sys, time
import rclpy
rclpy.init(args=sys.argv)
node = rclpy.create_node('chatter')
for i in range(int(sys.argv[1])):
    node.get_logger().info(f'numbered line {i:03d}')
    time.sleep(0.1)
node.destroy_node()
rclpy.shutdown()
"""


def test_a_stalled_log_writer_recovers_the_lines_it_missed(node_process, ros_node, tmp_path):
    """Lines /rosout no longer has when the writer resumes are read back from the node's file."""
    import os
    import signal
    import subprocess
    import sys

    log_dir = tmp_path / 'logs'
    arrays = []
    ros_node('log_listener').create_subscription(DiagnosticArray, '/diagnostics',
                                                 arrays.append, 100)
    writer = _start_writer(node_process, log_dir)
    assert wait_for(lambda: _log_status(arrays), 20.0, spin=ros_node.spin), writer.output()
    # A sibling of the writer (same parent, like the nodes of one run): 250 lines in 25 s.
    chatter = subprocess.Popen([sys.executable, '-c', CHATTER, '250', '--ros-args', '-r',
                                '__node:=chatter'], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: any('numbered line 010' in x for x in _file_lines(log_dir)),
                        20.0, spin=ros_node.spin), writer.output()
        os.kill(writer.proc.pid, signal.SIGSTOP)
        try:
            ros_node.spin(14.0)
        finally:
            os.kill(writer.proc.pid, signal.SIGCONT)
        assert chatter.wait(60.0) == 0
    finally:
        if chatter.poll() is None:
            chatter.kill()
    assert wait_for(lambda: any('numbered line 249' in x for x in _file_lines(log_dir)), 20.0,
                    spin=ros_node.spin), writer.output()
    lines = _file_lines(log_dir)
    numbers = [int(x.rsplit(' ', 1)[1]) for x in lines if 'numbered line' in x]
    first = numbers[0]
    assert sorted(numbers) == list(range(first, 250)), numbers  # none missing, none twice
    note = [x for x in lines if 'did not run for' in x][0]
    assert ' WARN [diagnostics] ' in note and 'were read back from' in note, note
    recovered = int(note.split(': ')[-1].split(' lines of ')[0].split()[-1])
    assert recovered >= 20, note  # about 4 s of lines had expired
    assert wait_for(lambda: any(int(_figures(s).get('writer_gaps', 0)) == 1
                                for s in _log_status(arrays)), 5.0, spin=ros_node.spin)
    assert writer.stop() == 0


# Camera warnings (issue 14, finding 9) ----------------------------------------------------------

def test_the_transport_check_reads_the_segment_of_the_profile(tmp_path):
    from conftest import ROOT

    from face_tracker_ros.common.transport import (
        FASTDDS_DEFAULT_SEGMENT,
        shm_segment,
        transport_problem,
    )

    profile = str(ROOT / 'config' / 'fastdds.xml')
    size, source = shm_segment('rmw_fastrtps_cpp', {'FASTDDS_DEFAULT_PROFILES_FILE': profile})
    assert (size, source) == (16 * 2**20, profile)
    assert shm_segment('rmw_fastrtps_cpp', {})[0] == FASTDDS_DEFAULT_SEGMENT
    assert shm_segment('rmw_cyclonedds_cpp', {})[0] is None
    broken = tmp_path / 'broken.xml'
    broken.write_text('<dds><profiles>')
    assert shm_segment('rmw_fastrtps_cpp', {'FASTDDS_DEFAULT_PROFILES_FILE': str(broken)})[0] \
        is None
    four_k = 3840 * 2160 * 3 + 100
    assert transport_problem(640 * 480 * 3 + 100, size, source) is None
    problem = transport_problem(four_k, size, source)
    assert '23.7 MiB do not fit the 16.0 MiB shared-memory segment' in problem
    assert transport_problem(four_k, None, 'middleware x') is None


NATIVE_CHILD = r"""
import os, sys, time
from face_tracker_ros.camera.native_log import NativeStderr
got = []
native = NativeStderr(got.append, max_lines=3, window_s=60.0)
assert native.start()
os.write(2, b'[mov,mp4 @ 0x1] moov atom not found\n')
os.write(2, b'[WARN] [1700000000.000000000] [camera]: a ROS console line\n')
for i in range(5):
    os.write(2, b'[h264 @ 0x2] error while decoding MB %d\n' % i)
sys.stderr.write('python text\n'); sys.stderr.flush()
time.sleep(0.3)
native.stop()
print('GOT', got, native.lines_forwarded, native.lines_left_out)
"""


def test_native_stderr_lines_reach_the_logger_and_the_console():
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, '-c', NATIVE_CHILD], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=30)
    assert done.returncode == 0, done.stderr
    # Everything still reaches the original standard error ...
    assert 'moov atom not found' in done.stderr and 'a ROS console line' in done.stderr
    assert done.stderr.count('error while decoding') == 5
    # ... and the logger gets the native lines, not ROS console lines, at most 3 per window.
    assert "GOT ['native stderr: [mov,mp4 @ 0x1] moov atom not found', 'native stderr: " \
        "[h264 @ 0x2] error while decoding MB 0', 'native stderr: [h264 @ 0x2] error while " \
        "decoding MB 1'] 3 4" in done.stdout, done.stdout


def test_ffmpeg_errors_reach_the_camera_log(node_process, tmp_path):
    import cv2
    import numpy as np

    # A video whose middle is damaged: it opens, and FFmpeg's decoder complains while reading.
    video = tmp_path / 'damaged.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (320, 240))
    for i in range(30):
        frame = np.full((240, 320, 3), i * 8, np.uint8)
        cv2.putText(frame, str(i), (50, 120), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 3)
        writer.write(frame)
    writer.release()
    data = bytearray(video.read_bytes())
    for k in range(len(data) // 3, 2 * len(data) // 3, 97):
        data[k] ^= 0xFF
    video.write_bytes(bytes(data))
    camera = node_process('face_tracker_ros.camera.node', 'camera', {
        'source': 'file', 'video_path': str(video), 'loop_video': True})
    assert wait_for(lambda: 'native stderr: [mjpeg @' in camera.output(), 20.0), \
        camera.output()
    line = next(x for x in camera.output().splitlines() if 'native stderr: [mjpeg @' in x)
    assert line.startswith('[WARN]') and '[camera]' in line, line
    assert camera.stop() == 0
    # Not a video at all: refused at start (exit 2), FFmpeg's reason on the console too.
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(bytes(range(256)) * 2000)
    refused = node_process('face_tracker_ros.camera.node', 'camera2', {
        'source': 'file', 'video_path': str(junk)})
    assert refused.wait(20.0) == 2, refused.output()
    assert 'moov atom not found' in refused.output()


@pytest.mark.parametrize('profile', [False, True])
def test_the_camera_warns_when_its_frames_cannot_fit_the_transport(node_process, ros_node,
                                                                   monkeypatch, profile):
    from conftest import ROOT
    import rclpy

    from face_tracker_ros.common.transport import FASTDDS_RMWS

    if rclpy.get_rmw_implementation_identifier() not in FASTDDS_RMWS:
        pytest.skip('the shared-memory segment is judged for Fast DDS only')
    monkeypatch.delenv('FASTDDS_DEFAULT_PROFILES_FILE', raising=False)
    monkeypatch.delenv('FASTRTPS_DEFAULT_PROFILES_FILE', raising=False)
    if profile:
        monkeypatch.setenv('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config' / 'fastdds.xml'))
    statuses = []
    ros_node('camera_listener').create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda m: statuses.extend(s for s in m.status if s.name == 'camera: camera'), 50)
    camera = node_process('face_tracker_ros.sim.camera_node', 'camera', {
        'source': 'sim', 'width': 640, 'height': 480, 'fps': 10.0})
    assert wait_for(lambda: any('streaming' in s.message for s in statuses), 20.0,
                    spin=ros_node.spin), camera.output()
    ros_node.spin(1.5)
    last = statuses[-1]
    warned = camera.output().count('shared-memory segment')
    if profile:  # 0.9 MiB frames in the 16 MiB segment of config/fastdds.xml
        assert warned == 0 and 'shared-memory' not in last.message, camera.output()
    else:  # the Fast DDS default segment is 512 KiB
        assert warned == 1, camera.output()
        assert last.level == b'\x01' and 'do not fit the 0.5 MiB' in last.message, last
    assert camera.stop() == 0
