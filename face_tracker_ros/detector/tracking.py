# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Frame in, target out: the detector's whole per-frame logic, free of ROS.

:class:`FaceTracker` runs a :class:`~face_tracker_ros.detector.finder.FaceFinder`
and a :class:`~face_tracker_ros.detector.selection.TargetSelector` together:

1. the finder searches near the last faces, always including the followed one;
2. if that search did not find the followed face, the whole frame is searched
   before anything else is decided (so a face elsewhere never replaces it just
   because the region search missed), and then the region where it was, at
   native size and with the detector's lower re-find confidence; while no face
   is followed, small faces are searched for at native size too
   (:meth:`FaceFinder.search_small`);
3. if the detector still misses it, a short-term tracker bridges the gap: the
   face's appearance at its last detection (a grey template) is matched near
   its last position at three scales, accepted above ``bridge_min_score``
   (normalised correlation) and for at most ``bridge_s`` seconds after the
   last detection (so it cannot drift onto the background for long), for a
   face detected in at least :data:`BRIDGE_MIN_HITS` frames;
4. the selector decides (it keeps the person through gaps up to
   ``switch_after_s`` and logs every switch with its reason).

:func:`choose_backend` resolves the ``backend`` parameter (``auto``, ``haar``,
``yunet``) to a backend and a status line, and :func:`build_tracker` builds
the whole thing from the detector node's parameter values, so the node, the
evaluation (``make eval``) and the tests run exactly the same code.
"""

import dataclasses
import math
import os
from typing import Any, Callable, List, Mapping, Optional, Tuple, Union

import cv2
import numpy as np

from face_tracker_ros.common.checks import check_number, check_positive
from face_tracker_ros.detector import models
from face_tracker_ros.detector.backends import Face, FaceDetectorBackend, make_backend
from face_tracker_ros.detector.finder import FaceFinder
from face_tracker_ros.detector.params import DETECTOR_BACKENDS, DetectorConfig
from face_tracker_ros.detector.selection import at_border, TargetSelector

__all__ = ['BackendChoice', 'build_tracker', 'choose_backend', 'ConfigError',
           'DETECTOR_BACKENDS', 'FaceTracker']

Settings = Union[DetectorConfig, Mapping[str, Any]]
"""A :class:`DetectorConfig`, or the detector's flat parameter values it is built from."""

TEMPLATE_PX = 32
"""Width, in pixels, the bridging template is matched at."""

BRIDGE_SCALES = (0.92, 1.0, 1.08)

BRIDGE_SIZE_RANGE = (0.85, 1.2)
"""A bridged box stays within these multiples of the width of the last detection."""

BRIDGE_MIN_HITS = 3
"""Only a face detected in at least this many frames is bridged (not a passing false box)."""

_INSIDE = 0.6


class ConfigError(ValueError):
    """The detector cannot run as configured; the message names the parameter and the fix."""


@dataclasses.dataclass(frozen=True)
class BackendChoice:
    """The backend in use, why, and what its status should say."""

    backend: FaceDetectorBackend
    name: str
    warning: str = ''
    info: str = ''


