# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The detector's parameters (:data:`PARAMS`, :data:`RULES`) and their typed form, DetectorConfig.

ROS-free: the table is checked once (each value by its :class:`Param`, the pairs by
:data:`RULES`); :meth:`DetectorConfig.from_params` turns the checked flat values
(``'haar.scale_factor'`` ...) into the typed settings the cores take: the backend's
(:class:`HaarConfig`, :class:`YuNetConfig`), the finder's (:class:`FinderConfig`) and the
selector's (:class:`SelectionConfig`).  The node builds it at start and again for every
live change.
"""

import dataclasses
from typing import Any, Mapping, Tuple

from face_tracker_ros.common.params import COMMON, Param, Rule
from face_tracker_ros.detector.selection import POLICIES

DETECTOR_BACKENDS = ('auto', 'haar', 'yunet')
"""Values of the ``backend`` parameter: ``auto`` is YuNet when a model is found, else Haar."""


@dataclasses.dataclass(frozen=True)
class HaarConfig:
    """The Haar backend's settings (keyword arguments of ``HaarBackend``)."""

    cascade_path: str = ''
    scale_factor: float = 1.1
    min_neighbors: int = 3
    min_size_px: int = 20
    profile: bool = True


@dataclasses.dataclass(frozen=True)
class YuNetConfig:
    """The YuNet backend's settings; ``model_path`` '' means: look for a model."""

    model_path: str = ''
    sha256: str = ''
    score_threshold: float = 0.7
    nms_threshold: float = 0.3


@dataclasses.dataclass(frozen=True)
class FinderConfig:
    """Where the finder searches (keyword arguments of ``FaceFinder``)."""

    detect_width: int = 320
    roi_search: bool = True
    roi_scale: float = 2.5
    full_search_every: int = 15
    roi_face_px: float = 48.0
    roi_size_band: Tuple[float, float] = (0.7, 1.6)
    min_face_px: float = 16.0


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    """How one face is chosen and followed (the selector's settings and the bridge's)."""

    max_jump: float = 1.0
    size_ratio: float = 2.0
    switch_after_s: float = 1.0
    policy: str = 'largest'
    bridge_s: float = 3.0


_H, _Y, _F, _S = HaarConfig(), YuNetConfig(), FinderConfig(), SelectionConfig()

