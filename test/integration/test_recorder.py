# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder: ring buffer, MCAP bag writer and pruning, and the node over real DDS."""

import os
from pathlib import Path
import sys
import time
import types

from conftest import wait_for
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PointStamped
import pytest
from rcl_interfaces.msg import Log
from rclpy.serialization import serialize_message
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores
from std_srvs.srv import Trigger

from face_tracker_ros.recorder.bagwriter import (
    bag_name,
    BagWriteError,
    is_bag_name,
    list_bags,
    prune_bags,
    unique_bag_path,
    write_bag,
)
from face_tracker_ros.recorder.buffer import Record, RingBuffer
from face_tracker_ros.recorder.params import parse_topic_types
from face_tracker_ros.recorder.policy import StatusWatch

S = 1_000_000_000
T0 = 1_700_000_000 * S
DIAG = 'diagnostic_msgs/msg/DiagnosticArray'
LOG = 'rcl_interfaces/msg/Log'
POINT = 'geometry_msgs/msg/PointStamped'
TYPESTORE = get_typestore(Stores.ROS2_KILTED)


# ------------------------------------------------------------------------------- ring buffer
def test_buffer_keeps_only_the_time_window_newest_first_to_survive():
    buffer = RingBuffer(window_s=3.0, max_bytes=10 ** 9)
    for i in range(101):  # 10 s at 10 Hz
        assert buffer.add('/a', POINT, T0 + i * S // 10, b'x' * 10)
    records = buffer.snapshot()
    assert records[-1].timestamp_ns == T0 + 10 * S
    assert records[0].timestamp_ns == T0 + 7 * S
    assert len(records) == 31
    assert buffer.span_s == pytest.approx(3.0)
    assert buffer.dropped_window == 70


def test_buffer_stays_within_its_byte_budget_dropping_oldest_first():
    cost = RingBuffer.cost(1000)
    buffer = RingBuffer(window_s=60.0, max_bytes=10 * cost)
    for i in range(25):
        buffer.add('/a', POINT, T0 + i * S, bytes([i]) * 1000)
    assert buffer.bytes_used <= 10 * cost
    kept = buffer.snapshot()
    assert [r.data[0] for r in kept] == list(range(15, 25))
    assert buffer.dropped_budget == 15
    # One message larger than the whole budget is refused, the rest is untouched.
    assert not buffer.add('/a', POINT, T0 + 30 * S, b'y' * (10 * cost))
    assert len(buffer) == 10 and buffer.rejected == 1


def test_buffer_refuses_malformed_input_without_raising_and_restarts_on_a_clock_jump():
    buffer = RingBuffer(window_s=5.0, max_bytes=10 ** 6)
    for bad in [(None, POINT, T0, b''), ('/a', POINT, -1, b''), ('/a', POINT, 1.5, b''),
                ('/a', POINT, T0, 'text'), ('/a', '', T0, b''), ('/a', POINT, True, b'')]:
        assert not buffer.add(*bad)
    assert buffer.rejected == 6 and len(buffer) == 0
    assert buffer.add('/a', POINT, T0, bytearray(b'ab'))
    assert buffer.add('/a', POINT, T0 + S, memoryview(b'cd'))
    assert buffer.snapshot()[0].data == b'ab'
    # A simulation clock that restarts from 0: the buffer starts over instead of refusing.
    assert buffer.add('/a', POINT, 10, b'ef')
    assert [r.data for r in buffer.snapshot()] == [b'ef']
    with pytest.raises(ValueError, match='window_s'):
        RingBuffer(window_s=0.0, max_bytes=10)
    with pytest.raises(ValueError, match='max_bytes'):
        RingBuffer(window_s=1.0, max_bytes=0)


def test_buffer_snapshot_selects_an_inclusive_interval_in_time_order():
    buffer = RingBuffer(window_s=100.0, max_bytes=10 ** 6)
    for t in (5, 1, 3, 2, 4):
        buffer.add('/a', POINT, T0 + t * S, bytes([t]))
    assert [r.data[0] for r in buffer.snapshot()] == [1, 2, 3, 4, 5]
    assert [r.data[0] for r in buffer.snapshot(T0 + 2 * S, T0 + 4 * S)] == [2, 3, 4]
    assert [r.data[0] for r in buffer.snapshot(end_ns=T0 + S)] == [1]
    assert buffer.topic_counts() == {'/a': 5}


# -------------------------------------------------------------------------------- bag writer
def _diag(i: int, level=DiagnosticStatus.OK) -> DiagnosticArray:
    array = DiagnosticArray()
    array.header.stamp.sec = i
    array.status.append(DiagnosticStatus(name='camera: camera', level=level,
                                         message=f'status {i}',
                                         values=[KeyValue(key='pid', value='42')]))
    return array


def _records():
    records = []
    for i in range(50):
        records.append(Record('/diagnostics', DIAG, T0 + i * S // 10,
                              serialize_message(_diag(i))))
        records.append(Record('/rosout', LOG, T0 + i * S // 10 + 1,
                              serialize_message(Log(name='camera', msg=f'line {i}', level=20))))
    point = PointStamped()
    point.point.x = 0.25
    records.append(Record('/face/target', POINT, T0 + 7 * S, serialize_message(point)))
    return records


def test_written_bag_reads_back_with_rosbags_topics_counts_timestamps_and_content(tmp_path):
    records = _records()
    result = write_bag(tmp_path / 'flight_bag', reversed(records),
                       {'/joint_states': 'sensor_msgs/msg/JointState'},
                       backend='rosbags', custom_data={'reason': 'test'})
    assert result.messages == len(records)
    assert result.topics == {'/joint_states': 0, '/diagnostics': 50, '/rosout': 50,
                             '/face/target': 1}
    assert (result.path / 'metadata.yaml').is_file()
    assert (result.path / 'flight_bag.mcap').is_file()
    with Reader(result.path) as reader:
        assert reader.message_count == len(records)
        counts = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        assert counts == {'/diagnostics': (DIAG, 50), '/rosout': (LOG, 50),
                          '/face/target': (POINT, 1),
                          '/joint_states': ('sensor_msgs/msg/JointState', 0)}
        stamps = []
        for connection, stamp, raw in reader.messages():
            stamps.append(stamp)
            msg = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
            if connection.topic == '/diagnostics':
                i = msg.header.stamp.sec
                assert stamp == T0 + i * S // 10
                assert msg.status[0].message == f'status {i}'
                assert msg.status[0].values[0].value == '42'
            elif connection.topic == '/rosout':
                assert msg.msg.startswith('line ') and msg.name == 'camera'
            else:
                assert msg.point.x == 0.25 and stamp == T0 + 7 * S
        assert stamps == sorted(stamps) and stamps[0] == T0
    # The message definitions are in the bag: a reader that knows no types decodes it.
    with AnyReader([result.path], default_typestore=get_typestore(Stores.EMPTY)) as reader:
        texts = [reader.deserialize(raw, c.msgtype).msg
                 for c, _, raw in reader.messages() if c.topic == '/rosout']
        assert texts[0] == 'line 0' and len(texts) == 50
    meta = (result.path / 'metadata.yaml').read_text()
    assert 'storage_identifier: mcap' in meta and 'RIHS01_' in meta


def test_bad_records_are_skipped_and_reported_never_raised(tmp_path):
    good = _records()[:3]
    bad = [('/x', 'nobody_msgs/msg/Nothing', T0, b'\0\1\0\0'), ('no_slash', DIAG, T0, b''),
           ('/diagnostics', DIAG, -5, b''), ('/diagnostics', POINT, T0, b'\0\1\0\0'),
           ('/y', DIAG, T0, 'text'), 'garbage']
    result = write_bag(tmp_path / 'flight_b', good + bad)
    assert result.messages == 3
    assert sum(result.skipped.values()) == len(bad)
    assert 'unknown type nobody_msgs/msg/Nothing' in result.skipped
    with Reader(result.path) as reader:
        assert reader.message_count == 3


def test_writer_refuses_to_overwrite_and_rejects_unknown_backends(tmp_path):
    (tmp_path / 'taken').mkdir()
    with pytest.raises(ValueError, match='exists'):
        write_bag(tmp_path / 'taken', _records())
    with pytest.raises(ValueError, match='backend must be one of auto, rosbags, rosbag2_py'):
        write_bag(tmp_path / 'new', _records(), backend='sqlite')
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    with pytest.raises(BagWriteError):
        write_bag(blocker / 'bag', _records())


def test_auto_backend_falls_back_to_rosbags_when_rosbag2_cannot_write(tmp_path, monkeypatch):
    class BrokenWriter:  # rosbag2_py of a Humble without the MCAP storage plugin
        def open(self, *args):
            raise RuntimeError('No storage could be initialized from the inputs.')

    fake = types.SimpleNamespace(SequentialWriter=BrokenWriter, StorageOptions=dict,
                                 ConverterOptions=dict)
    monkeypatch.setitem(sys.modules, 'rosbag2_py', fake)
    result = write_bag(tmp_path / 'flight_auto', _records())
    assert result.backend == 'rosbags' and result.messages == 101
    with Reader(result.path) as reader:
        assert reader.message_count == 101
    with pytest.raises(BagWriteError, match='No storage could be initialized'):
        write_bag(tmp_path / 'flight_forced', _records(), backend='rosbag2_py')
    assert not (tmp_path / 'flight_forced').exists()


def test_bag_names_are_unique_and_dated():
    when = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))
    assert bag_name('error', when) == 'flight_20260304_050607_error'
    assert bag_name('Camera: ERROR!', when, 2) == 'flight_20260304_050607_camera-error_2'
    assert is_bag_name('flight_20260304_050607_error_2')
    assert not is_bag_name('rosbag2_2026_03_04')


