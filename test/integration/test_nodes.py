# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Each node in its own process, talked to over real DDS from this test process."""

import math
import os
import select
import time
import tty

from conftest import FakeController, wait_for
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, Image, JointState

from face_tracker_ros.common.compat import array_to_image
from face_tracker_ros.sim.scene import SimScene

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _collector(node, msg_type, topic):
    received = []
    node.create_subscription(msg_type, topic, received.append, RELIABLE)
    return received


def _stamp_ns(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def test_detector_publishes_the_target_with_the_image_stamp(node_process, ros_node):
    detector = node_process('face_tracker_ros.detector.node', 'detector')
    node = ros_node('test_detector_client')
    pub = node.create_publisher(Image, 'camera/image_raw', RELIABLE)
    targets = _collector(node, PointStamped, 'face/target')
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=ros_node.spin), \
        detector.output()

    scene = SimScene(path='still')
    frame, truth = scene.render(5.0, 0.0, 0.0)
    assert truth.visible

    def send(image, stamp_ns, timeout=10.0, **fields):
        msg = array_to_image(image, Time(nanoseconds=stamp_ns).to_msg(), 'camera_optical_frame')
        for key, value in fields.items():
            setattr(msg, key, value)
        count = len(targets)
        pub.publish(msg)
        return wait_for(lambda: len(targets) > count, timeout, spin=ros_node.spin)

    stamp = 1_700_000_000_123_456_789
    assert send(frame, stamp), detector.output()
    target = targets[-1]
    assert _stamp_ns(target.header.stamp) == stamp
    assert target.header.frame_id == 'camera_optical_frame'
    assert target.point.z > 0.0
    assert target.point.x == pytest.approx(truth.offset_x, abs=0.05)
    assert target.point.y == pytest.approx(truth.offset_y, abs=0.05)

    # Malformed images are skipped without an answer and without killing the node.
    assert not send(frame, stamp + 1, timeout=1.5, step=100)
    assert not send(frame, stamp + 2, timeout=1.5, encoding='yuv422_weird')
    bad = array_to_image(frame, Time(nanoseconds=stamp + 3).to_msg(), 'camera_optical_frame')
    bad.data = bad.data[:1000]
    pub.publish(bad)
    assert detector.alive()

    # A frame without a face gives the explicit "no face" target.
    empty = np.full_like(frame, 90)
    assert send(empty, stamp + 4), detector.output()
    assert targets[-1].point.z == 0.0
    assert _stamp_ns(targets[-1].header.stamp) == stamp + 4
    assert 'malformed image skipped' in detector.output()
    assert detector.stop() == 0


def _read_pty(fd, seconds: float) -> bytes:
    data = b''
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data += os.read(fd, 4096)
            except OSError:
                break
    return data


def _drive_servo(node_process, ros_node, protocol, tmp_path, extra=None):
    master, slave = os.openpty()
    tty.setraw(master)
    port = os.ttyname(slave)
    peer = FakeController(master, protocol)
    params = {'port': port, 'protocol': protocol}
    params.update(extra or {})
    servo = node_process('face_tracker_ros.servo.node', 'servo', params)
    node = ros_node('test_servo_client')
    pub = node.create_publisher(PointStamped, 'face/target', RELIABLE)
    joints = _collector(node, JointState, 'joint_states')
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=ros_node.spin), \
        servo.output()
    assert wait_for(lambda: 'servo controller connected' in servo.output(), 10.0), \
        servo.output()
    ros_node.spin(0.2)
    start = len(peer.data)
    for _ in range(20):
        msg = PointStamped()
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.header.frame_id = 'camera_optical_frame'
        msg.point.x, msg.point.y, msg.point.z = 0.5, -0.4, 0.15  # right of and above centre
        pub.publish(msg)
        ros_node.spin(0.05)
    ros_node.spin(0.5)
    peer.stop()
    return servo, master, slave, peer.data[start:], joints


