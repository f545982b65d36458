# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnose command: both files without camera, serial port or ROS graph; bounded probes.

Each probe also runs against real processes, pseudo-terminals and a real ROS graph.
"""

import json
import os
from pathlib import Path
import subprocess
import sys
import threading
import time

from conftest import wait_for
import pytest

from face_tracker_ros.tools import diagnose
from face_tracker_ros.tools.diagnose import render

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {'system', 'processes', 'camera', 'serial', 'fds', 'kernel', 'log', 'ros'}


def _write_log(path: Path, extra_lines: int = 0) -> Path:
    lines = [f'2026-11-28T08:00:{i % 60:02d}.000+00:00 INFO [camera] frame {i}'
             for i in range(extra_lines)]
    lines += [
        '2026-11-28T08:37:12.787+00:00 WARN [camera] read failed: timeout (error 11 in a row)',
        '2026-11-28T08:37:13.001+00:00 ERROR [servo] serial write failed: [Errno 5] EIO',
        '2026-11-28T08:37:13.001+00:00 ERROR [servo] Traceback (most recent call last):',
        '2026-11-28T08:37:14.000+00:00 INFO [diagnostics] resource monitor: node=camera '
        'pid=1234 rss_mb=84.2 rss_growth_mb_per_h=+0.1',
        '2026-11-28T08:37:15.000+00:00 FATAL [detector] invalid parameter: backend',
        '2026-11-28T08:37:16.000+00:00 INFO [camera] streaming again',
    ]
    path.write_text('\n'.join(lines) + '\n')
    return path


def test_command_writes_both_files_without_hardware_or_ros_graph(tmp_path):
    log = _write_log(tmp_path / 'face_tracker.log')
    out = tmp_path / 'reports' / 'new'
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, '-m', 'face_tracker_ros.tools.diagnose', '--output-dir', str(out),
         '--ros-timeout', '8', '--log', str(log)],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 30.0
    (text_path,) = out.glob('diagnosis_*.log')
    (json_path,) = out.glob('diagnosis_*.json')
    assert text_path.stem == json_path.stem
    assert str(text_path) in proc.stdout and str(json_path) in proc.stdout

    report = json.loads(json_path.read_text())
    assert set(report['sections']) == SECTIONS
    for name, section in report['sections'].items():
        assert section['status'] == 'ok', (name, section['error'])
        assert isinstance(section['data'], dict)
    data = {name: s['data'] for name, s in report['sections'].items()}
    assert data['system']['cpu_count'] >= 1 and data['system']['mem_total_mb'] > 0
    assert isinstance(data['camera']['devices'], list)
    assert isinstance(data['serial']['ports'], list)
    assert 'dialout_group' in data['serial']
    assert data['log']['found'] and data['log']['counts']['ERROR'] == 2
    assert isinstance(data['kernel']['readable'], bool)
    # The test run has its own ROS domain: the probe answers, and sees no tracker node.
    assert 'nodes' in data['ros'] and not data['ros']['probe']['timed_out']
    assert all(f['level'] in ('ERROR', 'WARN', 'INFO') for f in report['findings'])

    text = text_path.read_text()
    for heading in ('SUMMARY', 'SYSTEM RESOURCES', 'TRACKER PROCESSES', 'CAMERA DEVICES',
                    'SERIAL PORTS', 'FILE DESCRIPTORS', 'KERNEL MESSAGES', 'TRACKER LOG FILE',
                    'ROS GRAPH'):
        assert heading in text
    assert 'serial write failed' in text


def test_invalid_options_are_refused_with_the_allowed_values(capsys):
    with pytest.raises(SystemExit) as exc:
        diagnose.main(['--ros-timeout', '-1'])
    assert exc.value.code == 2
    assert '--ros-timeout' in capsys.readouterr().err
    with pytest.raises(ValueError, match='log_lines'):
        diagnose.collect(ros_timeout_s=0, log_lines=0)
    with pytest.raises(ValueError, match='up to 25'):
        diagnose.collect(ros_timeout_s=100)


def test_a_hung_or_failing_probe_does_not_stop_the_others():
    release = threading.Event()
    start = time.monotonic()
    hung = diagnose.run_probe('hung', lambda: release.wait(30) and {}, timeout_s=0.3)
    assert hung.status == 'timeout' and time.monotonic() - start < 5
    release.set()
    failed = diagnose.run_probe('failed', lambda: 1 / 0, timeout_s=2)
    assert failed.status == 'error' and 'ZeroDivisionError' in failed.error
    ok = diagnose.run_probe('ok', lambda: {'x': 1}, timeout_s=2)
    assert ok.status == 'ok' and ok.data == {'x': 1}
    levels = {f['section']: f['level'] for f in diagnose.findings(
        {'hung': hung, 'failed': failed, 'ok': ok})}
    assert levels == {'hung': 'WARN', 'failed': 'WARN'}


def test_a_command_past_its_timeout_is_killed():
    start = time.monotonic()
    result = diagnose.run_command([sys.executable, '-c', 'import time; time.sleep(30)'], 0.5)
    assert result['timed_out'] and result['returncode'] is None
    assert time.monotonic() - start < 10
    missing = diagnose.run_command(['/nonexistent/program'], 1.0)
    assert missing['error'] and missing['returncode'] is None


def _script(path: Path, body: str) -> str:
    path.write_text('#!/bin/sh\n' + body)
    path.chmod(0o755)
    return str(path)


def test_kernel_messages_are_classified_or_reported_unreadable(tmp_path):
    dmesg = _script(tmp_path / 'dmesg', """cat <<'EOF'
