# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The detector's own per-frame code (FaceTracker, node defaults) on real, labelled footage.

Needs ``../shared/footage`` (and, for YuNet, ``../shared/models``); skips with the
reason where they are absent.  No timing is asserted here (``make eval`` measures).
"""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import footage as ft
from face_tracker_ros.common.params import defaults
from face_tracker_ros.detector.backends import Face
from face_tracker_ros.detector.params import PARAMS
from face_tracker_ros.detector.tracking import build_tracker

missing = ft.available()
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or '')
needs_model = pytest.mark.skipif(not ft.MODEL.is_file(),
                                 reason=f'{ft.MODEL} not present (../shared is absent)')

#: A few labelled frames per clip, checked by eye, where a face is plainly visible.
FRAMES = {
    'group_five_people_handheld.mp4': (0, 30, 60, 89),
    'hand_occlusion_sign_language.mp4': (0, 63, 128, 189, 236, 300),
    'head_turn_profile_tilt.mp4': (0, 12, 22, 27),
    'hikers_approaching_scale_change.mp4': (0, 40, 120, 400),
}


def tracker_for(backend):
    params = defaults(PARAMS)
    params['backend'] = backend
    if backend == 'yunet':
        params['yunet.model_path'] = str(ft.MODEL)
    return build_tracker(params)[0]


def items():
    return {item.name: item for item in ft.load()} if missing is None else {}


def on_a_face(face, labels):
    best = max((ft.iou((face.x, face.y, face.w, face.h), lb.box) for lb in labels
                if not lb.ignore), default=0.0)
    return best >= 0.3


@pytest.fixture(scope='module')
def footage():
    return items()


def frames_of(item, wanted):
    return [(frame, image) for frame, image in item.images() if frame.index in wanted]


@pytest.mark.parametrize('backend', [pytest.param('yunet', marks=needs_model), 'haar'])
@pytest.mark.parametrize('clip', sorted(FRAMES))
def test_labelled_frames_give_a_target_on_a_labelled_face(footage, clip, backend):
    """A fresh tracker on each chosen frame picks a labelled face (default and fallback)."""
    for frame, image in frames_of(footage[clip], FRAMES[clip]):
        faces, chosen = tracker_for(backend).step(image, 0.0)
        assert chosen is not None, f'{clip} frame {frame.index}: no target ({backend})'
        assert on_a_face(chosen, frame.labels), \
            f'{clip} frame {frame.index}: target {chosen} is on no labelled face ({backend})'


@pytest.mark.parametrize('backend', [pytest.param('yunet', marks=needs_model), 'haar'])
def test_the_cat_is_no_face(footage, backend):
    item = footage['negative_cat_face_no_human.png']
    (frame, image), = list(item.images())
    tracker = tracker_for(backend)
    for _ in range(3):
        faces, chosen = tracker.step(image, None)
        assert faces == [] and chosen is None


@pytest.mark.parametrize('backend', [pytest.param('yunet', marks=needs_model)])
@pytest.mark.parametrize('still', ['astronaut_eileen_collins_nasa.png', 'man_outdoor_portrait.png',
                                   'three_adults_corridor_glasses_frame20.png',
                                   'speaker_on_stage_microphone.jpg'])
def test_stills_give_a_target_on_a_labelled_face(footage, still, backend):
    (frame, image), = list(footage[still].images())
    _, chosen = tracker_for(backend).step(image, 0.0)
    assert chosen is not None and on_a_face(chosen, frame.labels)


# A scripted scene with real faces: person A followed, hidden by a hand-sized block,
# while a larger person B appears; A comes back; later A leaves for good.

def _face_crop(footage, name):
    (frame, image), = list(footage[name].images())
    x, y, w, h = (int(v) for v in frame.labels[0].box)
    pad = int(0.35 * w)
    return image[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]


def _scene(base, pastes):
    frame = base.copy()
    for patch, (x, y) in pastes:
        h, w = patch.shape[:2]
        frame[y:y + h, x:x + w] = patch
    return frame


@pytest.fixture(scope='module')
def actors(footage):
    if missing is not None:
        pytest.skip(missing)
    a = cv2.resize(_face_crop(footage, 'astronaut_eileen_collins_nasa.png'), None,
                   fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    b = cv2.resize(_face_crop(footage, 'man_outdoor_portrait.png'), None,
                   fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(3)
    base = cv2.GaussianBlur(rng.integers(60, 200, (480, 640, 3), dtype=np.uint8), (0, 0), 6)
    return a, b, base


def _near(face, x, y, patch):
    h, w = patch.shape[:2]
    return face is not None and math.hypot(face.center[0] - (x + w / 2),
                                           face.center[1] - (y + h / 2)) < 0.3 * w


@pytest.mark.parametrize('backend', [pytest.param('yunet', marks=needs_model), 'haar'])
def test_selector_keeps_the_person_through_an_occlusion_and_a_second_face(actors, backend):
    a, b, base = actors
    tracker = tracker_for(backend)
    fps = 30.0
    ah, aw = a.shape[:2]
    log = []
    t = 0.0
    # 0-19: A alone, walking right.  20-34: A hidden (a block over the face) and B,
    # larger, appears on the right.  35-59: A back, B still there.
    for k in range(60):
        t = k / fps
        ax = 80 + 2 * k
        pastes = [(a, (ax, 150))]
        if 20 <= k < 35:
            block = np.full((ah, aw, 3), 90, np.uint8)
            pastes = [(block, (ax, 150))]
        if k >= 20:
            pastes.append((b, (400, 120)))
        faces, chosen = tracker.step(_scene(base, pastes), t)
        log += tracker.selector.pop_events()
        if k < 20 or k >= 36:
            assert _near(chosen, ax, 150, a), f'frame {k}: target {chosen} is not person A'
        elif chosen is not None:
            # While A is hidden the target is A's place (bridged) or none: never B.
            assert not _near(chosen, 400, 120, b), f'frame {k}: switched to B during occlusion'
    assert tracker.selector.switches == 0
    assert len(log) == 1 and 'acquired' in log[0]
    # A leaves (not at the border: hidden for good): after switch_after_s the target is B,
    # and the switch is logged with its reason.
    switched_at = None
    for k in range(60, 120):
        t = k / fps
        block = np.full((ah, aw, 3), 90, np.uint8)
        faces, chosen = tracker.step(_scene(base, [(block, (200, 150)), (b, (400, 120))]), t)
        if chosen is not None and switched_at is None:
            switched_at = t
            assert _near(chosen, 400, 120, b)
    # A was last seen in frame 59; switch_after_s (1 s by default) must pass first.
    assert switched_at is not None and switched_at - 59 / fps >= 1.0 - 1e-6
    events = tracker.selector.pop_events()
    assert any('switched to' in e and 'not seen for' in e for e in events), events


def test_video_file_plays_at_its_own_rate_by_default(footage):
    from face_tracker_ros.camera.node import PARAMS as CAMERA
    from face_tracker_ros.camera.sources import make_source
    fps = defaults(CAMERA)['fps']
    assert fps == 0.0
    for name, rate in (('group_five_people_handheld.mp4', 29.97),
                       ('head_turn_profile_tilt.mp4', 12.0)):
        source = make_source('file', video_path=str(footage[name].path), fps=fps,
                             realtime=False)
        source.open()
        try:
            assert abs(source.fps - rate) < 0.01
        finally:
            source.close()
        overridden = make_source('file', video_path=str(footage[name].path), fps=25.0)
        overridden.open()
        assert overridden.fps == 25.0
        overridden.close()


def test_a_text_file_is_not_a_video(tmp_path):
    from face_tracker_ros.camera.sources import check_video_file
    text = tmp_path / 'notes.txt'
    text.write_text('A text file FFmpeg would render as characters.\n' * 400)
    assert 'is a text file, not a video' in check_video_file(str(text))
    assert 'does not exist' in check_video_file(str(tmp_path / 'missing.mp4'))
    assert check_video_file(str(Path(ft.FOOTAGE) / 'clips' / 'head_turn_profile_tilt.mp4')) == ''


def test_face_on_the_border_detection_boxes_are_faces():
    # Face objects flow through unchanged (a guard for the helpers above).
    assert Face(1, 2, 3, 4).center == (2.5, 4.0)
