# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Per-process settings: allocator thresholds and the executor choice."""

import json
import os
import platform
import subprocess
import sys

import pytest
import rclpy

from face_tracker_ros.common import process


class FakeLibc:
    def __init__(self, answer=1):
        self.calls = []
        self.answer = answer

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return self.answer


def test_thresholds_are_raised_through_mallopt():
    libc = FakeLibc()
    note = process.tune_allocator({}, libc=libc)
    assert libc.calls == [(process.M_MMAP_THRESHOLD, 16 * 1024 * 1024),
                          (process.M_TRIM_THRESHOLD, 32 * 1024 * 1024)]
    assert note == 'glibc malloc: mmap threshold 16 MiB, trim threshold 32 MiB'


@pytest.mark.parametrize('environ, why', [
    ({'FACE_TRACKER_TUNE_MALLOC': '0'}, 'FACE_TRACKER_TUNE_MALLOC=0'),
    ({'FACE_TRACKER_TUNE_MALLOC': 'off'}, 'FACE_TRACKER_TUNE_MALLOC=off'),
    ({'MALLOC_MMAP_THRESHOLD_': '65536'}, 'MALLOC_MMAP_THRESHOLD_ set in the environment'),
    ({'MALLOC_TRIM_THRESHOLD_': '1'}, 'MALLOC_TRIM_THRESHOLD_ set in the environment'),
])
def test_the_user_can_keep_the_allocator_as_it_is(environ, why):
    libc = FakeLibc()
    assert why in process.tune_allocator(environ, libc=libc)
    assert libc.calls == []


def test_a_refusing_or_missing_mallopt_costs_nothing_but_speed():
    assert 'refused' in process.tune_allocator({}, libc=FakeLibc(answer=0))
    assert 'mallopt failed' in process.tune_allocator({}, libc=object())


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc only')
def test_the_real_c_library_takes_the_thresholds():
    assert process.tune_allocator({}).startswith('glibc malloc:')


@pytest.mark.parametrize('value, expected', [(None, 'auto'), ('', 'auto'), ('AUTO', 'auto'),
                                             ('events', 'events'), (' single ', 'single')])
def test_executor_choice(value, expected):
    environ = {} if value is None else {'FACE_TRACKER_EXECUTOR': value}
    assert process.executor_choice(environ) == expected


def test_a_bad_executor_choice_names_the_variable_and_the_values():
    with pytest.raises(ValueError, match="FACE_TRACKER_EXECUTOR='fast' is not one of "
                                         'auto, events, single'):
        process.executor_choice({'FACE_TRACKER_EXECUTOR': 'fast'})


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


def test_make_executor_rejects_unknown_kinds():
    with pytest.raises(ValueError, match='auto, events, single'):
        process.make_executor('threads')


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


def test_free_memory_is_released_through_malloc_trim():
    class Trimmer:
        calls = []

        def malloc_trim(self, pad):
            self.calls.append(pad)
            return 1

    libc = Trimmer()
    assert process.release_free_memory(libc) is True
    assert libc.calls == [0]
    assert process.release_free_memory(object()) is False  # no malloc_trim: nothing done


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc only')
def test_the_real_malloc_trim_runs():
    assert process.release_free_memory() is True


def test_background_nodes_lower_their_priority(tmp_path):
    calls = []
    missing = str(tmp_path / 'no' / 'autogroup')
    assert process.lower_priority({}, nice=lambda tid, v: calls.append((tid, v)),
                                  autogroup=missing, threads=[11, 12]) == \
        'niceness +10 (background node, 2 threads)'
    assert process.lower_priority({'FACE_TRACKER_BACKGROUND_NICE': '5'},
                                  nice=lambda tid, v: calls.append((tid, v)),
                                  autogroup=missing,
                                  threads=[13]) == 'niceness +5 (background node, 1 thread)'
    assert calls == [(11, 10), (12, 10), (13, 5)]


def test_threads_that_cannot_be_lowered_are_skipped_and_none_means_nothing_done(tmp_path):
    missing = str(tmp_path / 'no' / 'autogroup')

    def nice(tid, _value):
        if tid == 2:
            raise ProcessLookupError('no such thread')  # it ended meanwhile
    assert process.lower_priority({}, nice=nice, autogroup=missing, threads=[1, 2]) == \
        'niceness +10 (background node, 1 thread)'

    def refused(_tid, _value):
        raise PermissionError('not allowed')
    said = process.lower_priority({}, nice=refused, autogroup=missing, threads=[1])
    assert said == 'priority left as is (nice failed: not allowed)'


def test_a_background_node_sets_its_session_autogroup_too(tmp_path):
    group = tmp_path / 'autogroup'
    group.write_text('/autogroup-1 nice 0\n')
    assert process.lower_priority({}, nice=lambda _t, _v: None, autogroup=str(group),
                                  threads=[1]) == \
        'niceness +10 (background node, 1 thread), session autogroup +10'
    assert group.read_text() == '10'


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


@pytest.mark.parametrize('value, why', [('0', 'priority left as is'),
                                        ('high', "'high' is not an integer"),
                                        ('25', '25 is not in 0..19')])
def test_background_priority_can_be_kept_and_bad_values_are_named(value, why):
    calls = []
    assert why in process.lower_priority({'FACE_TRACKER_BACKGROUND_NICE': value},
                                         nice=lambda tid, v: calls.append(v))
    assert calls == []
    # Background nodes keep the normal priority unless the variable is set (opt-in).
    assert process.background_priority({}) == 'normal priority'
    assert why in process.background_priority({'FACE_TRACKER_BACKGROUND_NICE': value})


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
