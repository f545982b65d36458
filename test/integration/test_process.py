# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Per-process settings on real rclpy executors and real processes (the rest: unit/)."""

import json
import os
import subprocess
import sys

import pytest
import rclpy

from face_tracker_ros.common import process


@pytest.fixture
def context():
    """Yield a private rclpy context and shut it down after the test."""
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.try_shutdown(context=ctx)


@pytest.mark.parametrize('kind', ['auto', 'events', 'single'])
def test_make_executor_spins_a_timer(kind, context):
    if kind == 'events' and process.events_executor_class() is None:
        with pytest.raises(ValueError, match='no EventsExecutor'):
            process.make_executor(kind)
        return
    executor, name = process.make_executor(kind, context=context)
    expected = 'single' if kind == 'single' or process.events_executor_class() is None \
        else 'events'
    assert name == expected
    node = rclpy.create_node('executor_probe', context=context)
    fired = []
    node.create_timer(0.01, lambda: fired.append(1))
    executor.add_node(node)
    for _ in range(50):
        executor.spin_once(timeout_sec=0.05)
        if len(fired) >= 3:
            break
    assert len(fired) >= 3
    executor.shutdown()
    node.destroy_node()


@pytest.mark.parametrize('kind', ['auto', 'single'])
def test_spin_in_thread_leaves_the_calling_thread_free(kind, context):
    import time

    from std_msgs.msg import String

    node = rclpy.create_node('spin_probe', context=context)
    received = []
    node.create_subscription(String, 'spin_probe', lambda m: received.append(m.data), 10)
    pub = node.create_publisher(String, 'spin_probe', 10)
    executor, _ = process.make_executor(kind, context=context)
    executor.add_node(node)
    stop = process.spin_in_thread(executor, slice_s=0.05)
    deadline = time.monotonic() + 10.0
    count = 0
    while len(received) < 5 and time.monotonic() < deadline:  # this thread keeps running
        pub.publish(String(data=str(count)))
        count += 1
        time.sleep(0.05)
    stop()
    assert len(received) >= 5
    executor.shutdown()
    node.destroy_node()


# A real process with a thread of its own (like a node's middleware threads, which exist
# before the node lowers its priority) and one started afterwards; it reports every
# thread's niceness and policy.
_PRIORITY_CHILD = (
    'import json, os, threading\n'
    'from face_tracker_ros.common.process import lower_priority, thread_ids\n'
    'stop = threading.Event()\n'
    'before = threading.Thread(target=stop.wait); before.start()\n'
    'said = lower_priority({})\n'
    'after = threading.Thread(target=stop.wait); after.start()\n'
    'threads = {tid: [os.getpriority(os.PRIO_PROCESS, tid), os.sched_getscheduler(tid)]\n'
    '           for tid in thread_ids()}\n'
    'stop.set()\n'
    'print(json.dumps([said, threads, open("/proc/self/autogroup").read().strip()]))\n')


@pytest.mark.skipif(not os.path.exists('/proc/self/autogroup'), reason='kernel without autogroup')
@pytest.mark.parametrize('own_session', [True, False])
def test_every_thread_is_lowered_and_only_a_session_leader_lowers_its_autogroup(own_session):
    # Real processes: a node started in a session of its own (as the standalone bring-up
    # starts them) lowers the session's autogroup; one sharing a session must not.
    done = subprocess.run([sys.executable, '-c', _PRIORITY_CHILD], capture_output=True,
                          text=True, timeout=60, start_new_session=own_session, check=True)
    said, threads, group = json.loads(done.stdout)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert len(threads) == 3
    for niceness, policy in threads.values():
        assert niceness == min(19, ours + 10)
        assert policy == os.sched_getscheduler(0)  # the policy is left as it is
    assert said.startswith('niceness +10 (background node, 2 threads)')
    if own_session:
        assert said.endswith('session autogroup +10')
        assert group.endswith('nice 10')
    else:
        assert not said.endswith('+10')
        with open('/proc/self/autogroup') as ours_group:  # empty in the init process's session
            assert group == ours_group.read().strip()


@pytest.mark.skipif(not os.path.isdir('/proc/self/task'),
                    reason='per-thread priorities are Linux')
def test_lowering_twice_lowers_only_the_threads_started_since():
    # As the benchmark does: every thread but the main one, once per round.
    child = (
        'import json, os, threading\n'
        'from face_tracker_ros.common.process import lower_priority, thread_ids\n'
        'stop = threading.Event()\n'
        'main = threading.main_thread().native_id\n'
        'def others(): return [t for t in thread_ids() if t != main]\n'
        'a = threading.Thread(target=stop.wait); a.start()\n'
        'first = lower_priority({}, threads=others())\n'
        'again = lower_priority({}, threads=others())\n'
        'b = threading.Thread(target=stop.wait); b.start()\n'
        'third = lower_priority({}, threads=others())\n'
        'nice = [os.getpriority(os.PRIO_PROCESS, t) for t in (main, a.native_id, b.native_id)]\n'
        'stop.set()\n'
        'print(json.dumps([first, again, third, nice]))\n')
    done = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True,
                          timeout=60, check=True)
    first, again, third, nice = json.loads(done.stdout)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert first.startswith('niceness +10 (background node, 1 thread)')
    assert again == 'priority left as is (every thread already lowered)'
    assert third.startswith('niceness +10 (background node, 1 thread)')
    assert nice == [ours, min(19, ours + 10), min(19, ours + 10)]