def test_servo_turns_towards_a_target_in_ascii_bytes(node_process, ros_node, tmp_path):
    servo, master, slave, data, joints = _drive_servo(node_process, ros_node, 'ascii',
                                                      tmp_path)
    moves = [line.split() for line in data.decode().splitlines() if line.startswith('MOVE')]
    assert len(moves) >= 10, data
    pan_us, tilt_us = int(moves[-1][1]), int(moves[-1][2])
    # Face right -> pan decreases (turn right); face above -> tilt decreases (look up).
    assert pan_us < 1500 and tilt_us < 1500
    assert int(moves[0][1]) >= pan_us
    ros_node.spin(0.3)
    last = [j for j in joints if j.name == ['pan', 'tilt']][-1]
    assert last.position[0] < 0.0 and last.position[1] < 0.0
    assert last.position[0] == pytest.approx((pan_us - 1500) / (2000 / math.pi), abs=0.01)

    # Garbage and binary junk from the controller never take the node down.
    os.write(master, b'\xff\xfe\x00garbage\nERR RANGE 9999\n' + bytes(range(256)))
    ros_node.spin(0.5)
    assert servo.alive()
    assert 'servo controller error' in servo.output() or 'unexpected bytes' in servo.output()
    assert servo.stop() == 0
    os.close(master)
    os.close(slave)


def test_servo_speaks_maestro_compact_protocol(node_process, ros_node, tmp_path):
    servo, master, slave, data, _ = _drive_servo(
        node_process, ros_node, 'maestro', tmp_path,
        {'maestro.pan_channel': 3, 'maestro.tilt_channel': 4})
    targets = {}
    i = 0
    while i + 4 <= len(data):
        if data[i] == 0x84:
            channel, low, high = data[i + 1], data[i + 2], data[i + 3]
            targets[channel] = (low | (high << 7)) / 4.0
            i += 4
        else:
            i += 1
    assert set(targets) == {3, 4}, data.hex()
    assert targets[3] < 1500.0 and targets[4] < 1500.0
    assert servo.stop() == 0
    os.close(master)
    os.close(slave)


def test_servo_without_a_port_keeps_retrying(node_process, ros_node, tmp_path):
    node = ros_node('test_servo_status')
    statuses = []
    node.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda m: statuses.extend((time.monotonic(), ord(s.level), s.message) for s in m.status
                                  if s.name == 'servo: servo'), 50)
    started = time.monotonic()
    servo = node_process('face_tracker_ros.servo.node', 'servo',
                         {'port': str(tmp_path / 'no-such-port'), 'reconnect_backoff_s': 0.1})
    assert wait_for(lambda: 'cannot open servo port' in servo.output(), 15.0), servo.output()
    # A port that is not there at start-up is WARN for the first seconds, then ERROR.
    assert wait_for(lambda: any(level == 2 for _, level, _ in statuses), 20.0,
                    spin=ros_node.spin), statuses
    early = [(t, level, text) for t, level, text in statuses
             if level != 2 and text != 'Node starting up']
    assert early and all(level == 1 and text.startswith('starting, disconnected')
                         for _, level, text in early), statuses
    first_error = min(t for t, level, _ in statuses if level == 2)
    assert first_error - started >= 4.0
    assert servo.alive()
    assert servo.stop() == 0


def test_camera_publishes_simulated_frames_with_capture_stamps(node_process, ros_node):
    camera = node_process('face_tracker_ros.sim.camera_node', 'camera',
                          {'source': 'sim', 'sim.path': 'still'})
    node = ros_node('test_camera_client')
    images = _collector(node, Image, 'camera/image_raw')
    truths = _collector(node, PointStamped, 'sim/true_target')
    infos = _collector(node, CameraInfo, 'camera/camera_info')
    assert wait_for(lambda: len(images) >= 30, 20.0, spin=ros_node.spin), camera.output()
    now_ns = node.get_clock().now().nanoseconds
    msg = images[-1]
    assert (msg.width, msg.height, msg.encoding) == (640, 480, 'bgr8')
    assert msg.header.frame_id == 'camera_optical_frame'
    assert msg.step == 640 * 3 and len(msg.data) == 640 * 480 * 3
    assert 0 <= now_ns - _stamp_ns(msg.header.stamp) < 2_000_000_000
    stamps = [_stamp_ns(m.header.stamp) for m in images]
    assert stamps == sorted(stamps)
    # Roughly the configured 30 Hz.
    span = (stamps[-1] - stamps[0]) / 1e9
    assert 20 <= (len(stamps) - 1) / span <= 40
    # The truth of a frame carries the frame's own stamp.
    assert {_stamp_ns(t.header.stamp) for t in truths} & set(stamps)
    # One CameraInfo per frame, same header, the simulated pinhole (60 degrees wide).
    assert {_stamp_ns(i.header.stamp) for i in infos} & set(stamps)
    info = infos[-1]
    assert info.header.frame_id == 'camera_optical_frame'
    assert (info.width, info.height, info.distortion_model) == (640, 480, 'plumb_bob')
    assert info.k[0] == pytest.approx(320.0 / math.tan(math.radians(30.0)))
    assert list(info.k[2:6:3]) == [320.0, 240.0] and info.k[8] == 1.0
    assert camera.stop() == 0