def test_unique_path_adds_a_suffix_for_existing_and_reserved_names(tmp_path):
    when = time.time()
    first = unique_bag_path(tmp_path, 'error', when)
    first.mkdir()
    second = unique_bag_path(tmp_path, 'error', when)
    assert second.name == first.name + '_1'
    third = unique_bag_path(tmp_path, 'error', when, reserved=[second.name])
    assert third.name == first.name + '_2'


def _fake_bag(directory: Path, name: str, size: int, age_s: float) -> Path:
    bag = directory / name
    bag.mkdir()
    (bag / f'{name}.mcap').write_bytes(b'\0' * size)
    stamp = time.time() - age_s
    os.utime(bag, (stamp, stamp))
    return bag


def test_pruning_keeps_the_newest_bags_within_count_and_size(tmp_path):
    bags = [_fake_bag(tmp_path, f'flight_20260101_00000{i}_error', 400_000, 100 - i)
            for i in range(6)]
    other = tmp_path / 'my_notes'
    other.mkdir()
    removed = prune_bags(tmp_path, max_count=4, max_total_mb=100.0)
    assert removed == bags[:2]
    assert list_bags(tmp_path) == bags[2:]
    removed = prune_bags(tmp_path, max_count=10, max_total_mb=1.0)  # 4 x 0.4 MB > 1 MB
    assert list_bags(tmp_path) == bags[4:]
    # The bag just written is never deleted, even when it alone is over the limit.
    prune_bags(tmp_path, max_count=1, max_total_mb=1.0, keep=[bags[4]])
    assert list_bags(tmp_path) == [bags[4]]
    assert other.is_dir()
    with pytest.raises(ValueError, match='max_count'):
        prune_bags(tmp_path, max_count=0, max_total_mb=1.0)
    with pytest.raises(ValueError, match='max_total_mb'):
        prune_bags(tmp_path, max_count=1, max_total_mb=0)


