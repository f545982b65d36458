# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A face search strategy cheap enough to keep a 30 fps camera fed on one core.

A full-frame Haar search of a 640x480 image costs 50-200 ms; searching near
where the faces were a frame ago costs a fraction of that.  :class:`FaceFinder`
wraps any :class:`~face_tracker_ros.detector.backends.FaceDetectorBackend` and
decides, frame by frame, where to look:

* ``full``: the whole frame, downscaled to ``detect_width`` pixels wide
  (0 = native size; frames narrower than that are never upscaled).
* ``roi``: when the previous call found faces, only a region of interest
  around each of them (up to four, the largest): the face box grown by
  ``roi_scale`` about its centre and clipped to the image.  Overlapping regions
  are merged.  A region is downscaled so that its smallest remembered face is
  about ``roi_face_px`` wide (searched at native size when that face is at most
  :data:`ROI_NATIVE_SLACK` times that: never upscaled), which keeps the cost
  independent of how close the person stands, and the backend is asked only
  for faces of ``roi_size_band`` times the remembered sizes (from the low
  factor times the smallest to the high factor times the largest): Haar then
  scans a handful of window sizes instead of the whole pyramid.  A box
  touching an edge of its region (other than the image border) is taken for a
  face cut off by the region and ignored.

When the ``roi`` search finds nothing the same frame is searched ``full``
again, and after ``full_search_every - 1`` consecutive ``roi`` frames the next
frame is searched ``full`` anyway, so a new face elsewhere in the picture (for
instance a second, larger one) is found within ``full_search_every`` frames;
so is a face that changed size beyond the band in one frame.

A full search uses the backend's own minimum face size, in pixels of the image
it is handed: with ``detect_width`` 320 on a 640 px camera, a Haar
``min_size_px`` of 20 means a face must be about 40 px wide in the camera image
to be found by the downscaled search.  So that this does not hide small faces,
``min_face_px`` (camera pixels, 0 = off) adds a second pass: when the downscaled
search finds nothing, the frame is searched at native size for the faces the
first pass could not see (from ``min_face_px`` up to twice the
smallest face the first pass finds), which is cheap next to a full native
search because only small window sizes are scanned; it runs on at most one
frame in :data:`SMALL_SEARCH_EVERY` (a costly search while nothing is followed
would otherwise take every frame).  A region search sets its
own size band instead (Haar cannot go under its 20-24 px window, so
``roi_face_px`` is at least 24).

:meth:`FaceFinder.find` takes an optional ``focus``, the face being followed:
it always gets a region of its own, and :meth:`FaceFinder.search_full` lets the
caller search the whole frame when a region search did not find it.
"""

import math
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from face_tracker_ros.common.checks import is_number
from face_tracker_ros.detector.face import (
    Face,
    FaceDetectorBackend,
    REFIND_SCORE,
    takes_keyword,
    takes_size_band,
)
from face_tracker_ros.detector.regions import regions_around

MAX_ROIS = 4
"""How many faces of the previous frame get a region of interest."""

DEFAULT_ROI_FACE_PX = 48.0
"""Default width, in pixels, a remembered face is scaled to in a region search."""

DEFAULT_ROI_SIZE_BAND = (0.7, 1.6)
"""Default size band of a region search, in multiples of the remembered face width."""

ROI_FACE_PX_RANGE = (24.0, 256.0)
"""Allowed ``roi_face_px``: 24 px is the Haar cascade's window."""

ROI_NATIVE_SLACK = 1.2
"""A region is searched at native size if its smallest face is <= this x ``roi_face_px``."""

_EDGE_PX = 1.0

SMALL_SEARCH_EVERY = 5
"""The native-size search for small faces runs on at most one frame in this many."""

SMALL_PASS_OVERLAP = 2.0
"""The native-size pass looks for faces up to this times the smallest the first pass finds."""

NEAR_FACE_PX = 128.0
"""A search where the followed face was scales a larger face down to this width."""

YUNET_MIN_INPUT_FACE_PX = 10.0
"""About the smallest face YuNet finds, in pixels of its input."""


