# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A busy or small computer, without processes: the budget's quota files and table, the demo.

The nodes under load, real CPU quotas and the closed loop at a few frames per second are in
test/integration/test_load.py.
"""

import pytest

from bench import budget, report


def test_budget_rows_and_quota_text_files(tmp_path):
    """The quota is written the way each cgroup version reads it; membership by pid."""
    v1 = budget.CpuQuota(tmp_path / 'v1', 1)
    v1.directory.mkdir()
    v1.set_percent(30)
    assert (v1.directory / 'cpu.cfs_quota_us').read_text() == str(budget.PERIOD_US * 30 // 100)
    v1.set_percent(None)
    assert (v1.directory / 'cpu.cfs_quota_us').read_text() == '-1'
    v2 = budget.CpuQuota(tmp_path / 'v2', 2)
    v2.directory.mkdir()
    v2.set_percent(50)
    assert (v2.directory / 'cpu.max').read_text() == f'{budget.PERIOD_US // 2} {budget.PERIOD_US}'
    (v2.directory / 'cpu.stat').write_text('usage_usec 10\nthrottled_usec 2500000\n')
    assert v2.throttled_s() == pytest.approx(2.5)
    confiner = budget.Confiner(v1, names=('detector',))
    confiner({'detector': 123, 'sim_servo': 456})
    assert (v1.directory / 'cgroup.procs').read_text() == '123'
    assert confiner.moved == {'detector': [123]}
    assert budget.watchdog_actions(
        '[diagnostics] ERROR: watchdog: detector hung (no status for 3.1 s); SIGTERM to pid 9\n'
        '[diagnostics] WARN: watchdog: detector would be ended; report only: would send '
        'SIGTERM to pid 9\nother line') == [
        '[diagnostics] ERROR: watchdog: detector hung (no status for 3.1 s); SIGTERM to pid 9']
    names = [name for name, _, _ in budget.ROWS]
    assert names == ['quota 100 %', 'quota 50 %', 'quota 30 %', 'two CPU hogs']


def test_budget_table_in_the_markdown():
    """A budget section becomes a table row per quota, a skip says why."""
    row = {'start_to_tracked_s': 5.2, 'frames_published': 900, 'frames_processed': 880,
           'servo_commands': 875,
           'commands_per_processed_frame': 0.994, 'target_error_rms': 0.031,
           'target_error_max': 0.2, 'latency_ms': {'p50': 8.0, 'p99': 40.0},
           'throttled_s': 1.5, 'watchdog_actions': 0, 'restarts': 0}
    text = '\n'.join(report.budget_lines({'setup': {'seconds_per_row': 30},
                                          'rows': {'quota 50 %': row},
                                          'skipped': 'no CPU quota can be set: denied'}))
    assert ('| quota 50 % | 5.2 | 900 | 880 | 875 | 0.994 | 0.031 | 0.200 | 8.0 | 40.0 | 1.5 '
            '| 0 | 0 |') in text
    assert 'Quota rows skipped: no CPU quota can be set: denied' in text


def test_the_demo_does_not_count_the_frames_of_its_own_stop():
    """Frames published while the nodes stop (the head parked, far off the face) are not counted.

    The longer a busy machine takes to stop the nodes, the more of those frames there
    were, and they raised the demo's RMS error.
    """
    from face_tracker_ros.tools.demo import DemoStats

    stats = DemoStats(settle_s=0.0)
    for i in range(10):
        stats.on_truth(100.0 + i / 30.0, 0.02)
        stats.on_target(True)
        stats.on_command(8.0)
    stats.freeze()
    for i in range(10):
        stats.on_truth(101.0 + i / 30.0, 0.5)  # parked
        stats.on_target(False)
        stats.on_command(8.0)
    summary = stats.summary(2.0)
    assert summary['frames_published'] == summary['frames_processed'] == 10
    assert summary['servo_commands'] == 10
    assert summary['target_error_max'] == pytest.approx(0.02)
    assert summary['target_error_p50'] == pytest.approx(0.02)
