# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Face detection backends: OpenCV Haar cascades and the YuNet CNN.

Every backend takes a BGR ``uint8`` image (``H x W x 3``), a BGRA image
(``H x W x 4``) or a mono8 image (``H x W`` or ``H x W x 1``) and returns the
faces it found as :class:`Face` boxes in pixel coordinates of that same image.
``detect`` never raises on a malformed frame (``None``, empty, wrong dtype or
shape): it returns an empty list, so one bad frame cannot stop a node.

``detect(image, min_size=None, max_size=None)`` can be limited to a band of
face widths, in pixels of the image handed to it: Haar then only scans window
sizes inside the band (far cheaper when the band is narrow), so its boxes lie
in the band, though a face a little larger than ``max_size`` may still be
found with a box narrower than the face; YuNet runs as usual and drops the
boxes outside the band.  ``None`` leaves that side unlimited (for Haar: its
``min_size_px`` below, no limit above).

``haar`` needs no model file but is slow and misses turned faces (it can add
OpenCV's profile cascade, searched in both directions, where the frontal one
finds nothing); ``yunet`` (``cv2.FaceDetectorYN``) needs a YuNet ONNX model from
the OpenCV model zoo (see :mod:`face_tracker_ros.detector.models`: the 2023mar
model needs OpenCV >= 4.8, the 2022mar one runs on 4.5.4-4.7) and is both faster
and far more accurate.  The project never ships the model; its path is a
parameter, and ``face_tracker_get_model`` downloads it.

Haar cascades are looked for in ``cv2.data.haarcascades`` (the pip wheels) and
then where distributions install them (Debian and Ubuntu: package
``opencv-data``, :data:`CASCADE_DIRS`).
"""

from typing import Dict, Type

from face_tracker_ros.detector.face import Face, FaceDetectorBackend, REFIND_SCORE
from face_tracker_ros.detector.haar import (
    CASCADE_DIRS,
    DEFAULT_HAAR_CASCADE,
    find_cascade,
    HaarBackend,
    NEAR_ROLL_DEG,
    PROFILE_HAAR_CASCADE,
    PROFILE_MAX_PIXELS,
)
from face_tracker_ros.detector.models import sha256_of
from face_tracker_ros.detector.yunet import KNOWN_MODEL_SHA256, YuNetBackend

__all__ = ['BACKENDS', 'CASCADE_DIRS', 'DEFAULT_HAAR_CASCADE', 'Face', 'FaceDetectorBackend',
           'find_cascade', 'HaarBackend', 'KNOWN_MODEL_SHA256', 'make_backend', 'NEAR_ROLL_DEG',
           'PROFILE_HAAR_CASCADE', 'PROFILE_MAX_PIXELS', 'REFIND_SCORE', 'sha256_of',
           'YuNetBackend']

BACKENDS = ('haar', 'yunet')

_CLASSES: Dict[str, Type[FaceDetectorBackend]] = {'haar': HaarBackend, 'yunet': YuNetBackend}


def make_backend(name: str, **params: object) -> FaceDetectorBackend:
    """Build the backend called ``name`` (one of :data:`BACKENDS`) with ``params``.

    Raises ValueError naming ``backend`` for an unknown name, and for parameters
    the backend does not take (Python's own message, which names them).
    """
    if name not in _CLASSES:
        raise ValueError(
            f'backend must be one of {", ".join(repr(b) for b in BACKENDS)}, got {name!r}')
    try:
        return _CLASSES[name](**params)
    except TypeError as exc:
        raise ValueError(f'backend {name!r}: {exc}') from None
