# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A detected face (:class:`Face`), the backend interface and the helpers every backend shares.

See :mod:`face_tracker_ros.detector.backends` for what a backend promises.
"""

import abc
import dataclasses
import inspect
from typing import List, Optional, Tuple

import cv2
import numpy as np

from face_tracker_ros.common.checks import is_number

REFIND_SCORE = 0.5
"""YuNet confidence accepted when a face already followed is searched for where it was
(``detect(..., min_score=REFIND_SCORE)``); new faces need ``score_threshold``."""


@dataclasses.dataclass(frozen=True)
class Face:
    """A detected face: a box in full-image pixel coordinates and a confidence."""

    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    @property
    def center(self) -> Tuple[float, float]:
        """Return the box centre ``(u, v)`` in pixels."""
        return self.x + self.w / 2.0, self.y + self.h / 2.0

    @property
    def area(self) -> float:
        """Return the box area in square pixels."""
        return self.w * self.h


def size_band(min_size: object, max_size: object) -> Tuple[Optional[float], Optional[float]]:
    """Return the ``detect`` size limits as floats (None: unlimited), or raise ValueError."""
    limits = []
    for name, value in (('min_size', min_size), ('max_size', max_size)):
        if value is not None and (not is_number(value) or float(value) <= 0.0):
            raise ValueError(f'{name} must be None or a finite number of pixels > 0, '
                             f'got {value!r}')
        limits.append(None if value is None else float(value))
    return limits[0], limits[1]


def in_band(width: float, min_size: Optional[float], max_size: Optional[float]) -> bool:
    """Return True if a face ``width`` pixels wide lies within the size limits."""
    return (min_size is None or width >= min_size) and (max_size is None or width <= max_size)


def as_bgr(image: object) -> Optional[np.ndarray]:
    """Return ``image`` as a 3-channel BGR uint8 array, or None if it is not an image."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim != 3:
        return None
    channels = image.shape[2]
    if channels == 3:
        return np.ascontiguousarray(image)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    return None


def as_gray(image: object) -> Optional[np.ndarray]:
    """Return ``image`` as a single-channel uint8 array, or None if it is not an image."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        return None
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim != 3:
        return None
    channels = image.shape[2]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if channels == 1:
        return np.ascontiguousarray(image[:, :, 0])
    return None


class FaceDetectorBackend(abc.ABC):
    """A face detector: one image in, the faces it contains out."""

    name: str = ''

    @abc.abstractmethod
    def detect(self, image: np.ndarray, min_size: Optional[float] = None,
               max_size: Optional[float] = None) -> List[Face]:
        """Return the faces in a BGR (or mono8) uint8 image, in that image's pixels.

        Only faces from ``min_size`` to ``max_size`` pixels wide are returned
        (``None``: no limit on that side beyond the backend's own; a band with
        ``min_size > max_size`` finds nothing).  A malformed image yields an
        empty list instead of an exception; a size that is not ``None`` or a
        positive finite number raises ValueError naming it.
        """


def takes_size_band(backend: object) -> bool:
    """Return True if ``backend.detect`` accepts ``min_size`` and ``max_size`` keywords."""
    try:
        parameters = inspect.signature(backend.detect).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return True
    return all(name in parameters and parameters[name].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        for name in ('min_size', 'max_size'))


def takes_keyword(backend: object, name: str) -> bool:
    """Return True if ``backend.detect`` takes the keyword argument ``name``."""
    try:
        parameters = inspect.signature(backend.detect).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    return name in parameters and parameters[name].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
