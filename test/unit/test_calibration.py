# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the angle <-> pulse-width calibration."""

import dataclasses
import math

import pytest

from face_tracker_ros.servo.calibration import AxisCalibration


def test_defaults_span_500_to_2500_us_over_180_degrees():
    """The default calibration maps -90..90 degrees onto 500..2500 us."""
    cal = AxisCalibration()
    assert cal.angle_to_us(0.0) == pytest.approx(1500.0)
    assert cal.angle_to_us(math.pi / 2) == pytest.approx(2500.0)
    assert cal.angle_to_us(-math.pi / 2) == pytest.approx(500.0)
    assert cal.angle_limits() == pytest.approx((-math.pi / 2, math.pi / 2))


@pytest.mark.parametrize('invert', [False, True])
@pytest.mark.parametrize('angle', [-1.5, -0.7, -0.01, 0.0, 0.3, 1.2, 1.5])
def test_round_trip_inside_the_range(angle, invert):
    """us_to_angle inverts angle_to_us inside the pulse limits."""
    cal = AxisCalibration(center_us=1450.0, us_per_rad=700.0, min_us=400.0, max_us=2600.0,
                          invert=invert)
    assert cal.us_to_angle(cal.angle_to_us(angle)) == pytest.approx(angle, abs=1e-12)


def test_pulses_are_clamped_to_the_limits():
    """Angles beyond the limits (and infinities) clamp; NaN gives the centre."""
    cal = AxisCalibration(min_us=1000.0, max_us=2000.0)
    assert cal.angle_to_us(3.0) == 2000.0
    assert cal.angle_to_us(-3.0) == 1000.0
    assert cal.angle_to_us(math.inf) == 2000.0
    assert cal.angle_to_us(math.nan) == cal.center_us


def test_us_to_angle_does_not_clamp():
    """A pulse outside the limits maps to an angle outside them."""
    cal = AxisCalibration()
    assert cal.us_to_angle(3000.0) > math.pi / 2


def test_invert_flips_the_sign():
    """An inverted servo gets the mirrored pulse."""
    plain = AxisCalibration()
    inverted = AxisCalibration(invert=True)
    assert inverted.angle_to_us(0.4) == pytest.approx(plain.angle_to_us(-0.4))
    assert inverted.angle_to_us(0.4) < 1500.0
    assert inverted.us_to_angle(2000.0) == pytest.approx(-plain.us_to_angle(2000.0))


def test_calibration_is_immutable():
    """Calibrations are frozen values."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        AxisCalibration().center_us = 1.0


def test_valid_calibration_passes():
    """Sensible calibrations validate silently."""
    AxisCalibration().validate('pan')
    AxisCalibration(center_us=1000, us_per_rad=500, min_us=800, max_us=2200).validate()


@pytest.mark.parametrize('kwargs, message', [
    ({'min_us': 2600.0}, 'pan.min_us (2600) must be < pan.max_us (2500)'),
    ({'max_us': 500.0}, 'pan.min_us (500) must be < pan.max_us (500)'),
    ({'us_per_rad': 0.0}, 'pan.us_per_rad (0) must be > 0'),
    ({'us_per_rad': -600.0}, 'pan.us_per_rad (-600) must be > 0'),
    ({'center_us': 2700.0}, 'pan.center_us (2700) must be within pan.min_us (500)'),
    ({'min_us': -5.0}, 'pan.min_us (-5) must be >= 0'),
    ({'center_us': math.nan}, 'pan.center_us (nan) must be a finite number'),
    ({'max_us': 'x'}, "pan.max_us ('x') must be a finite number"),
    ({'invert': 'yes'}, "pan.invert ('yes') must be true or false"),
])
def test_validate_names_the_field(kwargs, message):
    """validate() names the prefixed field, its value and the rule."""
    with pytest.raises(ValueError) as info:
        AxisCalibration(**kwargs).validate('pan')
    assert message in str(info.value)


def test_validate_without_prefix():
    """Without a prefix the bare field names are used."""
    with pytest.raises(ValueError, match=r'^min_us \(2600\) must be < max_us \(2500\)$'):
        AxisCalibration(min_us=2600.0).validate()