class _Bridge:
    """Follows one face by template matching while the detector misses it."""

    def __init__(self, min_score: float) -> None:
        self.min_score = min_score
        self._template: Optional[np.ndarray] = None
        self._width = 0.0

    def forget(self) -> None:
        self._template = None

    def learn(self, image: np.ndarray, face: Face) -> None:
        # Only the face's box is converted to grey (the whole frame cost ~0.4 ms a frame).
        patch = _crop(image, face.x, face.y, face.w, face.h)
        if patch is None:
            self._template = None
            return
        patch = _gray(patch)
        scale = TEMPLATE_PX / float(face.w)
        self._width = float(face.w)
        self._template = cv2.resize(
            patch, (TEMPLATE_PX, max(4, int(round(face.h * scale)))),
            interpolation=cv2.INTER_AREA)

    def follow(self, gray: np.ndarray, last: Face) -> Optional[Face]:
        if self._template is None:
            return None
        height, width = gray.shape[:2]
        x0 = int(max(0, last.x - last.w))
        y0 = int(max(0, last.y - last.h))
        x1 = int(min(width, last.x + 2 * last.w))
        y1 = int(min(height, last.y + 2 * last.h))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        scale = TEMPLATE_PX / float(last.w)
        region = cv2.resize(gray[y0:y1, x0:x1],
                            (max(1, int(round((x1 - x0) * scale))),
                             max(1, int(round((y1 - y0) * scale)))),
                            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        best: Optional[Tuple[float, float, int, int, int, int]] = None
        for factor in BRIDGE_SCALES:
            if not BRIDGE_SIZE_RANGE[0] <= last.w * factor / self._width <= BRIDGE_SIZE_RANGE[1]:
                continue  # the box may not drift in size away from the detected face
            tw = max(4, int(round(self._template.shape[1] * factor)))
            th = max(4, int(round(self._template.shape[0] * factor)))
            if tw >= region.shape[1] or th >= region.shape[0]:
                continue
            template = cv2.resize(self._template, (tw, th), interpolation=cv2.INTER_LINEAR)
            scores = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
            _, peak, _, (px, py) = cv2.minMaxLoc(scores)
            if math.isfinite(peak) and (best is None or peak > best[0]):
                best = (peak, factor, px, py, tw, th)
        if best is None or best[0] < self.min_score:
            return None
        _, factor, px, py, tw, th = best
        face = Face(x0 + px / scale, y0 + py / scale, tw / scale, th / scale, float(best[0]))
        # Mostly outside the picture: the person is leaving; do not follow the border.
        inside_w = min(width, face.x + face.w) - max(0.0, face.x)
        inside_h = min(height, face.y + face.h) - max(0.0, face.y)
        if inside_w * inside_h < _INSIDE * face.area:
            return None
        return face


def _crop(gray: np.ndarray, x: float, y: float, w: float, h: float) -> Optional[np.ndarray]:
    height, width = gray.shape[:2]
    x0, y0 = int(max(0, x)), int(max(0, y))
    x1, y1 = int(min(width, x + w)), int(min(height, y + h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return gray[y0:y1, x0:x1]


class FaceTracker:
    """The detector's per-frame logic (module docstring): ``step(image, t)``."""

    def __init__(self, finder: FaceFinder, selector: TargetSelector, bridge_s: float = 0.5,
                 bridge_min_score: float = 0.6) -> None:
        self.finder = finder
        self.selector = selector
        self.bridge_s = check_positive('bridge_s', bridge_s, unit='seconds', allow_zero=True)
        self._bridge = _Bridge(check_number('bridge_min_score', bridge_min_score, 0.0, 1.0,
                                            low_open=True))
        self._last_detected: Optional[float] = None
        self._frames = 0
        self.last_bridged = False
        self.full_searches = 0

    def configure(self, config: DetectorConfig) -> None:
        """Apply the live-tunable settings of ``config`` (between two frames)."""
        backend = self.finder.backend
        if backend.name == 'haar':
            backend.scale_factor = config.haar.scale_factor
            backend.min_neighbors = config.haar.min_neighbors
            backend.min_size_px = config.haar.min_size_px
        else:
            backend.set_thresholds(config.yunet.score_threshold, config.yunet.nms_threshold)
        self.finder.roi_search = config.finder.roi_search
        self.finder.full_search_every = config.finder.full_search_every
        s = config.selection
        self.selector.max_jump = s.max_jump
        self.selector.size_ratio = s.size_ratio
        self.selector.switch_after_s = s.switch_after_s
        self.selector.policy = s.policy
        self.bridge_s = s.bridge_s

    def reset(self) -> None:
        """Forget every face: the next frame starts from a full search."""
        self.finder.reset()
        self.selector.reset()
        self._bridge.forget()
        self._last_detected = None

    def step(self, image: np.ndarray, t: Optional[float] = None
             ) -> Tuple[List[Face], Optional[Face]]:
        """Return this frame's faces and the face to follow (None: no target this frame).

        ``t`` is the frame time in seconds (its stamp); by default frames are
        counted at 30 per second.
        """
        self._frames += 1
        now = float(t) if t is not None and math.isfinite(t) else self._frames / 30.0
        selector = self.selector
        target = selector.target
        faces = self.finder.find(image, focus=target)
        if self.finder.last_mode == 'full':
            self.full_searches += 1
        elif target is not None and selector.match(faces, image, now) is None:
            faces = self.finder.search_full(image, also=faces)
            self.full_searches += 1
        if target is not None and selector.match(faces, image, now) is None:
            near = [f for f in self.finder.search_near(image, target)
                    if not any(_same(f, g) for g in faces)]
            faces = faces + near
        if target is None or selector.match(faces, image, now) is None:
            # No face followed here: look for the small ones too before choosing.
            faces = self.finder.search_small(image, also=faces)
        bridged = None
        self.last_bridged = False
        if target is not None and self.bridge_s > 0.0 and self._last_detected is not None \
                and selector.target_hits >= BRIDGE_MIN_HITS \
                and not at_border(target, image) \
                and now - self._last_detected <= self.bridge_s \
                and isinstance(image, np.ndarray) and image.size \
                and selector.match(faces, image, now) is None:
            bridged = self._bridge.follow(_gray(image), target)
            if bridged is not None:
                faces = faces + [bridged]
        chosen = selector.choose(faces, now, image if _is_bgr(image) else None)
        if chosen is not None and chosen is bridged:
            self.last_bridged = True
        elif chosen is not None:
            self._bridge.learn(image, chosen)
            self._last_detected = now
        elif selector.target is None:
            self._bridge.forget()
            self._last_detected = None
        if bridged is not None:
            faces = [f for f in faces if f is not bridged]
        return faces, chosen


def _same(a: Face, b: Face) -> bool:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy > 0.5 * min(a.area, b.area)


def _is_bgr(image: object) -> bool:
    return isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3 \
        and image.dtype == np.uint8


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def _config(settings: Settings) -> DetectorConfig:
    if isinstance(settings, DetectorConfig):
        return settings
    return DetectorConfig.from_params(settings)


def _haar(config: DetectorConfig) -> FaceDetectorBackend:
    return make_backend('haar', **dataclasses.asdict(config.haar))


def choose_backend(settings: Settings,
                   find_model: Callable[[], Optional[os.PathLike]] = models.find_model
                   ) -> BackendChoice:
    """Resolve the ``backend`` parameter; raise :class:`ConfigError` for what cannot run.

    ``yunet`` needs a model (``yunet.model_path`` or one found by
    :func:`~face_tracker_ros.detector.models.find_model`); ``auto`` takes YuNet
    when a model is found and this OpenCV runs it, else Haar with a warning
    that names the model command.
    """
    p = _config(settings)
    name = p.backend
    if name not in DETECTOR_BACKENDS:
        raise ConfigError(f"parameter 'backend' = {name!r} is not allowed: one of "
                          + ', '.join(repr(b) for b in DETECTOR_BACKENDS))
    try:
        if name == 'haar':
            return BackendChoice(_haar(p), 'haar')
        path = p.yunet.model_path
        if path and not os.path.isfile(path):
            raise ConfigError(f"parameter 'yunet.model_path': no such file: {path!r}")
        if not path:
            found = find_model()
            path = str(found) if found else ''
        if not path:
            where = ', '.join(str(d) for d in models.model_dirs())
            if name == 'yunet':
                raise ConfigError(
                    f"backend 'yunet' needs a YuNet model: set 'yunet.model_path' or run "
                    f'{models.GET_MODEL_COMMAND} (looked in {where})')
            return BackendChoice(
                _haar(p), 'haar',
                warning=f'no YuNet model found: using the Haar fallback (fewer faces found); '
                        f'run {models.GET_MODEL_COMMAND} to download one (looked in {where})')
        try:
            backend = make_backend('yunet', model_path=path,
                                   score_threshold=p.yunet.score_threshold,
                                   nms_threshold=p.yunet.nms_threshold,
                                   expected_sha256=p.yunet.sha256)
        except RuntimeError as exc:
            if name == 'yunet' or p.yunet.model_path:
                raise ConfigError(str(exc)) from None
            return BackendChoice(_haar(p), 'haar',
                                 warning=f'using the Haar fallback: {exc}')
        status = backend.checksum_status
        if status.startswith('verified'):
            return BackendChoice(backend, 'yunet', info=f'YuNet model {path}: {status}')
        return BackendChoice(backend, 'yunet', warning=f'YuNet model {path}: {status}')
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(str(exc)) from None


def build_tracker(settings: Settings,
                  find_model: Callable[[], Optional[os.PathLike]] = models.find_model
                  ) -> Tuple[FaceTracker, BackendChoice]:
    """Build the detector's :class:`FaceTracker` from its settings (or parameter values)."""
    p = _config(settings)
    choice = choose_backend(p, find_model)
    s = p.selection
    try:
        finder = FaceFinder(choice.backend, **dataclasses.asdict(p.finder))
        selector = TargetSelector(max_jump=s.max_jump, size_ratio=s.size_ratio,
                                  switch_after_s=s.switch_after_s, policy=s.policy)
        tracker = FaceTracker(finder, selector, bridge_s=s.bridge_s)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return tracker, choice