# ---------------------------------------------------------------------------- event logic
def test_status_watch_fires_on_the_transition_to_error_and_on_pid_changes():
    watch = StatusWatch(ignore_prefix='flight_recorder: ')
    pid = [KeyValue(key='pid', value='100')]
    assert watch.feed('camera: camera', b'\x00', pid) == []
    assert watch.feed('camera: camera', b'\x02', pid) == [('error', 'camera: camera')]
    assert watch.feed('camera: camera', b'\x02', pid) == []  # still ERROR: no new event
    assert watch.feed('camera: camera', 1, pid) == []
    assert watch.feed('camera: camera', 2, pid) == [('error', 'camera: camera')]
    events = watch.feed('camera: camera', 0, [('pid', '101'), ('pid', '7')])
    assert events == [('restart', 'camera: camera: pid 100 -> 101')]
    assert watch.feed('flight_recorder: flight recorder', 2, []) == []
    for junk in [(None, 2, []), ('x', 'high', []), ('x', 0, [object()]), ('x', 0, 5)]:
        assert watch.feed(*junk) == []


def test_topic_types_are_parsed_with_clear_errors():
    assert parse_topic_types(['face/target:geometry_msgs/msg/PointStamped']) == {
        'face/target': POINT}
    with pytest.raises(ValueError, match="'topic_types'.*'<topic>:<pkg>/msg/<Type>'"):
        parse_topic_types(['face/target=geometry_msgs/PointStamped'])