[ 10.0] usb 1-1: new high-speed USB device number 4 using xhci_hcd
[ 10.5] uvcvideo 1-1:1.0: Found UVC 1.00 device HD Webcam
[ 99.1] usb 1-1: USB disconnect, device number 4
[120.0] ch341-uart ttyUSB0: ch341-uart converter now disconnected from ttyUSB0
[130.0] python3 invoked oom-killer: gfp_mask=0x140cca
[130.1] Out of memory: Killed process 4242 (python3) total-vm:2000000kB
EOF
""")
    data = diagnose.probe_kernel(commands=[[dmesg]])
    assert data['readable']
    assert data['counts']['usb_disconnect'] == 2
    assert data['counts']['oom'] == 2
    assert data['counts']['camera'] == 1
    assert any('Killed process 4242' in line for line in data['matches']['oom'])
    section = diagnose.SectionResult('kernel', 'Kernel', 'ok', 0.1, data)
    levels = {f['level'] for f in diagnose.findings({'kernel': section})}
    assert levels == {'ERROR', 'WARN'}

    denied = _script(tmp_path / 'denied', 'echo "dmesg: read kernel buffer failed: '
                     'Operation not permitted" >&2\nexit 1\n')
    data = diagnose.probe_kernel(commands=[[denied]])
    assert not data['readable'] and 'Operation not permitted' in data['reason']
    assert 'NOT READABLE' in render.render_kernel(data)[-1]


def test_log_tail_finds_warnings_errors_and_resource_lines(tmp_path):
    log = _write_log(tmp_path / 'face_tracker.log', extra_lines=5000)
    data = diagnose.probe_log(str(tmp_path), lines=100)  # a directory is accepted
    assert data['found'] and data['path'] == str(log)
    assert data['lines_read'] == 100
    assert data['counts'] == {'DEBUG': 0, 'INFO': 96, 'WARN': 1, 'ERROR': 2, 'FATAL': 1}
    assert len(data['problems']) == 4 and 'EIO' in data['problems'][1]
    assert 'rss_mb=84.2' in data['last_resource_lines']['camera']
    assert diagnose.tail_lines(log, 3)[-1].endswith('streaming again')
    missing = diagnose.probe_log(str(tmp_path / 'nowhere.log'))
    assert not missing['found'] and 'not found' in missing['note']


def test_holders_of_a_tty_are_found_through_proc_fd_links():
    master, slave = os.openpty()
    try:
        name = os.ttyname(slave)
        result = diagnose.device_holders([name, '/dev/nonexistent'])
        pids = [h['pid'] for h in result['holders'][name]]
        assert os.getpid() in pids
        mine = next(h for h in result['holders'][name] if h['pid'] == os.getpid())
        assert slave in mine['fds']
        assert result['holders']['/dev/nonexistent'] == []
    finally:
        os.close(master)
        os.close(slave)


def test_tracker_processes_are_found_by_their_node_remap():
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)',
                             '--ros-args', '-r', '__node:=diag_dummy'])
    try:
        def mine():
            rows = diagnose.probe_processes(cpu_sample_s=0.05)['processes']
            return [r for r in rows if r['pid'] == proc.pid and r['rss_mb']]
        rows = wait_for(mine, timeout=15.0, interval=0.2)
        assert rows, 'the dummy node process was not found'
        row = rows[0]
        assert row['node'] == 'diag_dummy' and row['state'] != 'zombie'
        assert row['num_fds'] >= 3 and row['num_threads'] >= 1 and row['uptime_s'] >= 0
        if sys.platform.startswith('linux'):
            assert 0 < row['anon_mb'] < row['rss_mb']
    finally:
        proc.kill()
        proc.wait()


def test_findings_name_the_problems():
    rows = [{'pid': 5, 'node': 'camera', 'role': 'x', 'zombie': True, 'rss_mb': 700.0,
             'num_fds': 600}]
    sections = {
        'processes': diagnose.SectionResult('processes', 'P', 'ok', 0.1, {'processes': rows}),
        'ros': diagnose.SectionResult('ros', 'R', 'ok', 0.1, {
            'rclpy': True, 'up': True, 'nodes': ['/camera'],
            'rates': {'/face/target': {'publishers': 1, 'rate_hz': 0.0, 'window_s': 2.0}},
            'diagnostics': [{'name': 'camera: camera', 'level_name': 'ERROR',
                             'message': 'reconnecting'}]}),
        'serial': diagnose.SectionResult('serial', 'S', 'ok', 0.1, {
            'ports': [{'path': '/dev/ttyUSB0', 'exists': True, 'readable': False,
                       'writable': False, 'holders': [{'pid': 77, 'name': 'minicom'}]}],
            'dialout_group': {'group': 'dialout', 'user': 'u', 'root': False, 'exists': True,
                              'listed': False, 'in_session': False}}),
    }
    found = [(f['level'], f['text']) for f in diagnose.findings(sections)]
    texts = ' | '.join(t for _, t in found)
    assert found[0][0] == 'ERROR'
    for needle in ('zombie', '700 MB', '600 open fds', 'camera: camera: ERROR reconnecting',
                   'no message arrived', 'held by minicom (pid 77)', 'usermod -aG dialout',
                   'not readable/writable'):
        assert needle in texts, needle


def test_ros_probe_reads_nodes_rates_and_diagnostics(ros_node):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from geometry_msgs.msg import PointStamped
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    node = ros_node('diag_test_pub')
    trace = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
    target_pub = node.create_publisher(PointStamped, 'face/target', trace)
    diag_pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)

    def publish_target():
        msg = PointStamped()
        msg.header.stamp = node.get_clock().now().to_msg()
        target_pub.publish(msg)

    def publish_diagnostics():
        status = DiagnosticStatus(level=DiagnosticStatus.ERROR, name='camera: camera',
                                  message='reconnecting',
                                  values=[KeyValue(key='pid', value=str(os.getpid()))])
        diag_pub.publish(DiagnosticArray(status=[status]))

    node.create_timer(0.05, publish_target)
    node.create_timer(0.25, publish_diagnostics)
    box = {}
    worker = threading.Thread(target=lambda: box.update(diagnose.probe_ros_graph(12.0)))
    worker.start()
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        ros_node.spin(0.1)
    worker.join(1)
    assert box, 'the probe gave no result'
    assert box.get('phase') == 'complete', box
    assert '/diag_test_pub' in box['nodes'], box
    topics = {t['name']: t for t in box['topics']}
    assert topics['/face/target']['types'] == ['geometry_msgs/msg/PointStamped']
    rate = box['rates']['/face/target']['rate_hz']
    assert 5.0 < rate < 40.0, box['rates']
    (status,) = [s for s in box['diagnostics'] if s['name'] == 'camera: camera']
    assert status['level_name'] == 'ERROR' and status['values']['pid'] == str(os.getpid())
    section = diagnose.SectionResult('ros', 'R', 'ok', 1.0, box)
    assert any(f['level'] == 'ERROR' and 'reconnecting' in f['text']
               for f in diagnose.findings({'ros': section}))
    text = render.render_ros(box)
    assert any('/face/target' in line for line in text)


def test_ros_probe_is_killed_at_its_timeout():
    start = time.monotonic()
    data = diagnose.probe_ros_graph(0.5)  # too short for rclpy to even start
    assert time.monotonic() - start < 6.0
    assert data['probe']['timed_out'] and data['up'] is False
    assert 'no answer within 0.5 s' in data['error']
    found = diagnose.findings({'ros': diagnose.SectionResult('ros', 'R', 'ok', 0.5, data)})
    assert [f['level'] for f in found] == ['WARN']