def test_camera_plays_a_video_file_at_its_rate(node_process, ros_node, tmp_path):
    import cv2
    path = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 15.0, (320, 240))
    scene = SimScene(width=320, height=240, path='drift', face_size_rad=0.25)
    for k in range(30):
        writer.write(scene.render(k / 15.0, 0.0, 0.0)[0])
    writer.release()
    camera = node_process('face_tracker_ros.camera.node', 'camera',
                          {'source': 'file', 'video_path': path, 'fps': 0.0})
    node = ros_node('test_file_client')
    images = _collector(node, Image, 'camera/image_raw')
    infos = _collector(node, CameraInfo, 'camera/camera_info')
    # 45 frames of a 30-frame file: it loops.
    assert wait_for(lambda: len(images) >= 45, 20.0, spin=ros_node.spin), camera.output()
    assert (images[0].width, images[0].height) == (320, 240)
    # No calibration is loaded: an uncalibrated CameraInfo of the frames' size.
    assert (infos[-1].width, infos[-1].height) == (320, 240)
    assert not any(infos[-1].k) and not any(infos[-1].p)
    stamps = [_stamp_ns(m.header.stamp) for m in images]
    rate = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9)
    assert 11.0 <= rate <= 19.0
    assert camera.stop() == 0


@pytest.mark.parametrize('module, params, expected', [
    ('face_tracker_ros.camera.node', {'source': 'usb'}, "parameter 'source'"),
    ('face_tracker_ros.camera.node', {'source': 'v4l2', 'fps': -1.0}, "'fps'"),
    ('face_tracker_ros.camera.node', {'source': 'file', 'video_path': '/nonexistent/clip.mp4'},
     "'video_path'"),
    ('face_tracker_ros.camera.node', {'source': 'file'}, "'video_path'"),
    ('face_tracker_ros.servo.node', {'protocol': 'pwm'}, "parameter 'protocol'"),
    ('face_tracker_ros.servo.node', {'port': ''}, "parameter 'port'"),
    ('face_tracker_ros.servo.node', {'pan.min_angle': 1.0, 'pan.max_angle': -1.0},
     'pan.min_angle'),
    ('face_tracker_ros.detector.node', {'backend': 'dnn'}, "parameter 'backend'"),
    ('face_tracker_ros.detector.node', {'backend': 'yunet'}, 'yunet.model_path'),
])
def test_invalid_parameters_stop_the_node_with_one_clear_message(node_process, module, params,
                                                                 expected):
    proc = node_process(module, module.split('.')[1], params)
    assert proc.wait(30.0) == 2
    out = proc.output()
    assert expected in out, out
    assert 'invalid parameter' in out.strip().splitlines()[-1]
    assert 'Traceback' not in out


def test_camera_that_cannot_recover_exits_non_zero_with_the_reason(node_process):
    camera = node_process('face_tracker_ros.sim.camera_node', 'camera', {
        'source': 'sim', 'sim.faults': 'disappear:1:60', 'max_recovery_s': 3.0,
        'reopen_backoff_s': 0.2, 'reopen_backoff_max_s': 0.5})
    assert camera.wait(30.0) == 1
    last = camera.output().strip().splitlines()[-1]
    assert 'camera recovery gave up' in last, camera.output()
    assert 'disappeared' in last or 'open' in last
    # An expected end: one line, no traceback (the executor logs one for a raising callback).
    assert 'Traceback' not in camera.output() and 'Error occurred at' not in camera.output()


