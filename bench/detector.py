# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Detector benchmark: cost per frame and accuracy of every backend and configuration.

Every configuration sees the same frames:

* **timing** on a realistic sequence: the simulation's ``drift`` scene
  rendered by a camera that follows the face roughly (a lag and a wobble, so
  the face moves in the image and the ROI search of :class:`FaceFinder`
  applies), timed per frame with OpenCV on one thread (a node's share of a
  core) and, unless turned off, on OpenCV's default thread count;
* **accuracy** on the labelled LFW subset of scikit-image (100 faces and 100
  non-faces, each 25x25 crop upscaled to 100x100 on a grey 160x160 canvas, a
  hit centred in the crop's square) and on the same simulation frames, where
  the truth is known: a detection is a hit if its centre is within half a face
  width of the true face centre, otherwise a false positive.

Configurations: Haar on the full 640x480 frame (scale 1.1, minNeighbors 5),
:class:`FaceFinder` with the detector node's defaults, the same without ROI
search, and YuNet (full frame and in FaceFinder) when its model is present.
"""

import math
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from bench.common import log, rounded, summarize, target
from face_tracker_ros.detector.backends import Face, HaarBackend, YuNetBackend
from face_tracker_ros.detector.finder import FaceFinder
from face_tracker_ros.detector.labelled import lfw_canvases
from face_tracker_ros.sim.scene import SceneTruth, SimScene

DEFAULT_YUNET_MODEL = '/work/shared/models/face_detection_yunet.onnx'
#: The detector node's defaults (config/tracker.yaml).
NODE_DEFAULTS = {'detect_width': 320, 'roi_search': True, 'roi_scale': 2.5,
                 'full_search_every': 15}
#: The target's configuration and its limit.
DEFAULT_CONFIG = 'finder_haar_default'
P50_TARGET_MS = 12.0

Detect = Callable[[np.ndarray], List[Face]]


class Config:
    """A named detector configuration: how to build a fresh ``detect(image)`` callable."""

    def __init__(self, name: str, description: str, build: Callable[[], Detect]):
        """Store the name, a one-line description and the factory."""
        self.name = name
        self.description = description
        self.build = build


def configurations(yunet_model: str = DEFAULT_YUNET_MODEL) -> Tuple[List[Config], Dict[str, str]]:
    """Return the configurations to measure and ``{name: reason}`` for the skipped ones."""
    def finder(backend_factory, **kwargs) -> Callable[[], Detect]:
        def build() -> Detect:
            settings = dict(NODE_DEFAULTS)
            settings.update(kwargs)
            return FaceFinder(backend_factory(), **settings).find
        return build

    haar = HaarBackend  # scale 1.1, minNeighbors 5, min size 30 px: the node's defaults
    configs = [
        Config('haar_full_frame', 'Haar on the full 640x480 frame (scale 1.1, minNeighbors 5)',
               lambda: HaarBackend(scale_factor=1.1, min_neighbors=5).detect),
        Config(DEFAULT_CONFIG, 'FaceFinder(Haar), node defaults (detect_width 320, ROI on)',
               finder(haar)),
        Config('finder_haar_no_roi', 'FaceFinder(Haar), detect_width 320, no ROI search',
               finder(haar, roi_search=False)),
    ]
    skipped: Dict[str, str] = {}
    if yunet_model and os.path.isfile(yunet_model):
        def yunet():
            return YuNetBackend(yunet_model)
        configs += [
            Config('yunet_full_frame', 'YuNet on the full 640x480 frame',
                   lambda: yunet().detect),
            Config('finder_yunet_default', 'FaceFinder(YuNet), node defaults', finder(yunet)),
        ]
    else:
        reason = f'YuNet model not found at {yunet_model!r} (pass --yunet-model PATH)'
        skipped = {'yunet_full_frame': reason, 'finder_yunet_default': reason}
    return configs, skipped


# --- frames -------------------------------------------------------------------------------------


def sim_sequence(frames: int = 150, fps: float = 30.0, seed: int = 0, lag_s: float = 0.4,
                 wobble_rad: float = 0.12,
                 scene: Optional[SimScene] = None) -> Tuple[List[np.ndarray], List[SceneTruth]]:
    """Render ``frames`` frames of the ``drift`` scene seen by a camera following roughly.

    The camera points where the face was ``lag_s`` ago plus a slow wobble of
    ``wobble_rad``, so the face moves about the image as it does in the
    closed loop.  Returns the BGR frames and the scene's truth for each.
    """
    if frames < 1 or fps <= 0:
        raise ValueError(f'frames must be >= 1 and fps > 0, got {frames} and {fps}')
    scene = scene or SimScene(path='drift', seed=seed)
    images, truths = [], []
    for k in range(frames):
        t = 5.0 + k / fps
        azimuth, elevation = scene.path.position(max(0.0, t - lag_s))
        pan = azimuth + wobble_rad * math.sin(1.3 * t)
        tilt = -elevation + 0.6 * wobble_rad * math.sin(0.9 * t + 1.0)
        image, truth = scene.render(t, pan, tilt)
        images.append(image)
        truths.append(truth)
    return images, truths


# --- measures -----------------------------------------------------------------------------------


def lfw_scores(detect: Detect, canvases: Sequence[Tuple[bool, np.ndarray]]) -> Dict[str, object]:
    """Return recall on the faces and the share of non-faces with any detection."""
    faces = [c for is_face, c in canvases if is_face]
    others = [c for is_face, c in canvases if not is_face]
    hits = false_positives = 0
    for is_face, canvas in canvases:
        found = detect(canvas)
        if is_face:
            hits += any(30 <= f.center[0] < 130 and 30 <= f.center[1] < 130
                        and 40 <= f.w <= 170 for f in found)
        else:
            false_positives += bool(found)
    return {'faces': len(faces), 'non_faces': len(others),
            'recall': rounded(hits / len(faces), 3) if faces else None,
            'false_positive_rate': rounded(false_positives / len(others), 3) if others else None}


def is_hit(face: Face, truth: SceneTruth) -> bool:
    """Return True if ``face`` is centred within half a face width of the true face."""
    if not truth.visible:
        return False
    width = truth.box[2]
    return math.hypot(face.center[0] - truth.u, face.center[1] - truth.v) <= width / 2.0


def sim_scores(results: Sequence[List[Face]],
               truths: Sequence[SceneTruth]) -> Dict[str, object]:
    """Return recall over frames with the face in view and the false positives of a run."""
    visible = hits = false_positives = frames_with_fp = 0
    for faces, truth in zip(results, truths):
        visible += truth.visible
        hit = [f for f in faces if is_hit(f, truth)]
        hits += bool(hit)
        wrong = len(faces) - (1 if hit else 0)  # a second box on the face counts too
        false_positives += wrong
        frames_with_fp += wrong > 0
    return {'frames': len(truths), 'frames_with_face': visible,
            'recall': rounded(hits / visible, 3) if visible else None,
            'false_positives': false_positives,
            'false_positive_frame_rate': rounded(frames_with_fp / len(truths), 3)
            if truths else None}


def time_sequence(build: Callable[[], Detect], frames: Sequence[np.ndarray],
                  threads: int) -> Tuple[List[float], List[List[Face]], List[str]]:
    """Run a fresh detector over ``frames`` with OpenCV on ``threads`` threads (0: default).

    Returns the milliseconds per frame, what was found in each frame and, for
    a :class:`FaceFinder`, its search mode per frame (``'full'`` or ``'roi'``;
    ``'full'`` for a plain backend).
    """
    previous = cv2.getNumThreads()
    cv2.setNumThreads(threads if threads > 0 else -1)
    try:
        detect = build()
        detect(frames[0])  # first-call set-up (cascade caches, network allocation)
        detect = build()
        finder = getattr(detect, '__self__', None)
        times, found, modes = [], [], []
        for frame in frames:
            start = time.perf_counter()
            faces = detect(frame)
            times.append((time.perf_counter() - start) * 1000.0)
            found.append(faces)
            modes.append(finder.last_mode if isinstance(finder, FaceFinder) else 'full')
    finally:
        cv2.setNumThreads(previous)
    return times, found, modes


def run(frames: int = 150, yunet_model: str = DEFAULT_YUNET_MODEL,
        default_threads: bool = True, lfw: bool = True) -> Dict[str, object]:
    """Measure every configuration; return the section with its target."""
    log(f'detector: rendering {frames} simulation frames')
    images, truths = sim_sequence(frames)
    canvases = lfw_canvases() if lfw else []
    configs, skipped = configurations(yunet_model)
    default_count = cv2.getNumThreads()
    section: Dict[str, object] = {
        'setup': {'sim_frames': frames, 'image': '640x480 bgr8',
                  'sim_scene': 'drift, camera following with 0.4 s lag and 0.12 rad wobble',
                  'lfw': 'skimage.data.lfw_subset(): 100 faces, 100 non-faces, 25x25 '
                         'upscaled to 100x100 on a 160x160 grey canvas' if lfw else 'skipped',
                  'opencv_default_threads': default_count, 'yunet_model': yunet_model},
        'configurations': {},
        'skipped': skipped,
    }
    for config in configs:
        log(f'detector: {config.name}')
        entry: Dict[str, object] = {'description': config.description}
        times, found, modes = time_sequence(config.build, images, 1)
        entry['ms_per_frame_1_thread'] = summarize(times)
        entry['roi_share'] = rounded(modes.count('roi') / len(modes), 3)
        for mode in ('full', 'roi'):
            chosen = [t for t, m in zip(times, modes) if m == mode]
            if chosen and entry['roi_share']:
                entry[f'ms_1_thread_{mode}_frames'] = summarize(chosen)
        if default_threads and default_count > 1:
            times_n, _, _ = time_sequence(config.build, images, 0)
            entry[f'ms_per_frame_{default_count}_threads'] = summarize(times_n)
        entry['sim'] = sim_scores(found, truths)
        if canvases:
            entry['lfw'] = lfw_scores(config.build(), canvases)
        section['configurations'][config.name] = entry
    section['targets'] = _targets(section['configurations'])
    section['met'] = all(t['met'] for t in section['targets'])
    return section


def _targets(results: Dict[str, dict]) -> List[Dict[str, object]]:
    default = results.get(DEFAULT_CONFIG, {})
    haar = results.get('haar_full_frame', {})
    p50 = default.get('ms_per_frame_1_thread', {}).get('p50')
    records = [target(f'{DEFAULT_CONFIG} p50 per 640x480 frame, one thread', p50, '<=',
                      P50_TARGET_MS, 'ms')]
    for data in ('lfw', 'sim'):
        base = haar.get(data, {}).get('recall')
        mine = default.get(data, {}).get('recall')
        if base is not None:
            records.append(target(f'{DEFAULT_CONFIG} recall on {data} >= full-frame Haar',
                                  mine, '>=', base))
    return records
