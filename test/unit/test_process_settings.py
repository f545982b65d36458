# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Per-process settings without a node or a child process: allocator, executor choice, priority.

Executors spinning real rclpy nodes and the priorities read back from real processes are in
test/integration/test_process.py.
"""

import platform

import pytest

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


def test_make_executor_rejects_unknown_kinds():
    with pytest.raises(ValueError, match='auto, events, single'):
        process.make_executor('threads')


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