# ------------------------------------------------------------------------ the node (real DDS)
def _bags(directory: Path):
    return [b for b in list_bags(directory) if (b / 'metadata.yaml').is_file()]


def _read(bag: Path):
    out = {}
    with Reader(bag) as reader:
        for connection, stamp, raw in reader.messages():
            out.setdefault(connection.topic, []).append(
                (stamp, TYPESTORE.deserialize_cdr(raw, connection.msgtype)))
    return out


def _start(node_process, tmp_path, **params):
    values = {'topics': ['/diagnostics', '/rosout'], 'output_dir': str(tmp_path / 'bags'),
              'buffer_s': 20.0, 'pre_event_s': 10.0, 'post_event_s': 2.0,
              'diagnostic_updater.period': 0.5, 'backend': 'rosbags'}
    values.update(params)
    return node_process('face_tracker_ros.recorder.node', 'flight_recorder', values)


def test_an_error_writes_one_bag_with_messages_from_before_and_after_it(
        node_process, ros_node, tmp_path):
    recorder = _start(node_process, tmp_path, cooldown_s=60.0)
    node = ros_node('fault_injector')
    pub = node.create_publisher(DiagnosticArray, '/diagnostics', 50)
    own = []
    node.create_subscription(DiagnosticArray, '/diagnostics', lambda m: own.extend(
        s for s in m.status if s.name == 'flight_recorder: flight recorder'), 50)
    # The recorder subscribes to /diagnostics (recording and events) and /rosout.
    assert wait_for(lambda: pub.get_subscription_count() >= 2 and  # the recorder and `own`
                    node.count_subscribers('/rosout') >= 1, 20.0, spin=ros_node.spin), \
        recorder.output()
    level = [DiagnosticStatus.OK]
    count = [0]

    def publish(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            array = _diag(0, level[0])
            array.header.stamp = node.get_clock().now().to_msg()
            pub.publish(array)
            node.get_logger().info(f'tick {count[0]}')
            count[0] += 1
            ros_node.spin(0.05)

    publish(1.5)
    event_ns, event_mono = time.time_ns(), time.monotonic()
    level[0] = DiagnosticStatus.ERROR
    publish(0.5)
    level[0] = DiagnosticStatus.OK  # an error storm: flapping within the capture
    publish(0.3)
    level[0] = DiagnosticStatus.ERROR

    def bag_ready():
        publish(0.1)
        return _bags(tmp_path / 'bags')
    # post_event_s (2 s) + 5 s after the event at most.
    assert wait_for(bag_ready, event_mono + 2.0 + 5.0 - time.monotonic(), interval=0.0), \
        recorder.output()
    waited = time.monotonic() - event_mono
    [bag] = _bags(tmp_path / 'bags')
    assert bag.name.startswith('flight_') and bag.name.endswith('_error')
    contents = _read(bag)
    diagnostics = [msg for _, msg in contents['/diagnostics']]
    header_ns = [m.header.stamp.sec * S + m.header.stamp.nanosec for m in diagnostics]
    assert min(header_ns) < event_ns - S < event_ns + S < max(header_ns), waited
    assert any(s.level == 2 for m in diagnostics for s in m.status)  # ERROR, as an integer
    receive_ns = [stamp for stamp, _ in contents['/diagnostics']]
    assert min(receive_ns) < event_ns < max(receive_ns)
    logs = [(m.stamp.sec * S + m.stamp.nanosec, m.msg) for _, m in contents['/rosout']
            if m.name == 'fault_injector']
    assert min(t for t, _ in logs) < event_ns < max(t for t, _ in logs)
    assert all(text.startswith('tick ') for _, text in logs)
    # Later errors within the cool-down write nothing: one bag for the whole storm.
    level[0] = DiagnosticStatus.OK
    publish(0.2)
    level[0] = DiagnosticStatus.ERROR

    def suppressed():
        publish(0.1)
        return any(kv.key == 'triggers_suppressed' and int(kv.value) >= 1
                   for s in own for kv in s.values)
    assert wait_for(suppressed, 10.0, interval=0.0), recorder.output()
    status = {kv.key: kv.value for kv in own[-1].values}
    assert status['bags_written'] == '1' and status['last_bag'] == str(bag)
    assert len(_bags(tmp_path / 'bags')) == 1
    assert recorder.stop() == 0


def test_trigger_service_and_restarts_write_bags_and_old_bags_are_pruned(
        node_process, ros_node, tmp_path):
    recorder = _start(node_process, tmp_path, post_event_s=0.3, pre_event_s=5.0,
                      max_bags=2, cooldown_s=0.0)
    node = ros_node('trigger_client')
    client = node.create_client(Trigger, '/flight_recorder/trigger')
    pub = node.create_publisher(DiagnosticArray, '/diagnostics', 50)
    assert wait_for(lambda: client.service_is_ready() and pub.get_subscription_count() >= 1,
                    20.0, spin=ros_node.spin), recorder.output()
    written = []
    for i in range(3):
        pub.publish(_diag(i))
        ros_node.spin(0.1)
        future = client.call_async(Trigger.Request())
        assert wait_for(future.done, 10.0, spin=ros_node.spin)
        assert future.result().success, future.result().message
        assert 'bag ' in future.result().message

        def new_bag(i=i):
            pub.publish(_diag(i))
            names = [b.name for b in _bags(tmp_path / 'bags')]
            return [n for n in names if n not in written]
        fresh = wait_for(new_bag, 10.0, interval=0.1, spin=ros_node.spin)
        assert fresh and '_request' in fresh[0], fresh
        written.append(fresh[0])
        assert '/diagnostics' in _read(tmp_path / 'bags' / fresh[0])
    assert [b.name for b in _bags(tmp_path / 'bags')] == written[1:]  # max_bags = 2

    # A node whose statuses come from a new pid has restarted.
    array = _diag(0)  # until now its statuses carried pid 42
    array.status[0].values = [KeyValue(key='pid', value='43')]

    def restart_bag():
        pub.publish(array)
        return [b for b in _bags(tmp_path / 'bags') if b.name.endswith('_restart')]
    assert wait_for(restart_bag, 10.0, interval=0.1, spin=ros_node.spin), recorder.output()
    # The oldest bag is pruned once the new one is written (its directory appears first).
    assert wait_for(lambda: len(_bags(tmp_path / 'bags')) == 2, 10.0)
    assert recorder.stop() == 0


@pytest.mark.parametrize('params, expected', [
    ({'buffer_s': 5.0, 'pre_event_s': 4.0, 'post_event_s': 2.0}, "'pre_event_s'"),
    ({'topic_types': ['face/target=geometry_msgs/PointStamped']}, "'topic_types'"),
    ({'topics': ['/diagnostics', 'not a topic!']}, "parameter 'topics'"),
])
def test_invalid_parameters_stop_the_node_naming_them(node_process, tmp_path, params,
                                                      expected):
    proc = _start(node_process, tmp_path, **params)
    assert proc.wait(30.0) == 2
    out = proc.output()
    assert expected in out, out
    assert 'invalid parameter' in out.strip().splitlines()[-1]
    assert 'Traceback' not in out
