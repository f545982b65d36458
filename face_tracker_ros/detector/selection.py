# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which face the camera follows when several are visible.

The policy of :class:`TargetSelector`, applied once per frame:

1. No faces: there is no target, and the current target is forgotten.
2. With a current target, take the detected face whose centre is nearest to
   the current target's centre.  Keep following it if it is a plausible
   continuation of the target: its centre moved at most ``max_jump`` times the
   current target's width, and its width is within a factor ``size_ratio`` of
   the current target's width (both ways).
3. Otherwise (no current target, or the nearest face is implausible) the
   largest face (by box area) becomes the target.

So the camera stays on the person it follows even while a bigger face appears
elsewhere, and moves on only when that person leaves the picture (or the
detector loses them for a frame) or the box jumps further than a person moves
between frames.
"""

import math
from typing import Iterable, List, Optional

from face_tracker_ros.detector.backends import Face


def _usable(face: object) -> bool:
    """Return True if ``face`` is a Face with a finite, non-empty box."""
    if not isinstance(face, Face):
        return False
    values = (face.x, face.y, face.w, face.h)
    try:
        return all(math.isfinite(v) for v in values) and face.w > 0 and face.h > 0
    except TypeError:
        return False


class TargetSelector:
    """Choose the face to follow from each frame's detections (policy above)."""

    def __init__(self, max_jump: float = 1.0, size_ratio: float = 2.0) -> None:
        if not self._finite_number(max_jump) or not max_jump > 0.0:
            raise ValueError(f'max_jump must be a finite number > 0, got {max_jump!r}')
        if not self._finite_number(size_ratio) or not size_ratio >= 1.0:
            raise ValueError(f'size_ratio must be a finite number >= 1.0, got {size_ratio!r}')
        self.max_jump = float(max_jump)
        self.size_ratio = float(size_ratio)
        self._current: Optional[Face] = None

    @staticmethod
    def _finite_number(value: object) -> bool:
        """Return True if ``value`` is a real, finite number (not a bool)."""
        if isinstance(value, bool):
            return False
        try:
            return math.isfinite(float(value))
        except (TypeError, ValueError):
            return False

    @property
    def current(self) -> Optional[Face]:
        """Return the face chosen by the last call, or None."""
        return self._current

    def reset(self) -> None:
        """Forget the current target."""
        self._current = None

    def choose(self, faces: Optional[Iterable[Face]]) -> Optional[Face]:
        """Return the face to follow among ``faces`` and remember it as the target.

        Entries that are not :class:`Face` boxes with finite, positive sizes are
        ignored; ``None`` or anything not iterable counts as no faces.
        """
        candidates: List[Face] = []
        if faces is not None:
            try:
                candidates = [f for f in faces if _usable(f)]
            except TypeError:
                candidates = []
        if not candidates:
            self._current = None
            return None
        current = self._current
        if current is not None:
            cu, cv = current.center
            nearest = min(candidates,
                          key=lambda f: math.hypot(f.center[0] - cu, f.center[1] - cv))
            jump = math.hypot(nearest.center[0] - cu, nearest.center[1] - cv)
            ratio = nearest.w / current.w
            if jump <= self.max_jump * current.w \
                    and 1.0 / self.size_ratio <= ratio <= self.size_ratio:
                self._current = nearest
                return nearest
        self._current = max(candidates, key=lambda f: f.area)
        return self._current
