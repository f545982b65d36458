# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the target policy: which face the camera follows."""

import math

import cv2
import numpy as np
import pytest
import skimage.data

from face_tracker_ros.detector.backends import Face, HaarBackend
from face_tracker_ros.detector.selection import TargetSelector


def face_at(cu, cv, w, score=1.0):
    """Return a square face box of width ``w`` centred on ``(cu, cv)``."""
    return Face(cu - w / 2.0, cv - w / 2.0, w, w, score)


def test_largest_face_when_there_is_no_current_target():
    """Without a current target the largest face is chosen."""
    selector = TargetSelector()
    small, big, medium = face_at(100, 100, 40), face_at(400, 300, 90), face_at(250, 200, 60)
    assert selector.choose([small, big, medium]) == big
    assert selector.current == big


def test_stays_with_current_face_while_a_bigger_one_appears():
    """A bigger face elsewhere does not steal the camera from the followed face."""
    selector = TargetSelector()
    assert selector.choose([face_at(100, 100, 50)]) == face_at(100, 100, 50)
    moved = face_at(120, 105, 52)
    big = face_at(500, 300, 120)
    assert selector.choose([big, moved]) == moved
    assert selector.choose([face_at(135, 110, 55), big]) == face_at(135, 110, 55)


def test_switches_to_largest_when_current_face_vanishes():
    """When the followed face is gone the largest remaining face is taken."""
    selector = TargetSelector()
    selector.choose([face_at(100, 100, 50)])
    other_small, other_big = face_at(600, 100, 30), face_at(500, 400, 70)
    # Both remaining faces are far away: not plausible continuations.
    assert selector.choose([other_small, other_big]) == other_big


def test_switches_when_nearest_face_jumps_implausibly_far():
    """A nearest face beyond max_jump widths is not the same person."""
    selector = TargetSelector(max_jump=1.0)
    selector.choose([face_at(100, 100, 50)])
    # 60 px is more than 1.0 x 50 px: a different face, so the largest is taken.
    far = face_at(160, 100, 50)
    bigger = face_at(400, 400, 80)
    assert selector.choose([far, bigger]) == bigger
    # Within the limit it follows.
    assert selector.choose([face_at(440, 400, 80), face_at(100, 100, 120)]) == face_at(
        440, 400, 80)


def test_switches_when_nearest_face_changes_size_implausibly():
    """A nearest face whose width changed beyond size_ratio is not followed."""
    selector = TargetSelector(size_ratio=2.0)
    selector.choose([face_at(100, 100, 50)])
    tiny_same_place = face_at(100, 100, 20)
    other = face_at(400, 300, 40)
    assert selector.choose([tiny_same_place, other]) == other
    selector.reset()
    selector.choose([face_at(100, 100, 50)])
    assert selector.choose([face_at(100, 100, 99), face_at(400, 300, 200)]) == face_at(
        100, 100, 99)


def test_empty_frame_forgets_the_target():
    """A frame without faces yields None and clears the memory."""
    selector = TargetSelector()
    selector.choose([face_at(100, 100, 50)])
    assert selector.choose([]) is None
    assert selector.current is None
    # Without memory the largest face wins again, even next to the old place.
    assert selector.choose([face_at(105, 100, 50), face_at(400, 300, 80)]) == face_at(
        400, 300, 80)


def test_reset_forgets_the_target():
    """reset() makes the next choice the largest face."""
    selector = TargetSelector()
    selector.choose([face_at(100, 100, 50)])
    selector.reset()
    assert selector.current is None
    assert selector.choose([face_at(100, 100, 50), face_at(300, 300, 60)]) == face_at(
        300, 300, 60)


def test_bad_input_never_raises():
    """Malformed detections are ignored instead of raising."""
    selector = TargetSelector()
    selector.choose([face_at(100, 100, 50)])
    assert selector.choose(None) is None
    assert selector.choose(42) is None
    good = face_at(10, 10, 20)
    broken = [Face(math.nan, 0, 10, 10), Face(0, 0, -5, 10), Face(0, 0, 0, 0), 'face', None,
              Face(0, 0, math.inf, 10)]
    assert selector.choose(broken) is None
    assert selector.choose(broken + [good]) == good
    assert selector.choose(f for f in [good]) == good


@pytest.mark.parametrize('kwargs, name', [
    ({'max_jump': 0.0}, 'max_jump'), ({'max_jump': -1}, 'max_jump'),
    ({'max_jump': math.nan}, 'max_jump'), ({'max_jump': 'far'}, 'max_jump'),
    ({'size_ratio': 0.5}, 'size_ratio'), ({'size_ratio': math.inf}, 'size_ratio'),
])
def test_invalid_parameters_are_named(kwargs, name):
    """Constructor errors name the offending parameter."""
    with pytest.raises(ValueError, match=name):
        TargetSelector(**kwargs)


def test_a_box_far_from_the_face_must_look_like_it():
    """A box more than half a face width away is the target only if it looks like the face.

    A false box below a rolled head (its chest) was taken for the face in the next
    frame although it looked nothing like it; a face that moves as far is kept.
    """
    image = np.full((480, 640, 3), 90, np.uint8)
    image[80:140, 80:140] = (60, 110, 200)  # the face: a skin-like orange
    image[170:230, 110:170] = (200, 90, 40)  # below it: a blue shirt
    image[80:140, 130:190] = (60, 110, 200)  # or the face itself, moved right
    selector = TargetSelector(max_jump=1.0, switch_after_s=1.0)
    face = Face(80.0, 80.0, 60.0, 60.0)
    assert selector.choose([face], 0.0, image) == face
    shirt = Face(110.0, 170.0, 60.0, 60.0)  # 95 px away, within the 12 fps allowance
    assert selector.choose([shirt], 1 / 12.0, image) is None
    assert selector.target_id is not None  # the person is still followed, only missing
    moved = Face(130.0, 80.0, 60.0, 60.0)  # 50 px away, the same look
    assert selector.choose([moved], 2 / 12.0, image) == moved


def _astronaut_sprite(scale):
    """Return the astronaut's head and shoulders (BGR) scaled by ``scale``."""
    bgr = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    crop = bgr[0:260, 100:340]
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def test_policy_on_detections_of_real_photographs():
    """The policy holds on Haar detections of a real photograph."""
    haar = HaarBackend()
    small, big = _astronaut_sprite(0.7), _astronaut_sprite(1.0)
    canvas = np.full((480, 640, 3), 120, np.uint8)

    def frame(with_small, with_big, small_x=20):
        image = canvas.copy()
        if with_small:
            image[40:40 + small.shape[0], small_x:small_x + small.shape[1]] = small
        if with_big:
            image[200:200 + big.shape[0], 380:380 + big.shape[1]] = big
        return image

    selector = TargetSelector()
    first = selector.choose(haar.detect(frame(True, False)))
    assert first is not None and first.center[0] < 320
    # A bigger face appears on the right: the camera keeps the one it follows.
    both = haar.detect(frame(True, True, small_x=30))
    assert len(both) == 2
    kept = selector.choose(both)
    assert kept.center[0] < 320 and kept.w < max(f.w for f in both)
    # The followed face leaves: the other one becomes the target.
    switched = selector.choose(haar.detect(frame(False, True)))
    assert switched is not None and switched.center[0] > 320
    assert selector.choose(haar.detect(canvas)) is None
