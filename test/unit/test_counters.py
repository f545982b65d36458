# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Counters: declared names start at 0, count as attributes, and a misspelt name fails."""

import copy
import pickle
import threading

import pytest

from face_tracker_ros.common.counters import Counters


def test_declared_counts_start_at_zero_and_count():
    counts = Counters('frames', 'errors')
    assert counts.frames == 0 and counts.errors == 0
    counts.frames += 1
    counts.frames += 2
    counts.errors += True  # a bool counts as 1, as it did on a plain int
    assert counts.as_dict() == {'frames': 3, 'errors': 1}
    assert list(counts) == [('frames', 3), ('errors', 1)]
    assert repr(counts) == 'Counters(frames=3, errors=1)'


def test_a_name_not_declared_is_an_error_on_read_and_write():
    counts = Counters('frames_received')
    with pytest.raises(AttributeError, match="no counter 'frames_recieved'.*frames_received"):
        counts.frames_recieved  # noqa: B018 (the read is the test)
    with pytest.raises(AttributeError, match="no counter 'frame'"):
        counts.frame = 1
    assert counts.as_dict() == {'frames_received': 0}


@pytest.mark.parametrize('names', [('a', 'a'), ('a b',), ('',), (1,), ('1st',)])
def test_names_must_be_distinct_identifiers(names):
    with pytest.raises(ValueError, match='distinct identifiers'):
        Counters(*names)


def test_as_dict_is_a_copy():
    counts = Counters('a')
    snapshot = counts.as_dict()
    counts.a += 5
    assert snapshot == {'a': 0} and counts.a == 5


def test_counting_under_the_owners_lock_loses_nothing():
    counts = Counters('events')
    lock = threading.Lock()

    def work():
        for _ in range(10000):
            with lock:
                counts.events += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts.events == 40000


def test_copies_and_pickles_keep_the_counts_apart():
    counts = Counters('a', 'b')
    counts.b += 2
    for made in (copy.copy(counts), copy.deepcopy(counts), pickle.loads(pickle.dumps(counts))):
        assert made.as_dict() == {'a': 0, 'b': 2}
        made.a += 1
        assert counts.a == 0
