# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The YuNet backend: OpenCV's CNN face detector (``cv2.FaceDetectorYN``) and its model check."""

import math
import os
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from face_tracker_ros.common.checks import check_int, check_number
from face_tracker_ros.detector import models
from face_tracker_ros.detector.face import (
    as_bgr,
    Face,
    FaceDetectorBackend,
    in_band,
    REFIND_SCORE,
    size_band,
)
from face_tracker_ros.detector.models import sha256_of

KNOWN_MODEL_SHA256: Dict[str, str] = {
    release.sha256: f'{release.filename} (OpenCV model zoo)'
    for release in models.RELEASES.values()}

_YUNET_MIN_INPUT_PX = 64


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
        score_threshold = check_number('score_threshold', score_threshold, 0.0, 1.0)
        nms_threshold = check_number('nms_threshold', nms_threshold, 0.0, 1.0)
        top_k = check_int('top_k', top_k, 1)
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
        self.score_threshold = check_number('score_threshold', score_threshold, 0.0, 1.0)
        self._net.setScoreThreshold(min(self.score_threshold, REFIND_SCORE))
        self._net.setNMSThreshold(check_number('nms_threshold', nms_threshold, 0.0, 1.0))

    def detect(self, image: np.ndarray, min_size: Optional[float] = None,
               max_size: Optional[float] = None,
               min_score: Optional[float] = None) -> List[Face]:
        """Return the faces in ``image``; see :class:`FaceDetectorBackend`.

        The network always searches every size; ``min_size`` and ``max_size``
        filter its boxes by width.  ``min_score`` (default ``score_threshold``)
        is the confidence a box needs; below :data:`REFIND_SCORE` it has no
        effect.
        """
        low, high = size_band(min_size, max_size)
        bgr = as_bgr(image)
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
                    and in_band(w, low, high) and score >= threshold:
                faces.append(Face(x, y, w, h, score))
        return faces


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