def test_runtime_fault_injection_reaches_the_simulated_camera(node_process, ros_node):
    from std_msgs.msg import String
    camera = node_process('face_tracker_ros.sim.camera_node', 'camera', {'source': 'sim'})
    node = ros_node('test_injector')
    pub = node.create_publisher(String, 'sim/inject_fault', 10)
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=ros_node.spin)
    pub.publish(String(data='camera:read_fail:1.0'))
    pub.publish(String(data='camera:nonsense:x'))
    pub.publish(String(data='serial:disconnect:1'))  # not the camera's: ignored quietly
    assert wait_for(lambda: 'injected camera fault read_fail:1.0' in camera.output(), 10.0,
                    spin=ros_node.spin), camera.output()
    assert wait_for(lambda: "fault injection 'camera:nonsense:x' ignored" in camera.output(),
                    10.0, spin=ros_node.spin)
    assert camera.alive()
    assert camera.stop() == 0


def test_detector_survives_a_flood_of_malformed_images(node_process, ros_node):
    detector = node_process('face_tracker_ros.detector.node', 'detector')
    node = ros_node('test_flooder')
    pub = node.create_publisher(Image, 'camera/image_raw', RELIABLE)
    targets = _collector(node, PointStamped, 'face/target')
    assert wait_for(lambda: pub.get_subscription_count() > 0, 20.0, spin=ros_node.spin)
    frame, _ = SimScene(path='still').render(5.0, 0.0, 0.0)
    good = array_to_image(frame, Time(nanoseconds=1).to_msg(), 'camera_optical_frame')
    kinds = [{'step': 7}, {'encoding': '32FC1'}, {'height': 0}, {'width': 100000}]
    for i in range(300):
        bad = Image()
        bad.header.stamp = Time(nanoseconds=10 + i).to_msg()
        bad.height, bad.width, bad.step, bad.encoding = 480, 640, 1920, 'bgr8'
        bad.data = bytes(100)
        for key, value in kinds[i % len(kinds)].items():
            setattr(bad, key, value)
        pub.publish(bad)
    ros_node.spin(1.0)
    assert detector.alive()
    good.header.stamp = Time(nanoseconds=5_000_000_000).to_msg()
    pub.publish(good)
    assert wait_for(lambda: any(_stamp_ns(t.header.stamp) == 5_000_000_000 for t in targets),
                    10.0, spin=ros_node.spin), detector.output()
    # Throttled: far fewer warnings than malformed messages.
    assert detector.output().count('malformed image skipped') < 20
    assert detector.stop() == 0


@pytest.mark.skipif(not os.path.isdir('/proc/self/task'),
                    reason='per-thread priorities are read from Linux /proc')
def test_a_background_node_lowers_every_thread_including_the_middleware_ones(node_process,
                                                                             tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv('FACE_TRACKER_BACKGROUND_NICE', '10')  # opt-in
    sim = node_process('face_tracker_ros.sim.node', 'sim_servo',
                       {'link_path': str(tmp_path / 'sim_servo')})
    assert wait_for(lambda: 'niceness +10 (background node' in sim.output(), 20.0), \
        sim.output()
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    threads = {}
    for tid in os.listdir(f'/proc/{sim.proc.pid}/task'):
        try:
            with open(f'/proc/{sim.proc.pid}/task/{tid}/comm') as comm:
                threads[comm.read().strip() + '/' + tid] = (
                    os.getpriority(os.PRIO_PROCESS, int(tid)), os.sched_getscheduler(int(tid)))
        except OSError:
            continue  # a thread that ended meanwhile
    assert any(name.startswith('dds.') for name in threads), threads
    assert all(prio == min(19, ours + 10) and policy == os.sched_getscheduler(0)
               for prio, policy in threads.values()), threads
    assert sim.stop() == 0


@pytest.mark.parametrize('sim_time', [False, True])
def test_the_servo_clock_is_ros_time_with_or_without_simulated_time(tmp_path, sim_time):
    import rclpy
    from rclpy.parameter import Parameter

    from face_tracker_ros.servo.node import ServoNode

    context = rclpy.Context()
    rclpy.init(context=context)
    node = ServoNode(context=context, parameter_overrides=[
        Parameter('port', value=str(tmp_path / 'no-such-port')),
        Parameter('use_sim_time', value=sim_time)])
    try:
        if sim_time:  # no /clock message yet: simulated time is still 0
            assert node._now() == node.get_clock().now().nanoseconds * 1e-9 == 0.0
        else:
            assert abs(node._now() - time.time()) < 1.0
            assert abs(node._now() - node.get_clock().now().nanoseconds * 1e-9) < 1.0
    finally:
        node.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
