# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the simulated scene and the face paths, with real OpenCV detectors."""

import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from face_tracker_ros import geometry
from face_tracker_ros.sim.paths import FacePath, make_path, PATHS
from face_tracker_ros.sim.scene import SceneTruth, SimScene

YUNET_MODEL = Path(os.environ.get(
    'FACE_TRACKER_YUNET_MODEL',
    Path(__file__).resolve().parents[3] / 'shared' / 'models' / 'face_detection_yunet.onnx'))
WIDTH, HEIGHT = 640, 480
FOCAL = geometry.focal_length_px(WIDTH, math.radians(60))
STILL = make_path('still').position(0.0)
# Camera poses that put the still face at various places in the image.
POSES = [
    (STILL[0], -STILL[1]),                 # on the optical axis
    (0.0, 0.0),                            # home pose: left of and below the centre
    (STILL[0] + 0.35, -STILL[1] + 0.2),    # right, upper part of the image
    (STILL[0] - 0.4, -STILL[1] - 0.22),    # left, lower part
    (STILL[0] + 0.3, -STILL[1] - 0.25),    # right, lower part
]


@pytest.fixture(scope='module')
def still_scene() -> SimScene:
    """Return a default-sized scene with the face at a fixed direction."""
    return SimScene(path='still', seed=0)


@pytest.fixture(scope='module')
def clean_scene() -> SimScene:
    """Return the same scene without sensor noise."""
    return SimScene(path='still', seed=0, noise_sigma=0.0)


@pytest.fixture(scope='module')
def haar() -> cv2.CascadeClassifier:
    """Return OpenCV's Haar frontal face cascade."""
    cascade = cv2.CascadeClassifier(
        cv2.data.haarcascades + 'haarcascade_frontalface_default.xml')
    assert not cascade.empty()
    return cascade


@pytest.fixture(scope='module')
def yunet():
    """Return a YuNet detector for 640x480 frames, or skip when the model is absent."""
    if not YUNET_MODEL.is_file():
        pytest.skip(f'YuNet model not found at {YUNET_MODEL}')
    return cv2.FaceDetectorYN.create(str(YUNET_MODEL), '', (WIDTH, HEIGHT), 0.5)


def haar_faces(cascade: cv2.CascadeClassifier, frame: np.ndarray) -> list:
    """Return the Haar detections (x, y, w, h) in a BGR frame."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return list(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5))


def yunet_faces(detector, frame: np.ndarray, threshold: float = 0.6) -> list:
    """Return the YuNet detections (x, y, w, h) scoring at least ``threshold``."""
    _, faces = detector.detect(frame)
    if faces is None:
        return []
    return [tuple(face[:4]) for face in faces if face[-1] >= threshold]


def centre_error(box, truth: SceneTruth) -> float:
    """Return the distance of a detection's centre from the truth, in face widths."""
    x, y, w, h = box
    return math.hypot(x + w / 2.0 - truth.u, y + h / 2.0 - truth.v) / truth.box[2]


# ---------------------------------------------------------------------------------------------
# Paths


def test_make_path_rejects_unknown_names_listing_the_allowed_ones():
    with pytest.raises(ValueError) as excinfo:
        make_path('circle')
    message = str(excinfo.value)
    assert 'path' in message
    for name in PATHS:
        assert repr(name) in message


def test_make_path_rejects_non_integer_seed():
    with pytest.raises(ValueError, match='seed'):
        make_path('drift', seed=1.5)


@pytest.mark.parametrize('name', PATHS)
def test_paths_are_deterministic_and_reject_non_finite_time(name):
    first, second = make_path(name, seed=7), make_path(name, seed=7)
    assert isinstance(first, FacePath)
    times = np.linspace(-5.0, 100.0, 211)
    assert [first.position(t) for t in times] == [second.position(t) for t in times]
    with pytest.raises(ValueError, match='t must be'):
        first.position(math.nan)


@pytest.mark.parametrize('name', ['drift', 'steps', 'leave_return'])
def test_different_seeds_give_different_paths(name):
    times = np.arange(0.0, 40.0, 0.5)
    tracks = {seed: [make_path(name, seed).position(t) for t in times] for seed in range(4)}
    for a in range(4):
        for b in range(a + 1, 4):
            assert tracks[a] != tracks[b]


def test_still_is_off_axis_and_fixed():
    path = make_path('still', seed=3)
    azimuth, elevation = path.position(0.0)
    assert math.hypot(azimuth, elevation) > 0.05
    assert all(path.position(t) == (azimuth, elevation) for t in (1.0, 60.0, 1e5))


