# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node against real processes: a leak, a zombie, thresholds, the log file."""

import subprocess
import sys

from conftest import ROOT, wait_for
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

LEAKER = """
import sys, time
hoard = []
for _ in range(600):
    hoard.append(bytearray(4 * 1024 * 1024))   # 4 MB every 0.1 s, touched so it is resident
    for i in range(0, len(hoard[-1]), 4096):
        hoard[-1][i] = 1
    time.sleep(0.1)
"""
SLEEPER = 'import time; time.sleep(120)'


def _spawn(code, name):
    return subprocess.Popen([sys.executable, '-c', code, '--ros-args', '-r', f'__node:={name}'])


def _statuses(arrays, name):
    return [s for a in arrays for s in a.status if s.name == name]


def _values(status):
    return {kv.key: kv.value for kv in status.values}


def _watch(ros_node, node_process, watched, tmp_path, **params):
    defaults = {'watched_nodes': watched, 'sample_period_s': 0.2,
                'diagnostic_updater.period': 0.5, 'log_dir': str(tmp_path / 'logs')}
    defaults.update(params)
    monitor = node_process('face_tracker_ros.monitor.node', 'diagnostics', defaults)
    arrays = []
    ros_node('monitor_listener').create_subscription(DiagnosticArray, '/diagnostics',
                                                     arrays.append, 100)
    return monitor, arrays


def test_a_leaking_process_is_flagged_by_its_growth(ros_node, node_process, tmp_path):
    leaker = _spawn(LEAKER, 'leaker')
    steady = _spawn(SLEEPER, 'steady')
    try:
        monitor, arrays = _watch(ros_node, node_process, ['leaker', 'steady'], tmp_path,
                                 growth_window_s=10.0, growth_min_span_s=3.0,
                                 growth_warn_mb_per_h=1000.0)

        def flagged():
            return any(s.level == DiagnosticStatus.WARN and 'anon_growth' in s.message
                       for s in _statuses(arrays, 'diagnostics: process leaker'))
        assert wait_for(flagged, 20.0, spin=ros_node.spin), monitor.output()
        leak = _values(_statuses(arrays, 'diagnostics: process leaker')[-1])
        assert float(leak['anon_growth_mb_per_h']) > 1000.0
        assert float(leak['rss_growth_mb_per_h']) > 1000.0
        assert 0.0 < float(leak['anon_mb']) <= float(leak['rss_mb'])
        assert int(leak['pid']) == leaker.pid
        steady_status = _statuses(arrays, 'diagnostics: process steady')[-1]
        assert steady_status.level == DiagnosticStatus.OK, steady_status.message
        for key in ('rss_mb', 'rss_growth_mb_per_h', 'anon_mb', 'anon_growth_mb_per_h',
                    'cpu_percent', 'num_fds', 'num_threads', 'state', 'uptime_s', 'restarts'):
            assert key in _values(steady_status), key
        assert monitor.stop() == 0
    finally:
        leaker.kill()
        steady.kill()
        leaker.wait()
        steady.wait()


def test_a_zombie_is_an_error(ros_node, node_process, tmp_path):
    monitor, arrays = _watch(ros_node, node_process, ['undead'], tmp_path)
    zombie = _spawn('pass', 'undead')  # exits at once; never reaped while the test runs
    try:
        # The zombie's command line is gone; its own status tells the monitor its pid.
        publisher = ros_node('undead_reporter').create_publisher(DiagnosticArray,
                                                                 '/diagnostics', 10)

        def report_and_check():
            array = DiagnosticArray()
            array.status.append(DiagnosticStatus(
                name='undead: health', level=DiagnosticStatus.OK, message='fine',
                values=[KeyValue(key='pid', value=str(zombie.pid))]))
            publisher.publish(array)
            return any(s.level == DiagnosticStatus.ERROR and 'zombie' in s.message
                       for s in _statuses(arrays, 'diagnostics: process undead'))
        assert wait_for(report_and_check, 20.0, interval=0.3, spin=ros_node.spin), \
            monitor.output()
        assert monitor.alive()
        assert monitor.stop() == 0
    finally:
        zombie.wait()


def test_thresholds_come_from_parameters(ros_node, node_process, tmp_path):
    steady = _spawn(SLEEPER, 'small')
    try:
        monitor, arrays = _watch(ros_node, node_process, ['small'], tmp_path,
                                 rss_warn_mb=1.0, rss_error_mb=100000.0)
        assert wait_for(lambda: any(s.level == DiagnosticStatus.WARN and 'rss_mb' in s.message
                                    for s in _statuses(arrays, 'diagnostics: process small')),
                        15.0, spin=ros_node.spin), monitor.output()
        assert monitor.stop() == 0
    finally:
        steady.kill()
        steady.wait()


def test_missing_process_is_reported_and_logs_reach_the_file(
        ros_node, node_process, tmp_path):
    monitor, arrays = _watch(ros_node, node_process, ['ghost'], tmp_path,
                             resource_log_period_s=1.0)
    assert wait_for(lambda: any(s.level == DiagnosticStatus.ERROR and 'not running' in s.message
                                for s in _statuses(arrays, 'diagnostics: process ghost')),
                    20.0, spin=ros_node.spin), monitor.output()
    system = _statuses(arrays, 'diagnostics: system')[-1]
    for key in ('cpu_percent', 'cpu_percent_per_core', 'load_1m', 'mem_used_percent',
                'mem_available_mb', 'swap_used_percent', 'disk_free_mb', 'cpu_temp_c'):
        assert key in _values(system), key
    log = tmp_path / 'logs' / 'face_tracker.log'
    assert wait_for(lambda: log.exists() and 'resource monitor: system' in log.read_text(),
                    10.0)
    text = log.read_text()
    assert '[diagnostics] diagnostics started' in text
    assert 'resource monitor: node=ghost not running' in text
    assert monitor.stop() == 0
    assert ROOT.exists()
