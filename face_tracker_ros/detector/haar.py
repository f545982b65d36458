# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The Haar backend: OpenCV's cascades (``cv2.CascadeClassifier``), frontal and profile.

Cascades are looked for in ``cv2.data.haarcascades`` (the pip wheels) and then
where distributions install them (Debian and Ubuntu: package ``opencv-data``,
:data:`CASCADE_DIRS`).
"""

import math
import os
from typing import List, Optional

import cv2
import numpy as np

from face_tracker_ros.common.checks import check_int, check_number
from face_tracker_ros.detector.face import as_gray, Face, FaceDetectorBackend, size_band

DEFAULT_HAAR_CASCADE = 'haarcascade_frontalface_alt2.xml'
"""The frontal cascade used when none is given: on real footage it finds more faces
than ``haarcascade_frontalface_default.xml`` with fewer false boxes."""

PROFILE_HAAR_CASCADE = 'haarcascade_profileface.xml'

PROFILE_MAX_PIXELS = 320 * 240
"""The profile cascade runs on searched images up to this many pixels (regions around
faces, downscaled full searches), not on native-size full frames, where it is too slow."""

NEAR_ROLL_DEG = (-20.0, 20.0, -35.0, 35.0)
"""Roll angles a Haar search near the followed face tries when upright searches fail."""

_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))

CASCADE_DIRS = ('/usr/share/opencv4/haarcascades', '/usr/share/opencv/haarcascades',
                '/usr/local/share/opencv4/haarcascades', '/usr/local/share/opencv/haarcascades')
"""Where distributions install OpenCV's cascades (Debian/Ubuntu ``opencv-data``)."""


def find_cascade(name: str) -> str:
    """Return the path of OpenCV's cascade file ``name``, or '' where this OpenCV has none.

    Looks in ``cv2.data.haarcascades`` (pip wheels), then in :data:`CASCADE_DIRS`
    (distribution packages such as Debian's and Ubuntu's ``opencv-data``).
    """
    bundled = getattr(getattr(cv2, 'data', None), 'haarcascades', '') or ''
    for directory in ([bundled] if bundled else []) + list(CASCADE_DIRS):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return ''


def _load_cascade(path: str, parameter: str) -> 'cv2.CascadeClassifier':
    cascade = cv2.CascadeClassifier()
    try:
        loaded = cascade.load(path)
    except cv2.error:
        loaded = False
    if not loaded or cascade.empty():
        raise RuntimeError(f'{parameter}: {path!r} is not a loadable Haar cascade XML file')
    return cascade


def _overlaps(a: Face, b: Face, threshold: float = 0.3) -> bool:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter > threshold * (a.area + b.area - inter)


