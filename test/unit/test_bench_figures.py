# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The benchmark code (``make bench``) without processes or DDS: statistics, sections, reports.

Nothing here asserts a speed.  The detector rows run on real photographs with tiny sizes; the
pieces that need two DDS processes, a pseudo-terminal or child processes are in
test/integration/test_bench_smoke.py.
"""

import json
import os

import pytest

from bench import common, detector, report, run, soak
from bench.pipeline import resources_section


def test_statistics_and_targets():
    """Percentiles, summaries, line fits and target records give the textbook answers."""
    assert common.percentile([], 50) is None
    assert common.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert common.percentile([0.0, 10.0], 99) == pytest.approx(9.9)
    with pytest.raises(ValueError, match='q'):
        common.percentile([1.0], 101)
    stats = common.summarize([1.0, 2.0, 3.0, 4.0])
    assert stats['n'] == 4 and stats['p50'] == 2.5 and stats['max'] == 4.0
    assert common.summarize([])['p50'] is None
    slope, intercept, stderr = common.linear_fit([0, 1, 2, 3], [1, 3, 5, 7])
    assert (slope, intercept) == (pytest.approx(2.0), pytest.approx(1.0))
    assert stderr == pytest.approx(0.0)
    with pytest.raises(ValueError, match='xs'):
        common.linear_fit([1, 1], [0, 1])
    good = common.target('latency', 3.0, '<=', 4.0, 'ms')
    assert good['met'] and good['margin'] == 1.0 and good['target'] == '<= 4 ms'
    bad = common.target('recall', 0.5, '>=', 0.9)
    assert not bad['met'] and bad['margin'] == pytest.approx(-0.4)
    assert not common.target('missing', None, '<=', 1.0)['met']
    with pytest.raises(ValueError, match='op'):
        common.target('x', 1.0, '<', 2.0)


def test_domain_id_from_environment_or_a_free_one():
    """ROS_DOMAIN_ID wins when set; otherwise an unused domain in the random range."""
    assert common.choose_domain_id({'ROS_DOMAIN_ID': '42'}) == 42
    with pytest.raises(ValueError, match='ROS_DOMAIN_ID'):
        common.choose_domain_id({'ROS_DOMAIN_ID': 'abc'})
    with pytest.raises(ValueError, match='ROS_DOMAIN_ID'):
        common.choose_domain_id({'ROS_DOMAIN_ID': '300'})
    picked = common.choose_domain_id({})
    low, high = common.RANDOM_DOMAIN_RANGE
    assert low <= picked <= high
    env = common.ros_env(picked, None, base={'FASTDDS_DEFAULT_PROFILES_FILE': '/x.xml'})
    assert env['ROS_DOMAIN_ID'] == str(picked)
    assert env['FASTDDS_DEFAULT_PROFILES_FILE'] == ''
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'


def test_section_names_are_checked():
    """--sections keeps the run order and names the allowed sections on a typo."""
    assert run.parse_sections('soak, transport') == ['transport', 'soak']
    with pytest.raises(ValueError, match='transport, detector, pipeline, resources, budget, soak'):
        run.parse_sections('transport,speed')


def test_detector_scores_on_real_photographs():
    """The sequence has the face in view; Haar scores on it and on a slice of the LFW subset."""
    frames, truths = detector.sim_sequence(frames=4)
    assert len(frames) == 4 and frames[0].shape == (480, 640, 3)
    assert all(t.visible for t in truths)
    configs, _ = detector.configurations('')
    build = {c.name: c.build for c in configs}[detector.DEFAULT_CONFIG]
    times, found, modes = detector.time_sequence(build, frames, threads=1)
    assert len(times) == 4 and all(t > 0 for t in times)
    assert set(modes) <= {'full', 'roi'}
    sim = detector.sim_scores(found, truths)
    assert sim['frames_with_face'] == 4 and sim['recall'] == 1.0
    canvases = detector.lfw_canvases()
    assert len(canvases) == 200 and sum(f for f, _ in canvases) == 100
    sample = canvases[:10] + canvases[100:110]
    lfw = detector.lfw_scores(build(), sample)
    assert lfw['faces'] == 10 and lfw['non_faces'] == 10
    assert lfw['recall'] >= 0.8 and lfw['false_positive_rate'] <= 0.2


def test_detector_section_skips_yunet_without_a_model(tmp_path):
    """Without the model the YuNet rows are skipped with the reason; targets are recorded."""
    section = detector.run(frames=3, yunet_model=str(tmp_path / 'absent.onnx'),
                           default_threads=False, lfw=False)
    assert set(section['configurations']) == {'haar_full_frame', detector.DEFAULT_CONFIG,
                                              'finder_haar_no_roi'}
    assert 'absent.onnx' in section['skipped']['yunet_full_frame']
    assert section['targets'][0]['target'] == '<= 12 ms'
    assert isinstance(section['met'], bool)


def test_resources_and_soak_figures_from_samples():
    """Medians, sums and memory slopes come out of synthetic samples as expected."""
    # camera: RSS and private memory climb 1 MB/h; detector: RSS steps up by 0.9 MB (a
    # shared page range read for the first time) while its private memory stays flat.
    samples = {'camera': [(t, 10.0, 100.0 + t / 3600.0, 50.0 + t / 3600.0)
                          for t in range(0, 120)],
               'detector': [(t, 50.0, 200.0 + (0.9 if t >= 80 else 0.0), 60.0)
                            for t in range(0, 120)]}
    section = resources_section(samples, warmup_s=5.0)
    assert section['cpu_percent_sum_all_nodes'] == 60.0
    assert section['nodes']['detector']['rss_mb_median'] == 200.0
    assert section['nodes']['detector']['private_mb_median'] == 60.0
    assert section['met'] is True
    slopes = soak.memory_slopes(samples, warmup_s=30.0)
    assert slopes['camera']['slope_mb_per_h'] == pytest.approx(1.0, abs=1e-3)
    assert slopes['camera']['private_slope_mb_per_h'] == pytest.approx(1.0, abs=1e-3)
    assert slopes['detector']['slope_mb_per_h'] > 50.0
    assert slopes['detector']['private_slope_mb_per_h'] == pytest.approx(0.0, abs=1e-3)
    assert slopes['detector']['private_mb_last'] == 60.0
    empty = soak.memory_slopes({'servo': [(0.0, 1.0, 1.0, 1.0)]})['servo']
    assert empty['slope_mb_per_h'] is None and empty['private_slope_mb_per_h'] is None
    # Rows without private memory (older results) still give the RSS slope.
    rss_only = soak.memory_slopes({'servo': [(t, 1.0, 5.0) for t in range(10)]}, warmup_s=0.0)
    assert rss_only['servo']['slope_mb_per_h'] == 0.0
    assert rss_only['servo']['private_slope_mb_per_h'] is None
    series = soak.memory_series(samples, every_s=60.0)['detector']
    assert series == [(0.0, 200.0, 60.0), (60.0, 200.0, 60.0)]


def test_run_writes_json_and_markdown(tmp_path, capsys, monkeypatch):
    """The entry point writes both files; the markdown has a row per target."""
    canvases = detector.lfw_canvases()
    monkeypatch.setattr(detector, 'lfw_canvases', lambda: canvases[:5] + canvases[100:105])
    output, table = tmp_path / 'results.json', tmp_path / 'results.md'
    status = run.main(['--sections', 'detector', '--detector-frames', '2', '--yunet-model', '',
                       '--output', str(output), '--markdown', str(table)])
    assert status == 0
    results = json.loads(output.read_text())
    assert results['machine']['cpu_count'] == os.cpu_count()
    assert 'opencv' in results['machine'] and 'python' in results['machine']
    assert results['targets_total'] == len(results['detector']['targets'])
    text = table.read_text()
    assert '| detector | finder_haar_default p50' in text
    assert '**Detector**' in text and 'haar_full_frame' in text
    assert 'targets met' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run.main(['--sections', 'nothing'])


def test_markdown_of_a_failed_section():
    """A section that failed shows up in the table and as the run's error."""
    results = {'transport': {'error': 'no DDS', 'met': False}, 'started': 'now',
               'machine': {'cpu_count': 2}}
    assert 'section failed: no DDS' in report.markdown(results)
    assert report.first_error(results) == 'transport: no DDS'