def _is_image(image: object) -> bool:
    """Return True if ``image`` is a non-empty uint8 mono, BGR or BGRA array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        return False
    if image.ndim == 2:
        return True
    return image.ndim == 3 and image.shape[2] in (1, 3, 4)


def _is_box(face: Face) -> bool:
    """Return True if ``face`` has a finite position and a positive, finite size."""
    values = (face.x, face.y, face.w, face.h)
    return all(math.isfinite(v) for v in values) and face.w > 0.0 and face.h > 0.0


def _resize(image: np.ndarray, scale: float) -> Tuple[np.ndarray, float, float]:
    """Downscale ``image`` by ``scale`` (< 1); return it and the x/y factors back."""
    height, width = image.shape[:2]
    new_w = max(1, int(round(width * scale)))
    new_h = max(1, int(round(height * scale)))
    small = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return small, width / float(new_w), height / float(new_h)


def _check_band(value: object) -> Tuple[float, float]:
    """Return ``roi_size_band`` as ``(low, high)`` or raise ValueError naming it."""
    items: Optional[list] = None
    if not isinstance(value, (str, bytes)):
        try:
            items = list(value)  # type: ignore[call-overload]
        except TypeError:
            items = None
    if items is None or len(items) != 2 or not all(is_number(v) for v in items) \
            or not 0.1 <= float(items[0]) <= 1.0 <= float(items[1]) <= 10.0:
        raise ValueError(
            'roi_size_band must be two numbers (low, high) with 0.1 <= low <= 1.0 <= high '
            f'<= 10.0, got {value!r}')
    return float(items[0]), float(items[1])


def _box_overlap(a: Face, b: Face) -> bool:
    """Return True if two face boxes overlap by more than a third of the smaller one."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy > min(a.area, b.area) / 3.0


