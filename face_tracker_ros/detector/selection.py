# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which face the camera follows when several are visible: one person, followed.

:class:`TargetSelector` keeps every face it sees on a short-lived *track*
(linked frame to frame by position and size) and follows one of them, the
target.  Each frame (``choose(faces, t, image)``):

1. The target's track is looked for among the faces: the nearest face whose
   centre moved at most ``max_jump`` target widths per frame (at 30 frames per
   second) since the target was last seen (so the allowance grows with each
   frame missed or the time between frames, up to four times), whose width
   is within a factor ``size_ratio`` of the target's, and, after a gap or a
   move of more than :data:`LOOK_CHECK_JUMP` of its width (where a false box
   near the face is likelier than the face itself), whose appearance (a
   hue/saturation histogram of the face, when the image is given) is similar
   enough.  If found, it is the target.
2. If not, the target is *missing*: nothing is returned for this frame, but the
   person is kept.  A face that comes back within ``switch_after_s`` seconds
   where the target could be is the target again.
3. Only when the target has been missing for ``switch_after_s`` seconds (or
   there is no target, or it was last seen cut by the image border: it left
   the picture) does a new face become the target, chosen by
   ``policy``: ``'largest'`` (box area), ``'centre'`` (nearest to the image
   centre; needs the image) or ``'longest'`` (the face seen for the longest
   time).  Every acquisition, switch and loss is recorded as an event with its
   reason (:meth:`TargetSelector.pop_events`), for the node to log.

A caller that searches only near the last faces should make sure the target
was searched for in the whole frame before it reports it missing
(:meth:`TargetSelector.match` tells whether a set of faces holds it).
"""

import dataclasses
import math
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from face_tracker_ros.common.checks import (
    check_choice,
    check_number,
    check_positive,
    is_number,
)
from face_tracker_ros.detector.face import Face

POLICIES = ('largest', 'centre', 'longest')
"""How a new target is chosen among the faces in view."""

NOMINAL_FPS = 30.0
"""Frame rate assumed for the time of a frame when the caller gives none."""

MAX_GATE_GROWTH = 4.0
"""The distance allowance of a missing target grows per missed frame up to this factor."""

LOOK_CHECK_JUMP = 0.5
"""A face whose centre moved more than this many target widths must also look like the target."""

_HIST_BINS = (16, 8)


def _usable(face: object) -> bool:
    """Return True if ``face`` is a Face with a finite, non-empty box."""
    if not isinstance(face, Face):
        return False
    values = (face.x, face.y, face.w, face.h)
    try:
        return all(math.isfinite(v) for v in values) and face.w > 0 and face.h > 0
    except TypeError:
        return False


def appearance(image: Optional[np.ndarray], face: Face) -> Optional[np.ndarray]:
    """Return a normalised hue/saturation histogram of the face's inner box, or None."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        return None
    import cv2
    height, width = image.shape[:2]
    # The inner half of the box: skin, not the background or hair around it.
    x0 = int(max(0, face.x + face.w * 0.25))
    y0 = int(max(0, face.y + face.h * 0.25))
    x1 = int(min(width, face.x + face.w * 0.75))
    y1 = int(min(height, face.y + face.h * 0.75))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(_HIST_BINS), [0, 180, 0, 256])
    total = float(hist.sum())
    return hist / total if total > 0 else None


def similarity(a: Optional[np.ndarray], b: Optional[np.ndarray]) -> float:
    """Return how alike two appearance histograms are, in [0, 1] (1 when either is None)."""
    if a is None or b is None:
        return 1.0
    return float(np.minimum(a, b).sum())


@dataclasses.dataclass
class _Track:
    ident: int
    face: Face
    first_seen: float
    last_seen: float
    misses: int = 0
    look: Optional[np.ndarray] = None
    at_border: bool = False
    hits: int = 1


