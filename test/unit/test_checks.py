# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The shared validators: what they accept, what they return, how their messages read."""

import math

import numpy as np
import pytest

from face_tracker_ros.common.checks import (
    as_float,
    check_choice,
    check_int,
    check_number,
    check_positive,
    is_number,
    number_range,
)


def test_numbers_are_real_finite_and_never_bools_or_strings():
    for good in (0, 1.5, -3, np.float32(2.0), np.int64(7)):
        assert is_number(good)
    for bad in (True, '1', None, math.nan, math.inf, [1], 1j):
        assert not is_number(bad)


def test_as_float_reads_outside_figures_and_never_raises():
    assert as_float('2.5') == 2.5
    assert as_float(np.int32(3)) == 3.0
    for unknown in (None, True, 'x', math.nan, math.inf, object()):
        assert as_float(unknown) is None
    assert as_float(math.inf, allow_inf=True) == math.inf
    assert as_float(math.nan, allow_inf=True) is None


def test_check_number_returns_floats_and_names_value_and_range():
    assert check_number('gain', 2) == 2.0 and isinstance(check_number('gain', 2), float)
    assert check_number('x', 1.0, 0.0, 1.0) == 1.0
    with pytest.raises(ValueError, match=r'^x must be a finite number in \(0, 1\), got 1\.0$'):
        check_number('x', 1.0, 0.0, 1.0, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number, got '3'$"):
        check_number('x', '3')
    with pytest.raises(ValueError, match=r'^window_s must be a finite number of seconds > 0, '
                                         r'got 0$'):
        check_positive('window_s', 0, unit='seconds')
    assert check_positive('gap', 0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match='>= 0, got -1'):
        check_positive('gap', -1, allow_zero=True)


def test_check_int_refuses_bools_and_fractions():
    assert check_int('n', np.int16(4), low=1) == 4
    for bad in (True, 2.0, '2', 0):
        with pytest.raises(ValueError, match=r'^n must be an integer >= 1, got '):
            check_int('n', bad, low=1)
    with pytest.raises(ValueError, match=r'^ch must be an integer in \[0, 23\], got 24$'):
        check_int('ch', 24, 0, 23)


def test_check_choice_names_every_allowed_value():
    assert check_choice('mode', 'a', ('a', 'b')) == 'a'
    with pytest.raises(ValueError, match=r"^mode must be one of a, b, got 'c'$"):
        check_choice('mode', 'c', ('a', 'b'))
    assert number_range() == '' and number_range(high=5, high_open=True) == '< 5'
