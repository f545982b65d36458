# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A labelled face / non-face set from scikit-image's offline data, for tests and benchmarks."""

from typing import List, Tuple

import cv2
import numpy as np


def lfw_canvases() -> List[Tuple[bool, np.ndarray]]:
    """Return ``(is_face, 160x160 mono8 canvas)`` for the 200 labelled LFW crops.

    ``skimage.data.lfw_subset()`` holds 100 face crops then 100 non-faces, 25x25
    (public photographs shipped with scikit-image).  Each is upscaled to 100x100
    and pasted in the middle of a neutral grey canvas, so a hit must be centred
    in the square [30, 130).
    """
    import skimage.data

    canvases = []
    for index, crop in enumerate(skimage.data.lfw_subset()):
        patch = cv2.resize(np.round(crop * 255.0).astype(np.uint8), (100, 100),
                           interpolation=cv2.INTER_CUBIC)
        canvas = np.full((160, 160), 128, np.uint8)
        canvas[30:130, 30:130] = patch
        canvases.append((index < 100, canvas))
    return canvases