@pytest.mark.parametrize('seed', range(6))
def test_drift_is_bounded_smooth_and_starts_off_centre(seed):
    path = make_path('drift', seed)
    dt = 0.05
    track = np.array([path.position(t) for t in np.arange(0.0, 300.0, dt)])
    assert np.abs(track[:, 0]).max() <= 0.35 + 1e-9
    assert np.abs(track[:, 1]).max() <= 0.12 + 1e-9
    assert np.abs(track[:, 0]).max() > 0.25  # it does sweep the room
    speed = np.hypot(*np.diff(track, axis=0).T) / dt
    assert speed.max() <= 0.12
    assert math.hypot(*track[0]) > 0.1


@pytest.mark.parametrize('seed', range(4))
def test_steps_hold_for_four_seconds_then_jump(seed):
    path = make_path('steps', seed)
    for step in range(15):
        start = 4.0 * step
        held = {path.position(start + dt) for dt in (0.0, 0.5, 2.0, 3.99)}
        assert len(held) == 1
        azimuth, elevation = held.pop()
        assert abs(azimuth) <= 0.45 and abs(elevation) <= 0.2
        next_azimuth, _ = path.position(start + 4.0)
        assert abs(next_azimuth - azimuth) >= 0.2


@pytest.mark.parametrize('seed', range(3))
def test_leave_return_is_out_of_view_in_its_window_only(seed):
    path, drift = make_path('leave_return', seed), make_path('drift', seed)
    scene = SimScene(path='leave_return', seed=seed, noise_sigma=0.0)
    for t in (0.0, 5.0, 9.9, 13.0, 20.0, 29.9, 33.5, 49.0):
        assert path.position(t) == drift.position(t)
    for t in (10.0, 11.5, 12.9, 30.0, 32.9, 50.5):
        azimuth, _ = path.position(t)
        assert 1.9 <= abs(azimuth) <= 2.3
        # Not even the face box enters the image with the pan at its 1.4 rad limit.
        pan = math.copysign(1.4, azimuth)
        truth = scene.truth(t, pan, 0.0)
        assert not truth.visible
        x, _, w, _ = truth.box
        assert x + w <= 0 or x >= WIDTH


# ---------------------------------------------------------------------------------------------
# Scene


def test_render_returns_contiguous_bgr_frame_and_truth(still_scene):
    frame, truth = still_scene.render(0.0, 0.0, 0.0)
    assert frame.shape == (HEIGHT, WIDTH, 3)
    assert frame.dtype == np.uint8
    assert frame.flags['C_CONTIGUOUS']
    assert isinstance(truth, SceneTruth)
    assert truth.visible
    # About 80 px wide at the defaults (0.15 rad of a 60 degree, 640 px camera).
    assert abs(truth.box[2] - 0.15 * FOCAL) <= 1.0


def test_face_on_the_optical_axis_has_zero_error(still_scene):
    truth = still_scene.truth(0.0, STILL[0], -STILL[1])
    assert truth.visible
    assert truth.u == pytest.approx(WIDTH / 2.0)
    assert truth.v == pytest.approx(HEIGHT / 2.0)
    assert truth.offset_x == pytest.approx(0.0, abs=1e-9)
    assert truth.offset_y == pytest.approx(0.0, abs=1e-9)
    assert truth.error == pytest.approx(0.0, abs=1e-9)


def test_truth_follows_geometry(still_scene):
    truth = still_scene.truth(0.0, 0.1, -0.2)
    u, v, _ = geometry.direction_to_pixel(STILL[0], STILL[1], 0.1, -0.2, WIDTH, HEIGHT,
                                          math.radians(60))
    assert (truth.u, truth.v) == pytest.approx((u, v))
    assert (truth.offset_x, truth.offset_y) == pytest.approx(
        geometry.pixel_to_offset(u, v, WIDTH, HEIGHT))
    assert truth.error == pytest.approx(math.hypot(u - 320, v - 240) / 320)
    x, y, w, h = truth.box
    assert abs(x + w / 2 - u) <= 1.0 and abs(y + h / 2 - v) <= 1.0


def test_haar_finds_exactly_one_face_at_the_truth(still_scene, haar):
    for pan, tilt in POSES:
        frame, truth = still_scene.render(1.0, pan, tilt)
        faces = haar_faces(haar, frame)
        assert len(faces) == 1, (pan, tilt, faces)
        assert centre_error(faces[0], truth) < 0.1, (pan, tilt, faces, truth)


