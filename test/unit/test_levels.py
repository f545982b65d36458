# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Bands: levels at the thresholds in both directions, messages, and combining levels."""

import pytest

from face_tracker_ros.monitor.levels import Band, ERROR, level_name, OK, STALE, WARN, worst

RSS = Band('rss_mb', warn=400.0, error=600.0)
DISK = Band('disk_free_mb', warn=1000.0, error=200.0, higher_is_worse=False)


def test_levels_are_the_diagnostic_msgs_values():
    assert (OK, WARN, ERROR, STALE) == (0, 1, 2, 3)
    assert [level_name(level) for level in (OK, WARN, ERROR, STALE)] == [
        'ok', 'warn', 'error', 'stale']


@pytest.mark.parametrize('value, level', [
    (0.0, OK), (399.9, OK), (400.0, WARN), (599.9, WARN), (600.0, ERROR), (1e9, ERROR),
    (float('inf'), ERROR),
])
def test_higher_is_worse_boundaries(value, level):
    assert RSS.level(value) == level


@pytest.mark.parametrize('value, level', [
    (1e6, OK), (1000.1, OK), (1000.0, WARN), (200.1, WARN), (200.0, ERROR), (0.0, ERROR),
])
def test_lower_is_worse_boundaries(value, level):
    assert DISK.level(value) == level


@pytest.mark.parametrize('value', [None, float('nan'), 'n/a'])
def test_unknown_is_not_an_alarm(value):
    assert RSS.level(value) == OK
    assert DISK.level(value) == OK
    assert RSS.describe(value) == 'rss_mb unknown (ok)'


def test_describe_names_figure_value_threshold_and_level():
    assert RSS.describe(612.0) == 'rss_mb 612.0 >= 600 (error)'
    assert RSS.describe(450.3) == 'rss_mb 450.3 >= 400 (warn)'
    assert RSS.describe(84.2) == 'rss_mb 84.2 < 400 (ok)'
    assert DISK.describe(150.0) == 'disk_free_mb 150.0 <= 200 (error)'
    assert DISK.describe(5000.0) == 'disk_free_mb 5000.0 > 1000 (ok)'
    temp = Band('cpu_temp', warn=70.0, error=85.0, unit='C')
    assert temp.describe(71.26) == 'cpu_temp 71.3 C >= 70 C (warn)'
    load = Band('load_1m', warn=1.5, error=3.0)
    assert load.describe(0.05) == 'load_1m 0.05 < 1.5 (ok)'


def test_equal_thresholds_skip_warn():
    band = Band('zombie', warn=1.0, error=1.0)
    assert band.level(0.0) == OK
    assert band.level(1.0) == ERROR


@pytest.mark.parametrize('kwargs, text', [
    ({'name': 'rss_mb', 'warn': 700.0, 'error': 600.0}, 'warn must be <= error'),
    ({'name': 'disk', 'warn': 100.0, 'error': 200.0, 'higher_is_worse': False},
     'warn must be >= error'),
    ({'name': '', 'warn': 1.0, 'error': 2.0}, 'name'),
    ({'name': 'x', 'warn': float('nan'), 'error': 2.0}, 'warn'),
    ({'name': 'x', 'warn': 1.0, 'error': '2'}, 'error'),
])
def test_bad_bands_are_clear_errors(kwargs, text):
    with pytest.raises(ValueError, match=text):
        Band(**kwargs)


def test_bands_are_immutable():
    with pytest.raises(AttributeError):
        RSS.warn = 1.0


@pytest.mark.parametrize('levels, result', [
    ([], OK),
    ([OK, OK], OK),
    ([OK, WARN, OK], WARN),
    ([WARN, ERROR, OK], ERROR),
    ([STALE, STALE], STALE),
    ([OK, STALE], ERROR),
    ([WARN, STALE, ERROR], ERROR),
])
def test_worst(levels, result):
    assert worst(levels) == result
    assert worst(iter(levels)) == result


def test_worst_rejects_unknown_levels():
    with pytest.raises(ValueError, match='levels'):
        worst([OK, 7])
