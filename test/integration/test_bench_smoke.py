# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of the benchmark code (``make bench``) with tiny sizes: it runs, it reports.

Nothing here asserts a speed: the figures depend on the machine.  What is
checked is that every cheap piece of ``bench/`` that needs real parts (two real DDS
processes, a real pseudo-terminal, child processes) still works end to end; the pieces
without them are in test/unit/test_bench_figures.py.
"""

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from bench import common
from bench.baseline import RealtimeLoop
from bench.pipeline import NodeSampler
from bench.transport import measure, shipped_profile

ROOT = Path(__file__).resolve().parents[2]


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