PARAMS = (
    Param('backend', 'auto', "Face detector: 'auto' = YuNet when a model is found "
          '(yunet.model_path, else the per-user and system model directories), else Haar',
          choices=DETECTOR_BACKENDS, why='the detector model is loaded at start'),
    Param('haar.cascade_path', _H.cascade_path,
          "Haar cascade XML; empty = OpenCV's haarcascade_frontalface_alt2.xml (from cv2.data "
          'or the opencv-data package)'),
    Param('haar.scale_factor', _H.scale_factor, 'Haar image pyramid step', min=1.01, max=2.0,
          live=True),
    Param('haar.min_neighbors', _H.min_neighbors, 'Haar detections needed to accept a face',
          min=0, max=50, live=True),
    Param('haar.min_size_px', _H.min_size_px,
          'Smallest face Haar looks for, in the searched image', min=8, max=2000, unit='px',
          live=True),
    Param('haar.profile', _H.profile, 'Where the frontal cascade finds nothing, search with '
          "OpenCV's profile cascade in both directions"),
    Param('yunet.model_path', _Y.model_path, 'YuNet ONNX model; empty = look in the per-user '
          'and system model directories (face_tracker_get_model downloads it)'),
    Param('yunet.sha256', _Y.sha256, 'Expected sha256 of the model; empty = check against '
          'known releases and warn if unknown'),
    Param('yunet.score_threshold', _Y.score_threshold,
          'YuNet confidence needed to accept a face', min=0.0, max=1.0, live=True),
    Param('yunet.nms_threshold', _Y.nms_threshold, 'YuNet non-maximum suppression IoU',
          min=0.0, max=1.0, live=True),
    Param('detect_width', _F.detect_width, 'Full-frame searches run on a copy scaled to this '
          'width (0 = native size, else at least 32)', min=0, max=7680, unit='px'),
    Param('roi_search', _F.roi_search, 'Search around the last face first', live=True),
    Param('roi_scale', _F.roi_scale,
          'Size of the search window around the last face, in face sizes', min=1.5, max=10.0),
    Param('roi_face_px', _F.roi_face_px, 'In a search around the last face, the image is '
          'scaled so that face is about this wide (smaller is cheaper; below 48 Haar starts '
          'to miss)', min=24.0, max=256.0, unit='px'),
    Param('roi_size_band', list(_F.roi_size_band), 'Face widths a search around the last '
          'face accepts, as multiples of its width: [low, high], 0.1 <= low <= 1 <= high '
          '<= 10'),
    Param('min_face_px', _F.min_face_px, 'Smallest face a full search finds, in camera '
          'pixels: when the scaled search finds nothing, small faces are searched at native '
          'size; 0 = off', min=0.0, max=2000.0, unit='px'),
    Param('full_search_every', _F.full_search_every, 'Force a full-frame search every N '
          'frames', min=1, max=100000, live=True),
    Param('selection.max_jump', _S.max_jump, 'Largest move (in face widths) between frames '
          'for the current face to be kept', min=0.0, min_exclusive=True, max=100.0,
          live=True),
    Param('selection.size_ratio', _S.size_ratio, 'Largest size change between frames for '
          'the current face to be kept', min=1.0, max=100.0, live=True),
    Param('selection.switch_after_s', _S.switch_after_s, 'The followed face must be gone '
          'this long before another face is followed', min=0.0, max=60.0, unit='s',
          live=True),
    Param('selection.policy', _S.policy,
          'Which face becomes the target when none is followed', choices=POLICIES, live=True),
    Param('selection.bridge_s', _S.bridge_s, 'While the detector misses the followed face, '
          'follow its appearance (template) for at most this long; 0 = off', min=0.0,
          max=10.0, unit='s', live=True),
    Param('publish_debug_image', False, 'Publish face/debug_image with the faces drawn'),
    Param('diag.input_timeout_s', 2.0, 'No image for this long is WARN', min=0.1, max=600.0,
          unit='s', live=True),
) + COMMON


def _detect_width_problem(v):
    width = v['detect_width']
    if width == 0 or width >= 32:
        return None
    return f"parameter 'detect_width' = {width} is not allowed: 0 (native size) or >= 32"


def _size_band_problem(v):
    band = v['roi_size_band']
    if len(band) == 2 and 0.1 <= band[0] <= 1.0 <= band[1] <= 10.0:
        return None
    return (f"parameter 'roi_size_band' = {list(band)!r} is not allowed: [low, high] with "
            '0.1 <= low <= 1 <= high <= 10')


#: Rules of the detector's parameters the ranges cannot say, checked at start.
RULES = (Rule(('detect_width',), _detect_width_problem),
         Rule(('roi_size_band',), _size_band_problem))


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """The detector's typed settings, built from the checked parameter values."""

    backend: str = 'auto'
    haar: HaarConfig = HaarConfig()
    yunet: YuNetConfig = YuNetConfig()
    finder: FinderConfig = FinderConfig()
    selection: SelectionConfig = SelectionConfig()
    publish_debug_image: bool = False
    input_timeout_s: float = 2.0

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'DetectorConfig':
        """Return the typed settings of the flat values ``values`` (checked by PARAMS/RULES)."""
        v = values
        return cls(
            backend=v['backend'],
            haar=HaarConfig(v['haar.cascade_path'], v['haar.scale_factor'],
                            v['haar.min_neighbors'], v['haar.min_size_px'], v['haar.profile']),
            yunet=YuNetConfig(v['yunet.model_path'], v['yunet.sha256'],
                              v['yunet.score_threshold'], v['yunet.nms_threshold']),
            finder=FinderConfig(v['detect_width'], v['roi_search'], v['roi_scale'],
                                v['full_search_every'], v['roi_face_px'],
                                tuple(v['roi_size_band']), v['min_face_px']),
            selection=SelectionConfig(v['selection.max_jump'], v['selection.size_ratio'],
                                      v['selection.switch_after_s'], v['selection.policy'],
                                      v['selection.bridge_s']),
            publish_debug_image=v['publish_debug_image'],
            input_timeout_s=v['diag.input_timeout_s'])