def test_monitor_counts_frames_and_commands_up_to_the_last_detector_status_before_the_stop():
    """Frames the detector processes after the servo node stopped are not counted.

    The stop ends the servo node before the detector: on a slow CPU the detector
    processed a dozen frames more that could give no command (0.970 commands per
    processed frame at 30 % of one core, where the servo missed none while it ran).
    """
    from bench.pipeline import Monitor

    monitor = Monitor()
    assert monitor.counted_until(100.0) is None
    for i in range(30):  # 30 frames, each commanded 5 ms after capture at 99.0 + i / 10
        monitor.on_command(99.0 + i / 10.0, 99.005 + i / 10.0)
    monitor.on_detector_status('10', '10', 100.0)
    monitor.on_detector_status('20', '19', 101.0)
    monitor.on_detector_status('5', '5', 101.5)  # restarted: 25 in all
    monitor.on_detector_status('12', '12', 102.5)  # sent after the stop began at 102.0
    counted = monitor.counted_until(102.0)
    assert counted == {'until': 101.5, 'frames_processed': 25, 'detections': 24,
                       'servo_commands': 25}
    # Up to the status of 101.0: the command written at 101.005 is not counted yet.
    assert monitor.counted_until(101.2) == {'until': 101.0, 'frames_processed': 20,
                                            'detections': 19, 'servo_commands': 20}
    assert (monitor.targets, len(monitor.commands)) == (32, 30)
