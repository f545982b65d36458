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

import abc
import dataclasses
import inspect
import math
import os
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from face_tracker_ros.detector import models
from face_tracker_ros.detector.models import sha256_of  # noqa: F401 - part of this API

BACKENDS = ('haar', 'yunet')

KNOWN_MODEL_SHA256: Dict[str, str] = {
    release.sha256: f'{release.filename} (OpenCV model zoo)'
    for release in models.RELEASES.values()}

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

_YUNET_MIN_INPUT_PX = 64

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


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or value != value or int(value) != value or value < minimum:
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    return int(value)


def _check_float(name: str, value: object, low: float, high: float,
                 low_open: bool = False) -> float:
    """Return ``value`` as a float in ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        value_f = float(value)
        ok = (value_f > low if low_open else value_f >= low) and value_f <= high
    if not ok:
        bracket = '(' if low_open else '['
        raise ValueError(f'{name} must be in {bracket}{low}, {high}], got {value!r}')
    return value_f


def _size_band(min_size: object, max_size: object) -> Tuple[Optional[float], Optional[float]]:
    """Return the ``detect`` size limits as floats (None: unlimited), or raise ValueError."""
    limits = []
    for name, value in (('min_size', min_size), ('max_size', max_size)):
        if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not math.isfinite(float(value)) or float(value) <= 0.0):
            raise ValueError(f'{name} must be None or a finite number of pixels > 0, '
                             f'got {value!r}')
        limits.append(None if value is None else float(value))
    return limits[0], limits[1]


def _in_band(width: float, min_size: Optional[float], max_size: Optional[float]) -> bool:
    """Return True if a face ``width`` pixels wide lies within the size limits."""
    return (min_size is None or width >= min_size) and (max_size is None or width <= max_size)


def _as_bgr(image: object) -> Optional[np.ndarray]:
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


def _as_gray(image: object) -> Optional[np.ndarray]:
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
        scale_factor = _check_float('scale_factor', scale_factor, 1.0, 2.0, low_open=True)
        min_neighbors = _check_int('min_neighbors', min_neighbors, 0)
        min_size_px = _check_int('min_size_px', min_size_px, 1)
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
        low, high = _size_band(min_size, max_size)
        gray = _as_gray(image)
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
        gray = _as_gray(image)
        if faces or gray is None or gray.size > PROFILE_MAX_PIXELS:
            return faces
        low, high = _size_band(min_size, max_size)
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


class YuNetBackend(FaceDetectorBackend):
    """The YuNet CNN face detector through ``cv2.FaceDetectorYN``.

    ``model_path`` is the ONNX file.  Its sha256 is checked: with
    ``expected_sha256`` set, a different file raises ValueError; otherwise the
    result is in :attr:`checksum_status`, either ``'verified (<model name>)'``
    for a model listed in :data:`KNOWN_MODEL_SHA256` (or matching
    ``expected_sha256``) or ``'unknown checksum <sha256>'``, which a node should
    log as a warning.  Boxes may reach slightly past the image border for a face
    cut by it; ``score`` is the network's confidence in [0, 1].
    """

    name = 'yunet'

    def __init__(self, model_path: str, score_threshold: float = 0.7,
                 nms_threshold: float = 0.3, top_k: int = 50,
                 expected_sha256: str = '') -> None:
        score_threshold = _check_float('score_threshold', score_threshold, 0.0, 1.0)
        nms_threshold = _check_float('nms_threshold', nms_threshold, 0.0, 1.0)
        top_k = _check_int('top_k', top_k, 1)
        expected = str(expected_sha256 or '').strip().lower()
        if expected and (len(expected) != 64
                         or any(c not in '0123456789abcdef' for c in expected)):
            raise ValueError(
                'expected_sha256 must be empty or 64 hexadecimal digits, '
                f'got {expected_sha256!r}')
        if not isinstance(model_path, str) or not os.path.isfile(model_path):
            raise FileNotFoundError(
                f'model_path: YuNet model not found: {model_path!r} (download '
                'face_detection_yunet_2023mar.onnx from the OpenCV model zoo, '
                'https://github.com/opencv/opencv_zoo)')
        if not hasattr(cv2, 'FaceDetectorYN'):
            raise RuntimeError(
                f'this OpenCV ({cv2.__version__}) has no cv2.FaceDetectorYN: YuNet needs '
                'OpenCV >= 4.5.4 (the 2022mar model) or >= 4.8 (the 2023mar model)')
        actual = sha256_of(model_path)
        if expected and actual != expected:
            raise ValueError(
                f'model_path: {model_path!r} has sha256 {actual}, but expected_sha256 '
                f'is {expected}')
        release = models.BY_SHA256.get(actual)
        if release is not None:
            problem = models.version_problem(release, models.parse_version(cv2.__version__),
                                             cv2.__version__)
            if problem:
                raise RuntimeError(problem)
        if actual in KNOWN_MODEL_SHA256:
            self.checksum_status = f'verified ({KNOWN_MODEL_SHA256[actual]})'
        elif expected:
            self.checksum_status = 'verified (matches expected_sha256)'
        else:
            self.checksum_status = f'unknown checksum {actual}'
        self.model_path = model_path
        self.sha256 = actual
        self.score_threshold = score_threshold
        self._input_size: Tuple[int, int] = (_YUNET_MIN_INPUT_PX, _YUNET_MIN_INPUT_PX)
        try:
            self._net = cv2.FaceDetectorYN.create(
                model_path, '', self._input_size, min(score_threshold, REFIND_SCORE),
                nms_threshold, top_k)
        except cv2.error as exc:
            raise ValueError(
                f'model_path: {model_path!r} is not a loadable YuNet ONNX model: '
                f'{_first_line(exc)}') from exc
        try:
            # An OpenCV too old (or too new) for the model loads it but fails here.
            self._net.detect(np.zeros((_YUNET_MIN_INPUT_PX, _YUNET_MIN_INPUT_PX, 3), np.uint8))
        except cv2.error as exc:
            raise RuntimeError(
                f'this OpenCV ({cv2.__version__}) cannot run the YuNet model {model_path!r} '
                f'({_first_line(exc)}): the 2023mar model needs OpenCV >= 4.8, the 2022mar '
                f'one runs on 4.5.4-4.7; run {models.GET_MODEL_COMMAND} to get the one for '
                'this OpenCV') from None

    def set_thresholds(self, score_threshold: float, nms_threshold: float) -> None:
        """Change the confidence and non-maximum suppression thresholds (live tuning)."""
        self.score_threshold = _check_float('score_threshold', score_threshold, 0.0, 1.0)
        self._net.setScoreThreshold(min(self.score_threshold, REFIND_SCORE))
        self._net.setNMSThreshold(_check_float('nms_threshold', nms_threshold, 0.0, 1.0))

    def detect(self, image: np.ndarray, min_size: Optional[float] = None,
               max_size: Optional[float] = None,
               min_score: Optional[float] = None) -> List[Face]:
        """Return the faces in ``image``; see :class:`FaceDetectorBackend`.

        The network always searches every size; ``min_size`` and ``max_size``
        filter its boxes by width.  ``min_score`` (default ``score_threshold``)
        is the confidence a box needs; below :data:`REFIND_SCORE` it has no
        effect.
        """
        low, high = _size_band(min_size, max_size)
        bgr = _as_bgr(image)
        if bgr is None or (low is not None and high is not None and low > high):
            return []
        height, width = bgr.shape[:2]
        if height < _YUNET_MIN_INPUT_PX or width < _YUNET_MIN_INPUT_PX:
            # FaceDetectorYN returns garbage boxes for inputs of about 32 px or less;
            # padding right and bottom keeps the coordinates of what is there.
            bgr = cv2.copyMakeBorder(
                bgr, 0, max(0, _YUNET_MIN_INPUT_PX - height), 0,
                max(0, _YUNET_MIN_INPUT_PX - width), cv2.BORDER_CONSTANT, value=(0, 0, 0))
        size = (bgr.shape[1], bgr.shape[0])
        if size != self._input_size:
            self._net.setInputSize(size)
            self._input_size = size
        _, rows = self._net.detect(bgr)
        if rows is None:
            return []
        threshold = self.score_threshold if min_score is None else float(min_score)
        faces = []
        for row in rows:
            x, y, w, h, score = (float(v) for v in row[[0, 1, 2, 3, 14]])
            if all(math.isfinite(v) for v in (x, y, w, h, score)) and w > 0.0 and h > 0.0 \
                    and x < width and y < height and x + w > 0.0 and y + h > 0.0 \
                    and _in_band(w, low, high) and score >= threshold:
                faces.append(Face(x, y, w, h, score))
        return faces


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


_CLASSES = {'haar': HaarBackend, 'yunet': YuNetBackend}


def make_backend(name: str, **params: object) -> FaceDetectorBackend:
    """Build the backend called ``name`` (one of :data:`BACKENDS`) with ``params``.

    Raises ValueError naming ``backend`` for an unknown name and naming the
    offending keys for parameters the backend does not take.
    """
    if name not in _CLASSES:
        raise ValueError(
            f'backend must be one of {", ".join(repr(b) for b in BACKENDS)}, got {name!r}')
    cls = _CLASSES[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != 'self']
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f'backend {name!r} does not take {", ".join(unknown)}; '
            f'its parameters are {", ".join(accepted)}')
    return cls(**params)