class TargetSelector:
    """Choose the face to follow from each frame's detections (policy above)."""

    def __init__(self, max_jump: float = 1.0, size_ratio: float = 2.0,
                 switch_after_s: float = 0.0, policy: str = 'largest',
                 min_similarity: float = 0.4) -> None:
        self.max_jump = check_positive('max_jump', max_jump)
        self.size_ratio = check_number('size_ratio', size_ratio, low=1.0)
        self.switch_after_s = check_positive('switch_after_s', switch_after_s, unit='seconds',
                                             allow_zero=True)
        self.policy = check_choice('policy', policy, POLICIES)
        self.min_similarity = check_number('min_similarity', min_similarity, 0.0, 1.0)
        self._tracks: List[_Track] = []
        self._target: Optional[_Track] = None
        self._current: Optional[Face] = None
        self._next_id = 0
        self._frames = 0
        self._events: List[str] = []
        self.switches = 0

    @property
    def current(self) -> Optional[Face]:
        """Return the face chosen by the last call, or None."""
        return self._current

    @property
    def target(self) -> Optional[Face]:
        """Return the followed face as last seen (also while it is missing), or None."""
        return self._target.face if self._target is not None else None

    @property
    def target_id(self) -> Optional[int]:
        """Return the followed person's track number, or None."""
        return self._target.ident if self._target is not None else None

    @property
    def target_hits(self) -> int:
        """Return in how many frames the followed face has been seen."""
        return self._target.hits if self._target is not None else 0

    @property
    def missing_frames(self) -> int:
        """Return for how many frames in a row the target has not been seen."""
        return self._target.misses if self._target is not None else 0

    def pop_events(self) -> List[str]:
        """Return (and forget) the acquisitions, switches and losses since the last call."""
        events, self._events = self._events, []
        return events

    def reset(self) -> None:
        """Forget the target and every track."""
        self._tracks = []
        self._target = None
        self._current = None

    def _gate(self, track: _Track, face: Face, now: float) -> Optional[float]:
        """Return the cost of ``face`` continuing ``track``, or None if it cannot."""
        ref = track.face
        ratio = face.w / ref.w
        if not 1.0 / self.size_ratio <= ratio <= self.size_ratio:
            return None
        jump = math.hypot(face.center[0] - ref.center[0], face.center[1] - ref.center[1])
        # max_jump is per frame at the nominal rate: frames missed, or processed further
        # apart (a busy computer), allow more, up to MAX_GATE_GROWTH times.
        frames = max(1.0 + track.misses, (now - track.last_seen) * NOMINAL_FPS)
        allowance = self.max_jump * ref.w * min(MAX_GATE_GROWTH, frames)
        if jump > allowance:
            return None
        return jump / (ref.w * self.max_jump) + abs(math.log(ratio))

    def _target_match(self, faces: Sequence[Face], image: Optional[np.ndarray], now: float
                      ) -> Tuple[Optional[Face], Optional[np.ndarray]]:
        track = self._target
        if track is None:
            return None, None
        best: Optional[Tuple[float, Face, Optional[np.ndarray]]] = None
        for face in faces:
            cost = self._gate(track, face, now)
            if cost is None:
                continue
            look = None
            jump = math.hypot(face.center[0] - track.face.center[0],
                              face.center[1] - track.face.center[1])
            if track.look is not None and (track.misses > 0
                                           or jump > LOOK_CHECK_JUMP * track.face.w):
                look = appearance(image, face)
                alike = similarity(track.look, look)
                if alike < self.min_similarity:
                    continue
                cost += 1.0 - alike
            if best is None or cost < best[0]:
                best = (cost, face, look)
        return (best[1], best[2]) if best is not None else (None, None)

    def match(self, faces: Optional[Iterable[Face]], image: Optional[np.ndarray] = None,
              t: Optional[float] = None) -> Optional[Face]:
        """Return the face among ``faces`` that continues the target, or None (no change)."""
        now = float(t) if is_number(t) else (self._frames + 1) / NOMINAL_FPS
        return self._target_match(self._candidates(faces), image, now)[0]

    @staticmethod
    def _candidates(faces: Optional[Iterable[Face]]) -> List[Face]:
        if faces is None:
            return []
        try:
            return [f for f in faces if _usable(f)]
        except TypeError:
            return []

    def choose(self, faces: Optional[Iterable[Face]], t: Optional[float] = None,
               image: Optional[np.ndarray] = None) -> Optional[Face]:
        """Return the face to follow in this frame, or None, and update the tracks.

        ``t`` is the frame's time in seconds (default: frames counted at
        :data:`NOMINAL_FPS`); ``image`` (BGR) enables the appearance check and
        the ``'centre'`` policy.  Entries that are not :class:`Face` boxes with
        finite, positive sizes are ignored; ``None`` or anything not iterable
        counts as no faces.
        """
        self._frames += 1
        now = float(t) if is_number(t) else self._frames / NOMINAL_FPS
        candidates = self._candidates(faces)
        found, look = self._target_match(candidates, image, now)
        rest = [f for f in candidates if f is not found]
        self._update_tracks(rest, now, image)
        target = self._target
        if target is not None and found is not None:
            target.face = found
            target.last_seen = now
            target.misses = 0
            target.hits += 1
            target.look = _blend(target.look, look if look is not None
                                 else appearance(image, found))
            target.at_border = at_border(found, image)
            self._current = found
            return found
        self._current = None
        if target is not None:
            target.misses += 1
            gone = now - target.last_seen
            if gone < self.switch_after_s and not target.at_border:
                return None
            self._target = None
            reason = ('the followed face left the picture at its border' if target.at_border
                      else f'the followed face was not seen for {gone:.1f} s '
                      f'(switch_after_s {self.switch_after_s:g})')
            if not rest:
                self._events.append(f'target lost: {reason}')
                return None
        else:
            reason = 'no face was followed'
        if not rest:
            return None
        chosen = self._pick(rest, image)
        track = next(tr for tr in self._tracks if tr.face is chosen)
        if track.look is None:
            track.look = appearance(image, chosen)
        verb = 'switched to' if target is not None else 'acquired'
        if target is not None:
            self.switches += 1
        self._events.append(
            f'target {verb} the face at ({chosen.center[0]:.0f}, {chosen.center[1]:.0f}) '
            f'{chosen.w:.0f} px wide, by policy {self.policy!r}: {reason}')
        track.at_border = at_border(chosen, image)
        self._target = track
        self._current = chosen
        return chosen

    def _update_tracks(self, faces: List[Face], now: float,
                       image: Optional[np.ndarray]) -> None:
        """Link ``faces`` (the target's excluded) to the other tracks; start new ones."""
        others = [tr for tr in self._tracks if tr is not self._target]
        pairs = sorted((cost, i, j) for i, face in enumerate(faces)
                       for j, tr in enumerate(others)
                       if (cost := self._gate(tr, face, now)) is not None)
        used_faces, used_tracks = set(), set()
        for _, i, j in pairs:
            if i in used_faces or j in used_tracks:
                continue
            used_faces.add(i)
            used_tracks.add(j)
            track = others[j]
            track.face, track.last_seen, track.misses = faces[i], now, 0
            track.hits += 1
        for j, track in enumerate(others):
            if j not in used_tracks:
                track.misses += 1
        keep_s = max(self.switch_after_s, 0.5)
        self._tracks = [tr for tr in self._tracks
                        if tr is self._target or now - tr.last_seen <= keep_s]
        for i, face in enumerate(faces):
            if i not in used_faces:
                self._tracks.append(_Track(self._next_id, face, now, now))
                self._next_id += 1

    def _pick(self, faces: List[Face], image: Optional[np.ndarray]) -> Face:
        if self.policy == 'centre' and isinstance(image, np.ndarray) and image.ndim >= 2:
            cu, cv = image.shape[1] / 2.0, image.shape[0] / 2.0
            return min(faces, key=lambda f: (math.hypot(f.center[0] - cu, f.center[1] - cv),
                                             -f.area))
        if self.policy == 'longest':
            seen = {id(tr.face): tr.first_seen for tr in self._tracks}
            return min(faces, key=lambda f: (seen.get(id(f), math.inf), -f.area))
        return max(faces, key=lambda f: f.area)


def at_border(face: Face, image: Optional[np.ndarray]) -> bool:
    """Return True if ``face`` is cut by the border of ``image`` (a face leaving the picture)."""
    if not isinstance(image, np.ndarray) or image.ndim < 2:
        return False
    height, width = image.shape[:2]
    margin = 0.05 * face.w
    return face.x <= margin or face.y <= margin or face.x + face.w >= width - margin \
        or face.y + face.h >= height - margin


def _blend(old: Optional[np.ndarray], new: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """Return a slowly updated appearance (new one weighted 0.2)."""
    if old is None:
        return new
    if new is None:
        return old
    return 0.8 * old + 0.2 * new