def test_yunet_finds_exactly_one_face_at_the_truth(still_scene, yunet):
    for pan, tilt in POSES:
        frame, truth = still_scene.render(1.0, pan, tilt)
        faces = yunet_faces(yunet, frame)
        assert len(faces) == 1, (pan, tilt, faces)
        assert centre_error(faces[0], truth) < 0.1, (pan, tilt, faces, truth)


def test_detectors_follow_a_drifting_face():
    scene = SimScene(path='drift', seed=2)
    cascade = cv2.CascadeClassifier(
        cv2.data.haarcascades + 'haarcascade_frontalface_default.xml')
    for t in (0.0, 7.0, 15.0):
        frame, truth = scene.render(t, 0.0, 0.0)
        assert truth.visible
        faces = haar_faces(cascade, frame)
        assert len(faces) == 1 and centre_error(faces[0], truth) < 0.1


def locate(frame: np.ndarray, patch: np.ndarray):
    """Return the top-left (x, y) where ``patch`` matches ``frame`` best."""
    scores = cv2.matchTemplate(frame, patch, cv2.TM_SQDIFF)
    _, _, best, _ = cv2.minMaxLoc(scores)
    return best


def test_pan_moves_the_face_right_and_tilt_moves_it_up(clean_scene):
    frame, truth = clean_scene.render(0.0, 0.0, 0.0)
    x, y, w, h = truth.box
    patch = frame[y:y + h, x:x + w].copy()

    panned_frame, panned = clean_scene.render(0.0, 0.1, 0.0)
    assert panned.u > truth.u and panned.v == pytest.approx(truth.v)
    assert locate(panned_frame, patch) == panned.box[:2]
    assert panned.box[0] - x == pytest.approx(FOCAL * 0.1, abs=6.0)

    tilted_frame, tilted = clean_scene.render(0.0, 0.0, 0.1)
    assert tilted.v < truth.v and tilted.u == pytest.approx(truth.u)
    assert locate(tilted_frame, patch) == tilted.box[:2]
    assert y - tilted.box[1] == pytest.approx(FOCAL * 0.1, abs=6.0)


def test_background_is_fixed_in_the_world(clean_scene):
    # The face is far behind the camera's left side; only the background is in view.
    pan, step = -2.0, 0.05
    first, truth = clean_scene.render(0.0, pan, 0.1)
    assert not truth.visible
    panned, _ = clean_scene.render(0.0, pan + step, 0.1)
    tilted, _ = clean_scene.render(0.0, pan, 0.1 + step)
    shift = round(step * FOCAL)
    margin = 2

    def mismatch(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))

    # Panning left by `step` moves the content right by about `step * f` pixels ...
    best = min(range(shift - margin, shift + margin + 1),
               key=lambda s: mismatch(panned[:, s:], first[:, :WIDTH - s]))
    assert abs(best - shift) <= 1
    assert mismatch(panned[:, best:], first[:, :WIDTH - best]) < 0.5
    # ... and tilting down moves it up.
    best = min(range(shift - margin, shift + margin + 1),
               key=lambda s: mismatch(tilted[:HEIGHT - s], first[s:]))
    assert abs(best - shift) <= 1
    assert mismatch(tilted[:HEIGHT - best], first[best:]) < 0.5
    assert mismatch(panned, first) > 2.0  # it is textured: a turn changes the picture


def test_background_only_frames_have_no_faces(haar, request):
    scene = SimScene(path='still', seed=1)
    detector = None
    if YUNET_MODEL.is_file():
        detector = request.getfixturevalue('yunet')
    poses = [(pan, tilt) for pan in (-2.6, -1.9, -1.2, 1.3, 2.0, 2.7)
             for tilt in (-0.35, 0.3)]
    for pan, tilt in poses:
        frame, truth = scene.render(2.0, pan, tilt)
        x, y, w, h = truth.box
        assert not truth.visible and (x + w < -200 or x > WIDTH + 200 or not w), (pan, tilt)
        assert haar_faces(haar, frame) == [], (pan, tilt)
        if detector is not None:
            assert yunet_faces(detector, frame, threshold=0.5) == [], (pan, tilt)