class FaceFinder:
    """Find faces in a stream of frames, searching near the last faces when it can.

    See the module docstring for the strategy.  :attr:`last_mode` tells which
    search produced the latest result (``'full'`` or ``'roi'``).

    ``roi_face_px`` (a number in [24, 256], default 48) is the width in pixels
    a remembered face is scaled to in a region search; ``roi_size_band``
    (``(low, high)``, ``0.1 <= low <= 1 <= high <= 10``, default (0.7, 1.6))
    the face widths a region search accepts, in multiples of the remembered
    width.  Below 48 px Haar begins to miss faces it found the frame before
    (each miss costs a full search) and YuNet's boxes get less accurate.
    """

    def __init__(self, backend: FaceDetectorBackend, detect_width: int = 320,
                 roi_search: bool = True, roi_scale: float = 2.5,
                 full_search_every: int = 15, roi_face_px: float = DEFAULT_ROI_FACE_PX,
                 roi_size_band: Iterable[float] = DEFAULT_ROI_SIZE_BAND,
                 min_face_px: float = 0.0) -> None:
        if not callable(getattr(backend, 'detect', None)):
            raise ValueError(
                f'backend must be a FaceDetectorBackend (an object with detect()), '
                f'got {backend!r}')
        if isinstance(detect_width, bool) or not isinstance(detect_width, (int, np.integer)) \
                or not (detect_width == 0 or 32 <= detect_width <= 10000):
            raise ValueError(
                f'detect_width must be 0 (native size) or an integer in [32, 10000], '
                f'got {detect_width!r}')
        if not isinstance(roi_search, (bool, np.bool_)):
            raise ValueError(f'roi_search must be True or False, got {roi_search!r}')
        if not is_number(roi_scale) or not 1.5 <= float(roi_scale) <= 10.0:
            raise ValueError(f'roi_scale must be in [1.5, 10.0], got {roi_scale!r}')
        if isinstance(full_search_every, bool) \
                or not isinstance(full_search_every, (int, np.integer)) \
                or full_search_every < 1:
            raise ValueError(
                f'full_search_every must be an integer >= 1, got {full_search_every!r}')
        low, high = ROI_FACE_PX_RANGE
        if not is_number(roi_face_px) or not low <= float(roi_face_px) <= high:
            raise ValueError(
                f'roi_face_px must be a number of pixels in [{low:g}, {high:g}], '
                f'got {roi_face_px!r}')
        if not is_number(min_face_px) or not (float(min_face_px) == 0.0
                                              or 8.0 <= float(min_face_px) <= 2000.0):
            raise ValueError(
                f'min_face_px must be 0 (off) or a number of pixels in [8, 2000], '
                f'got {min_face_px!r}')
        self.min_face_px = float(min_face_px)
        self.backend = backend
        self.detect_width = int(detect_width)
        self.roi_search = bool(roi_search)
        self.roi_scale = float(roi_scale)
        self.full_search_every = int(full_search_every)
        self.roi_face_px = float(roi_face_px)
        self.roi_size_band = _check_band(roi_size_band)
        self.last_mode = 'full'
        self._previous: List[Face] = []
        self._roi_run = 0
        self._since_small = SMALL_SEARCH_EVERY
        self._sized_detect = takes_size_band(backend)
        self._scored_detect = self._sized_detect and takes_keyword(backend, 'min_score')

    def reset(self) -> None:
        """Forget the previous faces, so the next call searches the full frame."""
        self._previous = []
        self._roi_run = 0
        self.last_mode = 'full'

    def find(self, image: np.ndarray, focus: Optional[Face] = None) -> List[Face]:
        """Return the faces in ``image`` in its pixel coordinates, largest first.

        ``image`` is a BGR (or mono8/BGRA) uint8 array; anything else yields an
        empty list, counts as a ``full`` search and forgets the previous faces.
        ``focus`` (the face being followed, if any) always gets a search region.
        """
        if not _is_image(image):
            self.reset()
            return []
        self._since_small += 1
        faces: Optional[List[Face]] = None
        seeds = list(self._previous)
        if focus is not None and _is_box(focus):
            seeds = [focus] + [f for f in seeds if f is not focus][:MAX_ROIS - 1]
        if self.roi_search and seeds and self._roi_run < self.full_search_every - 1:
            faces = self._search_rois(image, seeds)
            if faces:
                self._roi_run += 1
                self.last_mode = 'roi'
        if not faces:
            return self.search_full(image)
        return self._remember(faces)

    def search_full(self, image: np.ndarray, also: Sequence[Face] = ()) -> List[Face]:
        """Search the whole frame now; return its faces plus those of ``also`` it missed.

        ``also`` are faces already found in this frame (by a region search): a
        full search at reduced size may miss a small one, so each is kept unless
        a full-search box overlaps it.
        """
        if not _is_image(image):
            self.reset()
            return []
        faces = self._search_full(image)
        for face in also:
            if not any(_box_overlap(face, f) for f in faces):
                faces.append(face)
        self._roi_run = 0
        self.last_mode = 'full'
        return self._remember(faces)

    def search_small(self, image: np.ndarray, also: Sequence[Face] = ()) -> List[Face]:
        """Search the whole frame at native size for the faces too small for a full search.

        Only faces from ``min_face_px`` up to a little above the smallest face the
        downscaled full search finds are looked for (nothing when ``min_face_px``
        is 0 or the full search is not downscaled).  Returns ``also`` plus the
        faces found that do not overlap one of them.  For a frame where no face
        is followed: small faces are then found even when the downscaled search
        found something else (a false box, or only larger faces).
        """
        faces = list(also)
        if not _is_image(image) or not self.min_face_px \
                or self._since_small < SMALL_SEARCH_EVERY:
            return faces
        width = image.shape[1]
        if not (self.detect_width and width > self.detect_width):
            return faces
        smallest_seen = self._smallest_input_face() * width / float(self.detect_width)
        if smallest_seen <= self.min_face_px:
            return faces
        self._since_small = 0
        for face in self._detect(image, min_size=self.min_face_px,
                                 max_size=smallest_seen * SMALL_PASS_OVERLAP):
            if not any(_box_overlap(face, f) for f in faces):
                faces.append(face)
        return self._remember(faces)

    def search_near(self, image: np.ndarray, face: Face) -> List[Face]:
        """Search closely where ``face`` (the followed one) was, for a face it may have become.

        The region around it is searched at native size (or with the face at
        :data:`NEAR_FACE_PX` when larger), for faces of a wide size band, and a
        backend that scores its faces accepts its lower re-find confidence
        (``min_score`` :data:`~face_tracker_ros.detector.backends.REFIND_SCORE`).
        Costlier than a region search; meant for a frame where the followed
        face was not found otherwise.  The previous faces are left as they are.
        """
        if not _is_image(image) or not _is_box(face):
            return []
        height, width = image.shape[:2]
        cu, cv = face.center
        half_w = face.w * self.roi_scale / 2.0
        half_h = face.h * self.roi_scale / 2.0
        x0, y0 = max(0, int(cu - half_w)), max(0, int(cv - half_h))
        x1 = min(width, int(np.ceil(cu + half_w)))
        y1 = min(height, int(np.ceil(cv + half_h)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        crop = image[y0:y1, x0:x1]
        fx = fy = 1.0
        if face.w > NEAR_FACE_PX:
            crop, fx, fy = _resize(crop, NEAR_FACE_PX / face.w)
        low, high = 0.5 * face.w / fx, 2.0 * face.w / fx
        if self._scored_detect:
            found = self.backend.detect(crop, min_size=low, max_size=high,
                                        min_score=REFIND_SCORE)
        elif callable(getattr(self.backend, 'detect_near', None)):
            found = [f for f in self.backend.detect_near(crop, min_size=low, max_size=high)
                     if _is_box(f)]
        else:
            found = self._detect(crop, min_size=low, max_size=high)
        return [Face(x0 + f.x * fx, y0 + f.y * fy, f.w * fx, f.h * fy, f.score)
                for f in found if _is_box(f)]

    def _remember(self, faces: List[Face]) -> List[Face]:
        faces.sort(key=lambda face: face.area, reverse=True)
        self._previous = faces[:MAX_ROIS]
        return faces

    def _search_full(self, image: np.ndarray) -> List[Face]:
        """Search the whole frame, downscaled to ``detect_width``, then small faces natively."""
        width = image.shape[1]
        if not (self.detect_width and width > self.detect_width):
            return self._detect(image, min_size=self.min_face_px or None) \
                if self.min_face_px else self._detect(image)
        small, fx, fy = _resize(image, self.detect_width / float(width))
        faces = [Face(f.x * fx, f.y * fy, f.w * fx, f.h * fy, f.score)
                 for f in self._detect(small)]
        if faces or not self.min_face_px or self._since_small < SMALL_SEARCH_EVERY:
            return faces
        # Nothing at reduced size: look natively for the faces it could not see.
        smallest_seen = self._smallest_input_face() * fx
        if smallest_seen <= self.min_face_px:
            return faces
        self._since_small = 0
        return self._detect(image, min_size=self.min_face_px,
                            max_size=smallest_seen * SMALL_PASS_OVERLAP)

    def _smallest_input_face(self) -> float:
        """Return about the smallest face width the backend finds, in its input's pixels."""
        window = getattr(self.backend, 'window_px', None)
        if isinstance(window, (int, float)):
            return float(max(window, getattr(self.backend, 'min_size_px', 0) or 0))
        return YUNET_MIN_INPUT_FACE_PX

    def _detect(self, image: np.ndarray, min_size: Optional[float] = None,
                max_size: Optional[float] = None) -> List[Face]:
        """Run the backend and drop any box that is not finite and non-empty.

        A size band is handed to a backend that takes one; for one whose
        ``detect`` only takes the image, its results are filtered by width.
        """
        if min_size is None and max_size is None:
            found = self.backend.detect(image)
        elif self._sized_detect:
            found = self.backend.detect(image, min_size=min_size, max_size=max_size)
        else:
            found = [f for f in self.backend.detect(image)
                     if (min_size is None or f.w >= min_size)
                     and (max_size is None or f.w <= max_size)]
        return [f for f in found if _is_box(f)]

    def _search_rois(self, image: np.ndarray, seeds: Sequence[Face]) -> List[Face]:
        """Search regions grown around ``seeds`` and return what they contain."""
        height, width = image.shape[:2]
        groups = regions_around(seeds, width, height, self.roi_scale)
        band_low, band_high = self.roi_size_band
        found: List[Face] = []
        for (x0, y0, x1, y1), smallest, largest in groups:
            crop = image[y0:y1, x0:x1]
            fx = fy = 1.0
            if smallest > self.roi_face_px * ROI_NATIVE_SLACK:
                crop, fx, fy = _resize(crop, self.roi_face_px / smallest)
            crop_h, crop_w = crop.shape[:2]
            faces = self._detect(crop, min_size=band_low * smallest / fx,
                                 max_size=band_high * largest / fx)
            for f in faces:
                # A box touching a region edge inside the image is most likely a face
                # cut by the region: drop it, and let a full search find the whole face.
                if (x0 > 0 and f.x <= _EDGE_PX) or (y0 > 0 and f.y <= _EDGE_PX) \
                        or (x1 < width and f.x + f.w >= crop_w - _EDGE_PX) \
                        or (y1 < height and f.y + f.h >= crop_h - _EDGE_PX):
                    continue
                found.append(Face(x0 + f.x * fx, y0 + f.y * fy, f.w * fx, f.h * fy, f.score))
        return found
