# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The report command on bags written here with rosbags (MCAP and sqlite3, ROS 2 Kilted types)."""

import math
from pathlib import Path

import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores

from face_tracker_ros.tools import report

TS = get_typestore(Stores.ROS2_KILTED)
T0_NS = 1_790_000_000 * 10 ** 9
DURATION_S = 20.0
FAULT = (8.0, 11.0)      # camera status ERROR ('reconnecting') in this window
RESTART_S = 13.0         # the servo node restarts: pid 102 -> 202


def _time(t: float):
    ns = T0_NS + int(round(t * 1e9))
    return TS.types['builtin_interfaces/msg/Time'](sec=ns // 10 ** 9, nanosec=ns % 10 ** 9)


def _header(t: float):
    return TS.types['std_msgs/msg/Header'](stamp=_time(t), frame_id='camera_optical_frame')


def _point_stamped(t: float, x: float, y: float, z: float):
    point = TS.types['geometry_msgs/msg/Point'](x=x, y=y, z=z)
    return TS.types['geometry_msgs/msg/PointStamped'](header=_header(t), point=point)


def _joint_state(t: float, pan: float, tilt: float):
    import numpy as np
    return TS.types['sensor_msgs/msg/JointState'](
        header=_header(t), name=['pan', 'tilt'], position=np.array([pan, tilt]),
        velocity=np.array([], dtype=float), effort=np.array([], dtype=float))


def _status(name: str, level: int, message: str, values: dict):
    kv = TS.types['diagnostic_msgs/msg/KeyValue']
    return TS.types['diagnostic_msgs/msg/DiagnosticStatus'](
        level=level, name=name, message=message, hardware_id='test',
        values=[kv(key=k, value=str(v)) for k, v in values.items()])


def _log(t: float, level: int, node: str, text: str):
    return TS.types['rcl_interfaces/msg/Log'](stamp=_time(t), level=level, name=node, msg=text,
                                              file='node.py', function='f', line=1)


def _faulty(t: float) -> bool:
    return FAULT[0] <= t < FAULT[1]


def _diagnostics(t: float):
    camera_level = 2 if _faulty(t) else 0
    servo_pid = 102 if t < RESTART_S else 202
    statuses = [
        _status('camera: camera', camera_level,
                'reconnecting' if camera_level else 'streaming 30.0 Hz',
                {'pid': 100, 'state': 'reconnecting' if camera_level else 'streaming',
                 'fps': 4.0 if camera_level else 30.0 - 0.1 * (t % 3), 'fps_configured': 30.0}),
        _status('detector: detector', 1 if _faulty(t) else 0,
                'no images' if _faulty(t) else 'detecting 29.8 Hz', {'pid': 101}),
        _status('servo: servo', 0, 'tracking', {'pid': servo_pid}),
        _status('diagnostics: system', 0, 'cpu 35%', {'pid': 103, 'cpu_percent': 35.0}),
    ]
    for node, pid, rss in (('camera', 100, 120.0), ('detector', 101, 150.0),
                           ('servo', servo_pid, 90.0)):
        if node == 'servo' and RESTART_S - 1 <= t < RESTART_S:
            # Between the two processes: not running, and the status carries the pid of
            # the diagnostics node that publishes it (as diagnostic_updater does).
            statuses.append(_status('diagnostics: process servo', 2, 'not running',
                                    {'pid': 103, 'restarts': 0}))
            continue
        statuses.append(_status(f'diagnostics: process {node}', 0, f'rss {rss:.0f} MB', {
            'pid': pid, 'rss_mb': rss + 0.4 * t, 'anon_mb': rss / 2 + 0.4 * t,
            'cpu_percent': 10.0 + 5 * math.sin(t),
            'num_fds': 23, 'restarts': int(node == 'servo' and t >= RESTART_S)}))
    return TS.types['diagnostic_msgs/msg/DiagnosticArray'](header=_header(t), status=statuses)


def write_bag(path: Path, storage=StoragePlugin.MCAP, topics=None) -> Path:
    """Write ~20 s of every topic the report reads, with a camera fault and a restart."""
    types = {
        '/face/target': 'geometry_msgs/msg/PointStamped',
        '/sim/true_target': 'geometry_msgs/msg/PointStamped',
        '/joint_states': 'sensor_msgs/msg/JointState',
        '/servo/command_latency': 'sensor_msgs/msg/TimeReference',
        '/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
        '/rosout': 'rcl_interfaces/msg/Log',
    }
    wanted = set(types) if topics is None else set(topics)
    records = []
    for i in range(int(DURATION_S * 30)):
        t = i / 30.0
        x = 0.4 * math.exp(-t / 2.0) + 0.02 * math.sin(3 * t)
        y = -0.2 * math.exp(-t / 2.0)
        face = not _faulty(t)
        records.append((t, '/face/target', _point_stamped(t, x if face else 0.0,
                                                          y if face else 0.0,
                                                          0.25 if face else 0.0)))
        records.append((t, '/sim/true_target',
                        _point_stamped(t, x, y, math.hypot(x, y) if face else -1.0)))
        records.append((t + 0.01, '/joint_states',
                        _joint_state(t + 0.01, -0.3 * (1 - math.exp(-t)), 0.05 * math.sin(t))))
        if face:
            latency = 0.09 if i % 97 == 0 else 0.020 + 0.004 * math.sin(i)
            msg = TS.types['sensor_msgs/msg/TimeReference'](
                header=_header(t + latency), time_ref=_time(t), source='camera')
            records.append((t + latency, '/servo/command_latency', msg))
    for second in range(int(DURATION_S)):
        t = second + 0.5
        records.append((t, '/diagnostics', _diagnostics(t)))
    records += [
        (0.2, '/rosout', _log(0.2, 20, 'camera', 'camera started')),
        (8.05, '/rosout', _log(8.05, 40, 'camera', 'read failed: device gone, reconnecting')),
        (9.0, '/rosout', _log(9.0, 30, 'detector', 'no images for 1.0 s')),
        (12.9, '/rosout', _log(12.9, 50, 'servo', 'serial write failed: [Errno 5] EIO')),
    ]
    records.sort(key=lambda r: r[0])
    with Writer(path, version=9, storage_plugin=storage) as writer:
        conns = {topic: writer.add_connection(topic, msgtype, typestore=TS)
                 for topic, msgtype in types.items() if topic in wanted}
        for t, topic, msg in records:
            if topic in conns:
                writer.write(conns[topic], T0_NS + int(round(t * 1e9)),
                             TS.serialize_cdr(msg, types[topic]))
    return path


@pytest.fixture(scope='module')
def full_report(tmp_path_factory):
    base = tmp_path_factory.mktemp('report')
    bag = write_bag(base / 'flight_20260101_000000_error')
    return report.make_report(bag, base / 'out')


def test_all_plots_are_written_and_non_trivial(full_report):
    assert set(full_report.plots) == set(report.PLOTS)
    for name, path in full_report.plots.items():
        assert path.is_file() and path.name == f'{name}.png'
        assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        assert path.stat().st_size > 20_000, name


def test_bag_is_read_with_times_from_its_start(full_report):
    data = full_report.data
    assert data.duration_s == pytest.approx(DURATION_S, abs=0.2)
    assert len(data.target['t']) == 600
    assert data.target['t'][0] == pytest.approx(0.0, abs=1e-6)
    assert len(data.joints['pan']) == 600
    assert set(data.processes) == {'camera', 'detector', 'servo'}
    camera = data.processes['camera']
    assert camera['anon'][0] == pytest.approx(camera['rss'][0] - 60.0)
    assert data.undecodable == 0
    ms = data.latency['ms']
    assert 20 <= report.percentile(ms, 50) <= 25
    assert max(ms) == pytest.approx(90.0, abs=0.01)


def test_error_and_restart_are_found(full_report):
    data = full_report.data
    errors = data.error_events()
    assert [(e.what, e.t) for e in errors] == [('camera: camera', 8.5),
                                               ('diagnostics: process servo', 12.5)]
    assert [(e.what, e.t) for e in data.restarts] == [('servo', 13.5)]
    assert 'pid 102 -> 202' in data.restarts[0].detail
    assert [level for _, level, _, _ in data.logs] == ['ERROR', 'FATAL']


def test_summary_says_what_went_wrong_and_when(full_report):
    text = full_report.summary.read_text()
    assert 'First ERROR' in text and 't=8.5 s' in text and 'reconnecting' in text
    assert 'servo' in text and 'restart' in text and 'pid 102 -> 202' in text
    assert 'read failed: device gone' in text and 'serial write failed' in text
    assert 'p50' in text and 'p99' in text and 'rms' in text
    # The camera's worst level is ERROR, reached at t=8.5 s, for about 3 s.
    row = next(line for line in text.splitlines() if line.startswith('| `camera: camera`'))
    assert '| ERROR |' in row and 't=8.5 s' in row and '3.0 s' in row
    for name in report.PLOTS:
        assert f'({name}.png)' in text


def test_statistics_match_the_synthetic_data(full_report):
    stats = report.statistics(full_report.data)
    assert stats['frames'] == 600
    assert stats['frames_with_face'] == 510        # 3 s of 20 without a face
    assert stats['truth_in_view'] == 510
    assert 0.0 < stats['truth_error_rms'] < 0.45
    assert stats['latency_n'] == 510


def test_missing_topics_give_no_data_plots(tmp_path):
    bag = write_bag(tmp_path / 'only_diagnostics', topics=['/diagnostics'])
    result = report.make_report(bag, tmp_path / 'out')
    for path in result.plots.values():
        assert path.is_file() and path.stat().st_size > 5_000
    text = result.summary.read_text()
    assert 'No /rosout in the bag' in text
    assert 'p50 n/a' in text


def test_sqlite3_bag_and_command_line(tmp_path, capsys):
    bag = write_bag(tmp_path / 'recorded', storage=StoragePlugin.SQLITE3,
                    topics=['/diagnostics', '/rosout', '/servo/command_latency'])
    out = tmp_path / 'cli'
    assert report.main([str(bag), '--output-dir', str(out)]) == 0
    assert '2 ERROR transition(s), 1 restart(s)' in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f'{n}.png' for n in report.PLOTS] + ['summary.md'])


def test_single_mcap_file_is_accepted(tmp_path):
    bag = write_bag(tmp_path / 'bag', topics=['/diagnostics'])
    (mcap,) = bag.glob('*.mcap')
    data = report.load_bag(mcap)
    assert len(data.statuses['camera: camera']) == 20


def test_bad_bags_fail_clearly(tmp_path, capsys):
    assert report.main([str(tmp_path / 'missing'), '--output-dir', str(tmp_path / 'o')]) == 2
    assert 'bag not found' in capsys.readouterr().err
    junk = tmp_path / 'junk.mcap'
    junk.write_bytes(b'not an mcap file at all')
    assert report.main([str(junk), '--output-dir', str(tmp_path / 'o')]) == 1
    assert 'cannot open the bag' in capsys.readouterr().err