class HaarBackend(FaceDetectorBackend):
    """Viola-Jones detector with an OpenCV Haar cascade (``cv2.CascadeClassifier``).

    ``scale_factor`` (> 1) is the pyramid step, ``min_neighbors`` (>= 0) how many
    overlapping raw hits a face needs, ``min_size_px`` (>= 1) the smallest face
    width searched for, in pixels of the image handed to :meth:`detect`, unless
    a call passes its own ``min_size`` (``min_size``/``max_size`` become the
    cascade's ``minSize``/``maxSize``; faces smaller than :attr:`window_px`, the
    cascade's window, 20 px for the default one, are never found).  Haar
    gives no confidence, so every face has ``score`` 1.0.  ``cascade_path`` ''
    means OpenCV's ``haarcascade_frontalface_alt2.xml``, found by
    :func:`find_cascade`.  With ``profile`` true, where the frontal cascade finds
    nothing, OpenCV's profile cascade searches the image and its mirror image
    (it only knows faces turned one way), in images up to
    :data:`PROFILE_MAX_PIXELS`.  Raises RuntimeError when this OpenCV
    has no ``CascadeClassifier`` (OpenCV 5) or the cascade file is missing or
    unusable, naming the package to install and the parameter to set.
    """

    name = 'haar'

    def __init__(self, cascade_path: str = '', scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size_px: int = 30, profile: bool = False) -> None:
        scale_factor = check_number('scale_factor', scale_factor, 1.0, 2.0, low_open=True)
        min_neighbors = check_int('min_neighbors', min_neighbors, 0)
        min_size_px = check_int('min_size_px', min_size_px, 1)
        if not hasattr(cv2, 'CascadeClassifier'):
            raise RuntimeError(
                f'this OpenCV ({cv2.__version__}) has no cv2.CascadeClassifier: OpenCV 5 '
                'removed Haar cascades from the main wheel; install '
                "'opencv-python-headless<5' or 'opencv-contrib-python', or use the "
                "'yunet' backend")
        if not cascade_path:
            cascade_path = find_cascade(DEFAULT_HAAR_CASCADE)
            if not cascade_path:
                raise RuntimeError(
                    f'no Haar cascade {DEFAULT_HAAR_CASCADE} found for this OpenCV '
                    f'({cv2.__version__}): install the opencv-data package (apt install '
                    "opencv-data) or set the parameter 'haar.cascade_path' to a cascade XML "
                    'file')
        if not isinstance(cascade_path, str) or not os.path.isfile(cascade_path):
            raise RuntimeError(f'cascade_path: no such file: {cascade_path!r}')
        self.cascade_path = cascade_path
        self._cascade = _load_cascade(cascade_path, 'cascade_path')
        self._profile = None
        if profile:
            profile_path = find_cascade(PROFILE_HAAR_CASCADE)
            if not profile_path:
                raise RuntimeError(
                    f'no Haar cascade {PROFILE_HAAR_CASCADE} found for this OpenCV '
                    f'({cv2.__version__}): install the opencv-data package (apt install '
                    "opencv-data) or set the parameter 'haar.profile' to false")
            self._profile = _load_cascade(profile_path, 'profile cascade')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_px = min_size_px
        window = self._cascade.getOriginalWindowSize()
        self.window_px = max(1, int(window[0]), int(window[1]))

    @property
    def profile(self) -> bool:
        """Whether the profile cascade searches where the frontal one finds nothing."""
        return self._profile is not None

    def detect(self, image: np.ndarray, min_size: Optional[float] = None,
               max_size: Optional[float] = None) -> List[Face]:
        """Return the faces in ``image``; see :class:`FaceDetectorBackend`."""
        low, high = size_band(min_size, max_size)
        gray = as_gray(image)
        if gray is None:
            return []
        # Window sizes are whole pixels: the band's smallest and largest whole widths.
        min_px = max(self.window_px, self.min_size_px if low is None else math.ceil(low))
        max_px = min(gray.shape) if high is None else min(min(gray.shape), math.floor(high))
        if max_px < min_px:
            return []
        faces = self._run(self._cascade, gray, min_px, max_px)
        if faces or self._profile is None or gray.size > PROFILE_MAX_PIXELS:
            return faces
        width = gray.shape[1]
        found = self._run(self._profile, gray, min_px, max_px)
        for face in self._run(self._profile, cv2.flip(gray, 1), min_px, max_px):
            mirrored = Face(width - face.x - face.w, face.y, face.w, face.h)
            if not any(_overlaps(mirrored, other) for other in found):
                found.append(mirrored)
        return found

    def detect_near(self, image: np.ndarray, min_size: Optional[float] = None,
                    max_size: Optional[float] = None) -> List[Face]:
        """Search a small region where a followed face was, harder than :meth:`detect`.

        For the frame where the followed face was not found otherwise: the
        region as it is, then with its contrast equalised (CLAHE), then turned
        by each angle of :data:`NEAR_ROLL_DEG` (an upright cascade misses a head
        rolled beyond about 15 degrees); the first that finds a face wins.  A
        box found in a turned image is returned upright, about the same centre.
        """
        faces = self.detect(image, min_size=min_size, max_size=max_size)
        gray = as_gray(image)
        if faces or gray is None or gray.size > PROFILE_MAX_PIXELS:
            return faces
        low, high = size_band(min_size, max_size)
        min_px = max(self.window_px, self.min_size_px if low is None else math.ceil(low))
        max_px = min(gray.shape) if high is None else min(min(gray.shape), math.floor(high))
        if max_px < min_px:
            return []
        gray = _CLAHE.apply(gray)
        faces = self._run(self._cascade, gray, min_px, max_px)
        if faces:
            return faces
        height, width = gray.shape
        centre = (width / 2.0, height / 2.0)
        for angle in NEAR_ROLL_DEG:
            turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
            turned = cv2.warpAffine(gray, turn, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
            back = cv2.invertAffineTransform(turn)
            found = []
            for face in self._run(self._cascade, turned, min_px, max_px):
                cu, cv = face.center
                u = back[0, 0] * cu + back[0, 1] * cv + back[0, 2]
                v = back[1, 0] * cu + back[1, 1] * cv + back[1, 2]
                found.append(Face(u - face.w / 2.0, v - face.h / 2.0, face.w, face.h))
            if found:
                return found
        return []

    def _run(self, cascade: 'cv2.CascadeClassifier', gray: np.ndarray, min_px: int,
             max_px: int) -> List[Face]:
        boxes = cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(min_px, min_px), maxSize=(max_px, max_px))
        return [Face(float(x), float(y), float(w), float(h)) for x, y, w, h in boxes]
