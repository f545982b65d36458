# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Pinhole geometry and the sign conventions every part of the tracker shares.

Conventions (REP-103):

* Image offsets are in the camera optical frame: ``x`` grows to the right of
  the image centre, ``y`` grows downwards.  They are normalised so that the
  image edges are at -1 and +1 on each axis: ``x = (u - cx) / (width / 2)``,
  ``y = (v - cy) / (height / 2)``.
* Joint ``pan`` turns about the up axis; positive turns the camera to the left
  (counter-clockwise seen from above).
* Joint ``tilt`` turns about the left axis; positive pitches the camera down.
* All angles are radians.

With these conventions a face to the right of centre needs a negative pan
correction and a face below centre needs a positive tilt correction.
"""

import math
from typing import Tuple


def focal_length_px(width: int, hfov: float) -> float:
    """Return the focal length in pixels of a pinhole camera of ``hfov`` radians."""
    return (width / 2.0) / math.tan(hfov / 2.0)


def vertical_fov(hfov: float, width: int, height: int) -> float:
    """Return the vertical field of view of square-pixel images of this size."""
    return 2.0 * math.atan(math.tan(hfov / 2.0) * height / float(width))


def offset_to_angle_errors(x: float, y: float, hfov: float,
                           vfov: float) -> Tuple[float, float]:
    """Convert a normalised image offset to the (pan, tilt) correction in radians.

    Adding the returned corrections to the camera's pan and tilt at capture
    time points the optical axis at the offset's pixel.
    """
    return -math.atan(x * math.tan(hfov / 2.0)), math.atan(y * math.tan(vfov / 2.0))


def direction_to_pixel(azimuth: float, elevation: float, pan: float, tilt: float,
                       width: int, height: int, hfov: float) -> Tuple[float, float, bool]:
    """Project a world direction into the image of a camera at ``pan``/``tilt``.

    ``azimuth`` is positive to the left and ``elevation`` positive upwards, both
    measured from the pan/tilt home direction.  Returns ``(u, v, in_front)``
    pixel coordinates; ``in_front`` is False when the direction is 90 degrees
    or more off the optical axis (then ``u``/``v`` are meaningless).
    """
    rel_az = azimuth - pan
    rel_el = elevation + tilt
    if abs(rel_az) >= math.pi / 2 or abs(rel_el) >= math.pi / 2:
        return 0.0, 0.0, False
    f = focal_length_px(width, hfov)
    u = width / 2.0 - f * math.tan(rel_az)
    v = height / 2.0 - f * math.tan(rel_el)
    return u, v, True


def pixel_to_offset(u: float, v: float, width: int, height: int) -> Tuple[float, float]:
    """Normalise a pixel position to the [-1, 1] offset convention above."""
    return (u - width / 2.0) / (width / 2.0), (v - height / 2.0) / (height / 2.0)
