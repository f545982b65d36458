# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The whole loop in one process on a virtual clock: the face ends centred."""

import math

import pytest

from face_tracker_ros.sim.loop import ClosedLoop, LoopConfig


def test_still_face_ends_centred():
    result = ClosedLoop(LoopConfig(path='still', fps=20.0)).run(6.0)
    assert result.errors[0] > 0.2  # it starts well off-centre
    assert result.final_error() < 0.05
    assert result.detections >= 0.9 * result.frames


def test_drifting_face_is_followed():
    result = ClosedLoop(LoopConfig(path='drift', fps=20.0)).run(12.0)
    assert result.rms() < 0.10
    assert max(result.settled_errors()) < 0.2


@pytest.mark.parametrize('protocol', ['ascii', 'maestro'])
def test_both_protocols_close_the_loop(protocol):
    result = ClosedLoop(LoopConfig(path='still', fps=15.0, protocol=protocol)).run(5.0)
    assert result.final_error() < 0.05


def test_reversed_servo_needs_the_invert_parameter():
    wrong = ClosedLoop(LoopConfig(path='still', fps=15.0, physical_invert_pan=True)).run(5.0)
    right = ClosedLoop(LoopConfig(path='still', fps=15.0, physical_invert_pan=True,
                                  invert_pan=True)).run(5.0)
    assert right.final_error() < 0.05
    # Without invert the head turns away and the face leaves the view (or sits far off).
    assert math.isnan(wrong.final_error()) or wrong.final_error() > 0.3


def test_same_seed_same_run():
    a = ClosedLoop(LoopConfig(path='steps', fps=10.0, seed=3)).run(3.0)
    b = ClosedLoop(LoopConfig(path='steps', fps=10.0, seed=3)).run(3.0)
    assert a.errors == b.errors


def test_face_leaving_the_view_is_found_again():
    result = ClosedLoop(LoopConfig(path='leave_return', fps=15.0)).run(20.0)
    out_of_view = [t for t, e in zip(result.times, result.errors) if e is None]
    assert out_of_view, 'the path should take the face out of view'
    assert result.final_error() < 0.1
