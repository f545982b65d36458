# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Regions of interest around remembered faces, for the finder's region search.

Each face box is grown by ``roi_scale`` about its centre and clipped to the
image; overlapping regions are merged, each keeping the smallest and largest
face width it was made for (the size band its search accepts).
"""

from typing import List, Sequence, Tuple

import numpy as np

from face_tracker_ros.detector.face import Face

Rect = Tuple[int, int, int, int]
"""A region ``(x0, y0, x1, y1)`` in image pixels."""


def overlap(a: Rect, b: Rect) -> bool:
    """Return True if the ``(x0, y0, x1, y1)`` rectangles share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def regions_around(seeds: Sequence[Face], width: int, height: int,
                   roi_scale: float) -> List[Tuple[Rect, float, float]]:
    """Return ``(region, smallest face width, largest face width)`` for the faces ``seeds``."""
    groups: List[Tuple[Rect, float, float]] = []
    for face in seeds:
        cu, cv = face.center
        half_w = face.w * roi_scale / 2.0
        half_h = face.h * roi_scale / 2.0
        rect = (max(0, int(cu - half_w)), max(0, int(cv - half_h)),
                min(width, int(np.ceil(cu + half_w))), min(height, int(np.ceil(cv + half_h))))
        if rect[2] - rect[0] < 2 or rect[3] - rect[1] < 2:
            continue
        groups.append((rect, face.w, face.w))
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                (a, a_min, a_max), (b, b_min, b_max) = groups[i], groups[j]
                if overlap(a, b):
                    union = (min(a[0], b[0]), min(a[1], b[1]),
                             max(a[2], b[2]), max(a[3], b[3]))
                    groups[i] = (union, min(a_min, b_min), max(a_max, b_max))
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups
