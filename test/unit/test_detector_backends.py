# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the face detection backends on real photographs."""

import dataclasses
import hashlib
import os

import cv2
import numpy as np
import pytest
import skimage.data

from face_tracker_ros.detector import backends

MODEL_PATH = '/work/shared/models/face_detection_yunet.onnx'
MODEL_SHA256 = 'ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0'
ASTRONAUT_FACE = (177, 66, 95, 95)

needs_model = pytest.mark.skipif(
    not os.path.isfile(MODEL_PATH), reason=f'YuNet model not present at {MODEL_PATH}')


def iou(face, box):
    """Return the intersection over union of a Face and an ``(x, y, w, h)`` box."""
    x, y, w, h = box
    ix = max(0.0, min(face.x + face.w, x + w) - max(face.x, x))
    iy = max(0.0, min(face.y + face.h, y + h) - max(face.y, y))
    inter = ix * iy
    return inter / (face.area + w * h - inter)


def centre_error(face, box):
    """Return the distance in pixels between the centres of a Face and a box."""
    x, y, w, h = box
    return float(np.hypot(face.center[0] - (x + w / 2.0), face.center[1] - (y + h / 2.0)))


@pytest.fixture(scope='module')
def astronaut():
    """Return the astronaut photograph as BGR (skimage gives RGB)."""
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope='module')
def offset_canvas(astronaut):
    """Return a 640x480 grey canvas with the photograph pasted at an offset, and the face."""
    canvas = np.full((480, 640, 3), 110, np.uint8)
    crop = astronaut[0:400, 60:460]
    ox, oy = 210, 50
    canvas[oy:oy + 400, ox:ox + 400] = crop
    x, y, w, h = ASTRONAUT_FACE
    return canvas, (x - 60 + ox, y + oy, w, h)


@pytest.fixture(scope='module')
def haar():
    """Return a default Haar backend."""
    return backends.HaarBackend()


@pytest.fixture(scope='module')
def yunet():
    """Return a YuNet backend on the shared model."""
    if not os.path.isfile(MODEL_PATH):
        pytest.skip(f'YuNet model not present at {MODEL_PATH}')
    return backends.YuNetBackend(MODEL_PATH)


def test_face_geometry():
    """Face exposes its centre and area and is immutable."""
    face = backends.Face(10.0, 20.0, 30.0, 40.0, 0.5)
    assert face.center == (25.0, 40.0)
    assert face.area == 1200.0
    assert backends.Face(0, 0, 1, 1).score == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        face.x = 3.0


def test_haar_finds_the_astronaut(haar, astronaut):
    """Haar finds exactly the astronaut's face in the photograph."""
    faces = haar.detect(astronaut)
    assert len(faces) == 1
    assert iou(faces[0], ASTRONAUT_FACE) > 0.8


def test_haar_finds_the_face_at_an_offset_in_a_camera_sized_frame(haar, offset_canvas):
    """Coordinates are those of the frame the photograph was pasted into."""
    canvas, truth = offset_canvas
    faces = haar.detect(canvas)
    assert len(faces) == 1
    assert iou(faces[0], truth) > 0.8


def test_haar_takes_mono8_and_bgra(haar, offset_canvas):
    """A mono8 or BGRA frame gives the same face as the BGR one."""
    canvas, truth = offset_canvas
    gray = cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY)
    for image in (gray, gray[:, :, None], cv2.cvtColor(canvas, cv2.COLOR_BGR2BGRA)):
        faces = haar.detect(image)
        assert len(faces) == 1 and iou(faces[0], truth) > 0.8


@needs_model
def test_yunet_finds_the_astronaut(yunet, astronaut, offset_canvas):
    """YuNet finds the face in the photograph and in the offset frame, with a score."""
    faces = yunet.detect(astronaut)
    assert len(faces) == 1
    assert centre_error(faces[0], ASTRONAUT_FACE) < 12 and 0.7 <= faces[0].score <= 1.0
    canvas, truth = offset_canvas
    faces = yunet.detect(canvas)
    assert len(faces) == 1
    assert centre_error(faces[0], truth) < 12
    assert abs(faces[0].w - truth[2]) < 20
    gray = cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY)
    assert centre_error(yunet.detect(gray)[0], truth) < 12
    # Back to the first size: the input size follows the frames.
    assert centre_error(yunet.detect(astronaut)[0], ASTRONAUT_FACE) < 12


@needs_model
def test_yunet_checksum_known_model_is_verified(yunet):
    """The model zoo file is recognised by its sha256."""
    assert yunet.checksum_status.startswith('verified (')
    # The shared file is the zoo's 2026may release (same sha256 and size as published there).
    assert 'face_detection_yunet_2026may.onnx' in yunet.checksum_status
    assert backends.sha256_of(MODEL_PATH) == MODEL_SHA256


@needs_model
def test_yunet_checksum_mismatch_is_refused():
    """A file that does not match expected_sha256 is refused, naming both hashes."""
    wrong = 'ab' * 32
    with pytest.raises(ValueError) as info:
        backends.YuNetBackend(MODEL_PATH, expected_sha256=wrong)
    assert wrong in str(info.value) and MODEL_SHA256 in str(info.value)
    matching = backends.YuNetBackend(MODEL_PATH, expected_sha256=MODEL_SHA256.upper())
    assert matching.checksum_status.startswith('verified')


@needs_model
def test_yunet_unknown_checksum_is_reported(monkeypatch):
    """A model not in the known list loads, with its checksum reported as unknown."""
    monkeypatch.delitem(backends.KNOWN_MODEL_SHA256, MODEL_SHA256)
    assert backends.YuNetBackend(MODEL_PATH).checksum_status == f'unknown checksum {MODEL_SHA256}'
    assert backends.YuNetBackend(MODEL_PATH, expected_sha256=MODEL_SHA256).checksum_status == \
        'verified (matches expected_sha256)'


def test_yunet_missing_model_names_the_parameter(tmp_path):
    """A missing model file raises FileNotFoundError naming model_path."""
    with pytest.raises(FileNotFoundError, match='model_path'):
        backends.YuNetBackend(str(tmp_path / 'absent.onnx'))
    with pytest.raises(FileNotFoundError, match='model_path'):
        backends.YuNetBackend('')


def test_yunet_garbage_model_names_the_parameter(tmp_path):
    """A file that is not an ONNX model raises ValueError naming model_path."""
    path = tmp_path / 'garbage.onnx'
    path.write_bytes(b'not a network')
    with pytest.raises(ValueError, match='model_path'):
        backends.YuNetBackend(str(path))


def test_sha256_of_matches_hashlib(tmp_path):
    """backends.sha256_of hashes the whole file, also past one read block."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / 'blob.bin'
    path.write_bytes(data)
    assert backends.sha256_of(str(path)) == hashlib.sha256(data).hexdigest()


def test_make_backend_builds_by_name():
    """backends.make_backend returns the named backend with its parameters."""
    backend = backends.make_backend('haar', min_neighbors=3)
    assert isinstance(backend, backends.HaarBackend) and backend.name == 'haar'
    assert backends.BACKENDS == ('haar', 'yunet')
    if os.path.isfile(MODEL_PATH):
        assert backends.make_backend('yunet', model_path=MODEL_PATH).name == 'yunet'


def test_make_backend_unknown_name_lists_allowed_values():
    """An unknown backend name raises ValueError naming 'backend' and the choices."""
    with pytest.raises(ValueError) as info:
        backends.make_backend('dlib')
    message = str(info.value)
    assert 'backend' in message and "'haar'" in message and "'yunet'" in message
    with pytest.raises(ValueError, match='bogus'):
        backends.make_backend('haar', bogus=1)


@pytest.mark.parametrize('kwargs, name', [
    ({'scale_factor': 1.0}, 'scale_factor'), ({'scale_factor': 'x'}, 'scale_factor'),
    ({'min_neighbors': -1}, 'min_neighbors'), ({'min_neighbors': 2.5}, 'min_neighbors'),
    ({'min_size_px': 0}, 'min_size_px'), ({'min_size_px': True}, 'min_size_px'),
])
def test_haar_invalid_parameters_are_named(kwargs, name):
    """Haar parameter errors name the parameter."""
    with pytest.raises(ValueError, match=name):
        backends.HaarBackend(**kwargs)


@pytest.mark.parametrize('kwargs, name', [
    ({'score_threshold': 1.5}, 'score_threshold'), ({'nms_threshold': -0.1}, 'nms_threshold'),
    ({'top_k': 0}, 'top_k'), ({'expected_sha256': 'abc'}, 'expected_sha256'),
])
def test_yunet_invalid_parameters_are_named(kwargs, name):
    """YuNet parameter errors name the parameter."""
    with pytest.raises(ValueError, match=name):
        backends.YuNetBackend(MODEL_PATH, **kwargs)


def test_haar_missing_or_empty_cascade_is_a_clear_error(tmp_path):
    """A missing or unusable cascade XML raises RuntimeError naming cascade_path."""
    with pytest.raises(RuntimeError, match='cascade_path'):
        backends.HaarBackend(cascade_path=str(tmp_path / 'absent.xml'))
    empty = tmp_path / 'empty.xml'
    empty.write_text('')
    with pytest.raises(RuntimeError, match='cascade_path'):
        backends.HaarBackend(cascade_path=str(empty))


def test_haar_size_band_limits_the_faces_found(haar, astronaut):
    """min_size/max_size keep the faces whose width is inside the band, and only those."""
    assert len(haar.detect(astronaut, min_size=60, max_size=140)) == 1
    assert iou(haar.detect(astronaut, max_size=140)[0], ASTRONAUT_FACE) > 0.8
    assert haar.detect(astronaut, max_size=70) == []
    assert haar.detect(astronaut, min_size=130) == []
    assert haar.detect(astronaut, min_size=120, max_size=80) == []
    assert haar.detect(astronaut, max_size=haar.window_px - 1) == []


def test_haar_min_size_replaces_min_size_px_for_one_call(astronaut):
    """A call's min_size overrides the constructor's min_size_px; detect(image) keeps it."""
    small = cv2.resize(astronaut, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    truth = tuple(v * 0.5 for v in ASTRONAUT_FACE)  # the face is about 48 px wide
    strict = backends.HaarBackend(min_size_px=80)
    assert strict.detect(small) == []
    faces = strict.detect(small, min_size=30)
    assert len(faces) == 1 and iou(faces[0], truth) > 0.7


@needs_model
def test_yunet_size_band_filters_its_faces(yunet, astronaut):
    """YuNet drops the faces outside the band."""
    assert len(yunet.detect(astronaut, min_size=60, max_size=140)) == 1
    assert yunet.detect(astronaut, max_size=50) == []
    assert yunet.detect(astronaut, min_size=150) == []
    assert yunet.detect(astronaut, min_size=120, max_size=80) == []


@pytest.mark.parametrize('kwargs, name', [
    ({'min_size': 0}, 'min_size'), ({'min_size': -5.0}, 'min_size'),
    ({'min_size': float('nan')}, 'min_size'), ({'min_size': '30'}, 'min_size'),
    ({'min_size': True}, 'min_size'), ({'max_size': float('inf')}, 'max_size'),
    ({'max_size': [40]}, 'max_size'),
])
def test_invalid_size_band_is_named(haar, astronaut, kwargs, name):
    """A size that is not None or a positive finite number raises ValueError naming it."""
    detectors = [haar]
    if os.path.isfile(MODEL_PATH):
        detectors.append(backends.YuNetBackend(MODEL_PATH))
    for detector in detectors:
        with pytest.raises(ValueError, match=name):
            detector.detect(astronaut, **kwargs)


BAD_FRAMES = [
    None, 'frame', np.zeros((0, 0, 3), np.uint8), np.zeros((1, 1, 3), np.uint8),
    np.zeros((5, 5), np.uint8), np.zeros((64, 64, 3), np.float32), np.zeros((10, 10, 2), np.uint8),
    np.zeros((2, 2, 2, 2), np.uint8), np.zeros((1, 1000, 3), np.uint8),
    np.zeros((30, 30, 3), np.uint8), np.full((20, 300, 3), 255, np.uint8),
]


def test_bad_frames_give_no_faces_and_no_exception(haar):
    """Malformed frames yield an empty list from every backend."""
    detectors = [haar]
    if os.path.isfile(MODEL_PATH):
        detectors.append(backends.YuNetBackend(MODEL_PATH))
    for detector in detectors:
        for frame in BAD_FRAMES:
            assert detector.detect(frame) == [], (detector.name, getattr(frame, 'shape', frame))
            assert detector.detect(frame, min_size=2, max_size=40) == []


@pytest.mark.parametrize('roll', [-25.0, 25.0])
def test_haar_near_search_finds_a_rolled_head(astronaut, roll):
    """A head rolled 25 degrees: the upright cascade misses it, detect_near finds it in place."""
    haar = backends.HaarBackend(min_neighbors=3)
    x, y, w, h = ASTRONAUT_FACE
    cu, cv = x + w / 2.0, y + h / 2.0
    crop = astronaut[max(0, int(cv - 1.25 * h)):int(cv + 1.25 * h),
                     int(cu - 1.25 * w):int(cu + 1.25 * w)]
    height, width = crop.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), roll, 1.0)
    rolled = cv2.warpAffine(crop, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    assert haar.detect(rolled, min_size=0.5 * w, max_size=2.0 * w) == []
    found = haar.detect_near(rolled, min_size=0.5 * w, max_size=2.0 * w)
    assert len(found) == 1
    # The face's centre, turned with the image.
    fu = turn[0, 0] * (cu - int(cu - 1.25 * w)) + turn[0, 1] * (cv - max(0, int(cv - 1.25 * h))) \
        + turn[0, 2]
    fv = turn[1, 0] * (cu - int(cu - 1.25 * w)) + turn[1, 1] * (cv - max(0, int(cv - 1.25 * h))) \
        + turn[1, 2]
    assert np.hypot(found[0].center[0] - fu, found[0].center[1] - fv) < 0.2 * w
    assert 0.7 * w < found[0].w < 1.4 * w
