# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of the benchmark code (``make bench``) with tiny sizes: it runs, it reports.

Nothing here asserts a speed: the figures depend on the machine.  What is
checked is that every cheap piece of ``bench/`` still works end to end on
real parts (real OpenCV on real photographs, two real DDS processes, a real
pseudo-terminal) and that the results have the shape the tables of docs/benchmarks.md need.
"""

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from bench import common, detector, report, run, soak
from bench.baseline import RealtimeLoop
from bench.pipeline import NodeSampler, resources_section
from bench.transport import measure, shipped_profile

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize('path', ['messages', 'nodes'])
def test_transport_between_two_processes(path):
    """A small image stream crosses real DDS between two processes with the shipped profile."""
    result = measure(str(shipped_profile()), common.choose_domain_id(), frames=10, rate=30.0,
                     width=64, height=48, path=path)
    assert 'error' not in result, result.get('error')
    assert result['path'] == path
    assert result['published'] == 10
    assert 0 < result['received'] <= 10
    assert result['latency_ms']['n'] == result['received']
    assert all(v > 0 for v in result['latencies_ms'])


def test_single_script_baseline_runs_in_real_time():
    """The in-process loop writes commands to the simulated controller over a pty."""
    result = RealtimeLoop().run(2.5, settle=0.5)
    assert result['frames'] > 10
    assert result['detections'] > 0 and result['servo_commands'] > 0
    assert result['write_failures'] == 0
    assert result['latency_ms']['n'] > 0 and result['latency_ms']['p50'] > 0
    with pytest.raises(ValueError, match='fps'):
        RealtimeLoop(fps=0)


def test_node_sampler_finds_nodes_only_under_its_roots():
    """Processes are found by __node:=<name> among the given roots and sampled."""
    code = 'import time; time.sleep(30)'
    child = subprocess.Popen([sys.executable, '-c', code, '--ros-args', '-r', '__node:=camera'])
    stranger = subprocess.Popen([sys.executable, '-c', code, '--ros-args', '-r',
                                 '__node:=detector'])
    try:
        sampler = NodeSampler(lambda: [child.pid], names=('camera', 'detector'))
        assert common.wait_for(lambda: 'camera' in sampler.find(), 10.0)
        assert 'detector' not in sampler.find()
        for _ in range(3):
            sampler.sample()
        rows = sampler.samples['camera']
        assert len(rows) == 2  # the first sample only primes the CPU counter
        assert all(rss > 1.0 and cpu >= 0.0 and 0.0 < private <= rss
                   for _, cpu, rss, private in rows)
    finally:
        for proc in (child, stranger):
            proc.kill()
            proc.wait()


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


def test_monitor_reads_the_trace_topics_and_the_detector_status():
    """The benchmark's monitor node takes its topics serialized and counts what they say."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from geometry_msgs.msg import PointStamped
    import rclpy
    from sensor_msgs.msg import TimeReference

    from bench.pipeline import _make_monitor_node, Monitor
    from face_tracker_ros.common.qos import TRACE_PUB

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        monitor = Monitor()
        node = _make_monitor_node(context, monitor)
        source = rclpy.create_node('bench_monitor_source', context=context)
        truth_pub = source.create_publisher(PointStamped, 'sim/true_target', TRACE_PUB)
        trace_pub = source.create_publisher(TimeReference, 'servo/command_latency', TRACE_PUB)
        diag_pub = source.create_publisher(DiagnosticArray, '/diagnostics', 50)
        executor = rclpy.executors.SingleThreadedExecutor(context=context)
        executor.add_node(node)
        executor.add_node(source)
        assert common.wait_for(lambda: truth_pub.get_subscription_count() > 0
                               and trace_pub.get_subscription_count() > 0
                               and diag_pub.get_subscription_count() > 0, 10.0, 0.05,
                               step=lambda s: executor.spin_once(timeout_sec=s))
        truth = PointStamped()
        truth.header.stamp.sec, truth.point.z = 100, 0.25
        truth_pub.publish(truth)
        trace = TimeReference()
        trace.time_ref.sec, trace.header.stamp.sec, trace.header.stamp.nanosec = 100, 100, 8000000
        trace_pub.publish(trace)

        def status(name, processed):
            return DiagnosticStatus(name=name, values=[
                KeyValue(key='frames_processed', value=processed),
                KeyValue(key='detections_total', value='7')])
        diag_pub.publish(DiagnosticArray(status=[status('camera: camera', '99')]))
        stamped = DiagnosticArray(status=[status('camera: camera', '99'),
                                          status('detector: detector', '12')])
        stamped.header.stamp.sec = 100
        diag_pub.publish(stamped)
        assert common.wait_for(lambda: monitor.truths and monitor.commands
                               and monitor.targets == 12, 10.0, 0.05,
                               step=lambda s: executor.spin_once(timeout_sec=s))
        assert monitor.detector_counts == [(100.0, 12, 7)]
        assert monitor.truths == [(100.0, 0.25)]
        assert monitor.commands == [(100.0, pytest.approx(8.0))]
        assert monitor.detections == 7
        executor.shutdown()
        source.destroy_node()
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)


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


_OBSERVER_CHILD = (
    'import json, os, threading\n'
    'from bench.pipeline import _observe_in_the_background\n'
    'stop = threading.Event()\n'
    'watcher = threading.Thread(target=stop.wait); watcher.start()\n'
    '_observe_in_the_background()\n'
    '_observe_in_the_background()  # a second round leaves lowered threads alone\n'
    'main = threading.main_thread().native_id\n'
    'report = {name: [os.getpriority(os.PRIO_PROCESS, tid), os.sched_getscheduler(tid)]\n'
    '          for name, tid in (("main", main), ("watcher", watcher.native_id))}\n'
    'stop.set()\n'
    'print(json.dumps(report))\n')


@pytest.mark.skipif(not hasattr(os, 'SCHED_BATCH') or not os.path.isdir('/proc/self/task'),
                    reason='per-thread priorities are Linux')
def test_the_benchmark_lowers_its_observing_threads_but_not_the_one_that_starts_nodes():
    done = subprocess.run([sys.executable, '-c', _OBSERVER_CHILD], capture_output=True,
                          text=True, timeout=60, check=True, cwd=str(ROOT),
                          env={k: v for k, v in os.environ.items()
                               if k != 'FACE_TRACKER_BACKGROUND_NICE'})
    report = json.loads(done.stdout.strip().splitlines()[-1])
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert report['main'] == [ours, os.sched_getscheduler(0)]
    assert report['watcher'] == [min(19, ours + 10), os.sched_getscheduler(0)]