def test_render_is_a_pure_function_of_its_arguments():
    first = SimScene(path='drift', seed=5)
    second = SimScene(path='drift', seed=5)
    for t, pan, tilt in ((0.0, 0.0, 0.0), (3.217, 0.2, -0.1), (12.5, -0.3, 0.15)):
        frame_a, truth_a = first.render(t, pan, tilt)
        frame_b, truth_b = second.render(t, pan, tilt)
        again, _ = first.render(t, pan, tilt)
        assert frame_a.tobytes() == frame_b.tobytes() == again.tobytes()
        assert truth_a == truth_b


def test_seeds_change_background_and_path():
    frames = [SimScene(path='drift', seed=seed).render(0.0, 0.0, 0.0) for seed in (0, 1)]
    assert frames[0][0].tobytes() != frames[1][0].tobytes()
    assert (frames[0][1].u, frames[0][1].v) != (frames[1][1].u, frames[1][1].v)


def test_sensor_noise_has_the_configured_sigma(clean_scene):
    noisy = SimScene(path='still', seed=0, noise_sigma=4.0)
    differences = []
    for t in (0.0, 0.033, 0.067, 0.1, 0.133):
        frame, _ = noisy.render(t, 0.0, 0.0)
        clean, _ = clean_scene.render(t, 0.0, 0.0)
        differences.append(frame.astype(np.float32) - clean.astype(np.float32))
    assert all(abs(float(d.std()) - 4.0) < 0.4 for d in differences)
    assert abs(float(np.mean(differences))) < 0.2
    # The noise changes over time.
    assert any(not np.array_equal(differences[0], d) for d in differences[1:])
    # Without noise, time does not change a still scene.
    assert clean_scene.render(0.0, 0.0, 0.0)[0].tobytes() == \
        clean_scene.render(9.0, 0.0, 0.0)[0].tobytes()


def test_face_partly_outside_the_frame_is_clipped(clean_scene):
    # The same background (same seed) with the face gone, to see which pixels the face drew.
    empty_scene = SimScene(path='leave_return', seed=0, noise_sigma=0.0)
    for centre_u, visible in ((-25.0, False), (25.0, True), (WIDTH + 25.0, False),
                              (WIDTH - 25.0, True)):
        # Pan so that the face centre lands at centre_u.
        rel_az = math.atan((WIDTH / 2.0 - centre_u) / FOCAL)
        pan = STILL[0] - rel_az
        frame, truth = clean_scene.render(11.0, pan, -STILL[1])
        empty, empty_truth = empty_scene.render(11.0, pan, -STILL[1])
        assert not empty_truth.visible
        assert truth.u == pytest.approx(centre_u)
        assert truth.visible is visible
        drawn = np.argwhere(np.any(frame != empty, axis=2))
        assert len(drawn) > 0
        left, right = drawn[:, 1].min(), drawn[:, 1].max()
        # The face sprite is cut at the image border and drawn around the truth.
        assert left == 0 if centre_u < WIDTH / 2 else right == WIDTH - 1
        assert left <= min(max(truth.u, 0.0), WIDTH - 1.0) <= right


def test_face_behind_the_camera():
    scene = SimScene(path='still', noise_sigma=0.0, width=320, height=240)
    frame, truth = scene.render(0.0, STILL[0] + math.pi, 0.0)
    assert frame.shape == (240, 320, 3)
    assert not truth.visible
    assert math.isnan(truth.u) and math.isnan(truth.offset_x) and math.isinf(truth.error)


@pytest.mark.parametrize('kwargs, name', [
    ({'width': 0}, 'width'),
    ({'height': 10.5}, 'height'),
    ({'hfov': 4.0}, 'hfov'),
    ({'hfov': 0.0}, 'hfov'),
    ({'face_size_rad': 0.0}, 'face_size_rad'),
    ({'face_size_rad': 2.0}, 'face_size_rad'),
    ({'noise_sigma': -1.0}, 'noise_sigma'),
    ({'noise_sigma': math.nan}, 'noise_sigma'),
    ({'path': 'circle'}, 'path'),
    ({'seed': 'x'}, 'seed'),
])
def test_scene_rejects_bad_parameters_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SimScene(**kwargs)


def test_render_rejects_non_finite_pose_naming_it(still_scene):
    for args, name in (((math.nan, 0.0, 0.0), 't'), ((0.0, math.inf, 0.0), 'pan'),
                       ((0.0, 0.0, None), 'tilt')):
        with pytest.raises(ValueError, match=f'^{name} must be'):
            still_scene.render(*args)
