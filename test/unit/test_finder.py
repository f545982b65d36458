# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the FaceFinder search strategy on sequences built from real photographs."""

import array
import math
import os
import statistics
import time

import cv2
import numpy as np
import pytest
import skimage.data

from face_tracker_ros.detector import backends, labelled
from face_tracker_ros.detector.finder import FaceFinder

MODEL_PATH = '/work/shared/models/face_detection_yunet.onnx'
# The astronaut's face in the head-and-shoulders crop below (x, y, w, h) at scale 1.
SPRITE_FACE = (77, 66, 95, 95)


def sprite(scale=1.0):
    """Return the astronaut's head and shoulders (BGR) scaled by ``scale``."""
    bgr = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    crop = bgr[0:260, 100:340]
    if scale == 1.0:
        return crop.copy()
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def background():
    """Return a 640x480 BGR photograph without faces (skimage's coffee cup)."""
    return cv2.resize(cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR), (640, 480),
                      interpolation=cv2.INTER_AREA)


def compose(base, pastes):
    """Return ``base`` with each ``(image, x, y)`` pasted at its top-left corner."""
    frame = base.copy()
    for image, x, y in pastes:
        frame[y:y + image.shape[0], x:x + image.shape[1]] = image
    return frame


def face_centre(x, y, scale=1.0):
    """Return the true face centre of a sprite of ``scale`` pasted at ``(x, y)``."""
    fx, fy, fw, fh = SPRITE_FACE
    return x + (fx + fw / 2.0) * scale, y + (fy + fh / 2.0) * scale


def moving_positions(count=30):
    """Return sprite positions sweeping left to right across a 640x480 frame."""
    return [(int(10 + 13 * i), int(110 + 80 * math.sin(i / 5.0))) for i in range(count)]


def nearest_error(faces, centre):
    """Return the distance from ``centre`` to the nearest face centre (inf if none)."""
    return min((math.hypot(f.center[0] - centre[0], f.center[1] - centre[1]) for f in faces),
               default=math.inf)


@pytest.fixture(scope='module')
def haar():
    """Return a default Haar backend."""
    return backends.HaarBackend()


@pytest.fixture(scope='module')
def sequence():
    """Return (frames, true face centres) of the astronaut moving over a photograph."""
    base, astronaut = background(), sprite()
    positions = moving_positions()
    frames = [compose(base, [(astronaut, x, y)]) for x, y in positions]
    return frames, [face_centre(x, y) for x, y in positions]


@pytest.fixture
def one_thread():
    """Run OpenCV on one thread for the test (a detector node's budget), then restore."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)


def follow(finder, frames, truths, max_error_px):
    """Run ``finder`` over the frames; assert one face near each truth; return (modes, times)."""
    modes, times = [], []
    for frame, truth in zip(frames, truths):
        start = time.perf_counter()
        faces = finder.find(frame)
        times.append(time.perf_counter() - start)
        modes.append(finder.last_mode)
        assert len(faces) == 1
        assert nearest_error(faces, truth) < max_error_px
    return modes, times


def test_tracks_a_moving_face_with_roi_searches(haar, sequence, one_thread):
    """Every frame finds the face; after the first frame only ROIs are searched.

    The default schedule forces a full search on frame 15.  The median time
    per frame of FaceFinder and of a plain full-frame Haar search on 640x480 is
    printed for the report (not asserted).
    """
    frames, truths = sequence
    modes, times = follow(FaceFinder(haar), frames, truths, max_error_px=10)
    assert modes == ['full'] + ['roi'] * 14 + ['full'] + ['roi'] * 14
    full_times = []
    for frame in frames[::4]:
        start = time.perf_counter()
        haar.detect(frame)
        full_times.append(time.perf_counter() - start)
    print(f'\nHaar median per 640x480 frame: full frame {statistics.median(full_times) * 1e3:.1f} '
          f'ms, FaceFinder (defaults) {statistics.median(times) * 1e3:.1f} ms')


def test_falls_back_to_a_full_search_when_the_face_jumps(haar, sequence):
    """A face that jumps out of the search region is found by a full search that frame."""
    frames, truths = sequence
    finder = FaceFinder(haar)
    for frame in frames[:5]:
        finder.find(frame)
    assert finder.last_mode == 'roi'
    base, astronaut = background(), sprite()
    far = compose(base, [(astronaut, 390, 210)])
    faces = finder.find(far)
    assert finder.last_mode == 'full'
    assert nearest_error(faces, face_centre(390, 210)) < 10
    faces = finder.find(compose(base, [(astronaut, 385, 212)]))
    assert finder.last_mode == 'roi'
    assert nearest_error(faces, face_centre(385, 212)) < 10


def test_face_leaving_the_picture_gives_no_faces_then_is_found_again(haar, sequence):
    """An empty frame is searched in full and the next face is found from scratch."""
    frames, truths = sequence
    finder = FaceFinder(haar)
    finder.find(frames[0])
    finder.find(frames[1])
    assert finder.find(background()) == []
    assert finder.last_mode == 'full'
    assert nearest_error(finder.find(frames[2]), truths[2]) < 10
    assert finder.last_mode == 'full'


def test_forced_full_search_finds_a_second_larger_face(haar):
    """A bigger face appearing elsewhere is reported within full_search_every frames."""
    base, small, big = background(), sprite(0.7), sprite(1.0)
    finder = FaceFinder(haar, full_search_every=5)
    first = finder.find(compose(base, [(small, 20, 60)]))
    assert len(first) == 1
    reports = []
    for step in range(8):
        frame = compose(base, [(small, 20 + 3 * step, 60), (big, 380, 200)])
        faces = finder.find(frame)
        reports.append((faces, finder.last_mode))
    counts = [len(faces) for faces, _ in reports]
    # ROI searches around the small face cannot see the new one ...
    assert counts[0] == 1 and reports[0][1] == 'roi'
    # ... until the forced full search, within full_search_every frames.
    found_at = counts.index(2)
    assert found_at < 5 and reports[found_at][1] == 'full'
    # From then on both faces are tracked (one ROI each), the largest first.
    for faces, _ in reports[found_at:]:
        assert len(faces) == 2
        assert nearest_error(faces[:1], face_centre(380, 200)) < 10
    assert [mode for _, mode in reports[found_at + 1:]] == ['roi'] * (7 - found_at)


def test_detect_width_downscales_the_full_search(haar):
    """A face too small for the downscaled search is found at native size (detect_width=0)."""
    base = background()
    tiny = sprite(0.5)  # face about 48 px wide: 24 px at half size, under min_size_px 30
    frame = compose(base, [(tiny, 300, 200)])
    truth = face_centre(300, 200, 0.5)
    assert FaceFinder(haar, detect_width=320).find(frame) == []
    assert nearest_error(FaceFinder(haar, detect_width=0).find(frame), truth) < 6
    # A frame narrower than detect_width is searched as it is (never upscaled).
    assert nearest_error(FaceFinder(haar, detect_width=1280).find(frame), truth) < 6


def test_roi_search_disabled_always_searches_full(haar, sequence):
    """With roi_search=False every frame is a full search."""
    frames, truths = sequence
    finder = FaceFinder(haar, roi_search=False)
    for frame, truth in zip(frames[:4], truths[:4]):
        assert nearest_error(finder.find(frame), truth) < 10
        assert finder.last_mode == 'full'


def test_reset_forces_a_full_search(haar, sequence):
    """reset() forgets the previous faces."""
    frames, _ = sequence
    finder = FaceFinder(haar)
    finder.find(frames[0])
    finder.find(frames[1])
    assert finder.last_mode == 'roi'
    finder.reset()
    finder.find(frames[2])
    assert finder.last_mode == 'full'


def test_bad_frames_give_no_faces_and_no_exception(haar, sequence):
    """Malformed frames yield [] and the next good frame is searched in full."""
    frames, truths = sequence
    finder = FaceFinder(haar)
    finder.find(frames[0])
    bad = [None, 'frame', np.zeros((0, 0, 3), np.uint8), np.zeros((480, 640, 3), np.float32),
           np.zeros((4, 4, 4, 4), np.uint8), np.zeros((1, 1, 3), np.uint8),
           np.zeros((480, 640, 2), np.uint8)]
    for frame in bad:
        assert finder.find(frame) == []
    assert nearest_error(finder.find(frames[1]), truths[1]) < 10
    assert finder.last_mode == 'full'
    assert finder.find(frames[1][:3, :3]) == []


def test_face_near_the_image_corner_is_tracked_in_roi_mode(haar):
    """Regions clipped by the image border still report the face they contain."""
    corner = sprite()[30:, 60:]  # the face ends up about 17 px from the left, 36 from the top
    base = background()
    finder = FaceFinder(haar)
    for step in range(4):
        faces = finder.find(compose(base, [(corner, step, step)]))
        assert nearest_error(faces, face_centre(step - 60, step - 30)) < 10
    assert finder.last_mode == 'roi'


class RecordingBackend(backends.FaceDetectorBackend):
    """A Haar backend that records the image size and size band of every call."""

    name = 'recording'

    def __init__(self, inner):
        """Wrap ``inner``."""
        self.inner = inner
        self.calls = []

    def detect(self, image, min_size=None, max_size=None):
        """Record the call and pass it on."""
        self.calls.append((image.shape[:2], min_size, max_size))
        return self.inner.detect(image, min_size=min_size, max_size=max_size)


class ImageOnlyBackend:
    """A backend written before detect() took a size band."""

    def __init__(self, inner):
        """Wrap ``inner``."""
        self.inner = inner

    def detect(self, image):
        """Return the faces of the wrapped backend."""
        return self.inner.detect(image)


def test_roi_search_scales_the_face_and_asks_for_a_size_band(haar, sequence):
    """A region is scaled so the face is about roi_face_px wide; sizes stay near it.

    The full search is left to the backend's own size limits.
    """
    frames, truths = sequence
    recorder = RecordingBackend(haar)
    finder = FaceFinder(recorder, roi_face_px=40, roi_size_band=(0.75, 1.5))
    finder.find(frames[0])
    assert finder.last_mode == 'full' and recorder.calls[-1][1:] == (None, None)
    remembered = finder.find(frames[1])[0].w
    assert finder.last_mode == 'roi'
    (height, width), min_size, max_size = recorder.calls[-1]
    assert remembered > 80  # so the region is downscaled
    assert width == pytest.approx(2.5 * 40, abs=3) and height == pytest.approx(2.5 * 40, abs=3)
    assert min_size == pytest.approx(0.75 * 40, rel=0.03)
    assert max_size == pytest.approx(1.5 * 40, rel=0.03)
    faces = finder.find(frames[2])
    assert finder.last_mode == 'roi' and nearest_error(faces, truths[2]) < 10


def test_a_face_changing_size_quickly_is_still_tracked(haar):
    """A face that grows or shrinks by almost 2x in one frame is still found, centred.

    After a jump in size the reported width catches up within two frames.
    """
    base = background()

    def frame(scale):
        # The face centre stays at (300, 240) whatever the scale.
        x = int(round(300 - (SPRITE_FACE[0] + SPRITE_FACE[2] / 2.0) * scale))
        y = int(round(240 - (SPRITE_FACE[1] + SPRITE_FACE[3] / 2.0) * scale))
        return compose(base, [(sprite(scale), x, y)])

    near, far = frame(1.3), frame(0.7)
    near_width = haar.detect(near)[0].w
    finder = FaceFinder(haar)
    assert nearest_error(finder.find(far), (300, 240)) < 10
    for _ in range(3):
        faces = finder.find(near)
        assert len(faces) == 1 and nearest_error(faces, (300, 240)) < 10
    assert faces[0].w == pytest.approx(near_width, rel=0.2)
    for _ in range(2):
        faces = finder.find(far)
        assert len(faces) == 1 and nearest_error(faces, (300, 240)) < 10
    assert finder.last_mode == 'roi'


def test_small_faces_are_tracked_at_native_size(haar):
    """Faces not much larger than roi_face_px are searched unscaled, and still tracked."""
    base, tiny = background(), sprite(0.5)  # face about 48 px wide
    finder = FaceFinder(haar, detect_width=0)
    modes = []
    for x, y in moving_positions(8):
        faces = finder.find(compose(base, [(tiny, x, y)]))
        modes.append(finder.last_mode)
        assert len(faces) == 1 and nearest_error(faces, face_centre(x, y, 0.5)) < 6
    assert modes == ['full'] + ['roi'] * 7


def test_a_backend_without_size_band_still_works(haar, sequence):
    """A backend whose detect() takes only the image gets the band applied to its output."""
    frames, truths = sequence
    finder = FaceFinder(ImageOnlyBackend(haar))
    for index, (frame, truth) in enumerate(zip(frames[:5], truths[:5])):
        faces = finder.find(frame)
        assert finder.last_mode == ('full' if index == 0 else 'roi')
        assert len(faces) == 1 and nearest_error(faces, truth) < 10


def test_roi_parameters_take_ros_style_values(haar):
    """roi_face_px takes an int or a float; roi_size_band any pair (list, array)."""
    finder = FaceFinder(haar, roi_face_px=40, roi_size_band=array.array('d', [0.8, 1.5]))
    assert finder.roi_face_px == 40.0 and finder.roi_size_band == (0.8, 1.5)
    finder = FaceFinder(haar, roi_face_px=52.5, roi_size_band=[1, 2])
    assert finder.roi_face_px == 52.5 and finder.roi_size_band == (1.0, 2.0)


@pytest.mark.parametrize('kwargs, name', [
    ({'detect_width': -1}, 'detect_width'), ({'detect_width': 10}, 'detect_width'),
    ({'detect_width': 320.5}, 'detect_width'), ({'roi_scale': 1.0}, 'roi_scale'),
    ({'roi_scale': 'big'}, 'roi_scale'), ({'full_search_every': 0}, 'full_search_every'),
    ({'roi_search': 'yes'}, 'roi_search'), ({'roi_face_px': 10}, 'roi_face_px'),
    ({'roi_face_px': 1000}, 'roi_face_px'), ({'roi_face_px': float('nan')}, 'roi_face_px'),
    ({'roi_face_px': '40'}, 'roi_face_px'), ({'roi_face_px': True}, 'roi_face_px'),
    ({'roi_size_band': (1.2, 1.6)}, 'roi_size_band'),
    ({'roi_size_band': (0.7, 0.9)}, 'roi_size_band'),
    ({'roi_size_band': (0.7,)}, 'roi_size_band'), ({'roi_size_band': 0.7}, 'roi_size_band'),
    ({'roi_size_band': 'ab'}, 'roi_size_band'), ({'roi_size_band': None}, 'roi_size_band'),
    ({'roi_size_band': (0.7, float('inf'))}, 'roi_size_band'),
])
def test_invalid_parameters_are_named(haar, kwargs, name):
    """Constructor errors name the parameter and its allowed range."""
    with pytest.raises(ValueError, match=name):
        FaceFinder(haar, **kwargs)
    with pytest.raises(ValueError, match='backend'):
        FaceFinder(object())


@pytest.mark.skipif(not os.path.isfile(MODEL_PATH),
                    reason=f'YuNet model not present at {MODEL_PATH}')
def test_tracks_a_moving_face_with_yunet(sequence, one_thread):
    """The strategy works the same with the YuNet backend."""
    frames, truths = sequence
    modes, times = follow(FaceFinder(backends.YuNetBackend(MODEL_PATH)), frames, truths,
                          max_error_px=15)
    assert modes.count('roi') >= 25
    print(f'\nYuNet median per 640x480 frame: FaceFinder (defaults) '
          f'{statistics.median(times) * 1e3:.1f} ms')


@pytest.fixture(scope='module')
def lfw_canvases():
    """Return (is_face, 160x160 mono8 canvas) for the 200 labelled LFW crops."""
    return labelled.lfw_canvases()


def recall_and_false_positives(detect, canvases):
    """Return (recall on faces, share of non-faces with any detection) of ``detect``."""
    hits = false_positives = 0
    for is_face, canvas in canvases:
        faces = detect(canvas)
        if is_face:
            hits += any(30 <= f.center[0] < 130 and 30 <= f.center[1] < 130
                        and 40 <= f.w <= 170 for f in faces)
        else:
            false_positives += bool(faces)
    return hits / 100.0, false_positives / 100.0


def test_labelled_set_haar_and_finder(haar, lfw_canvases):
    """Haar finds nearly all LFW faces, no non-faces, and FaceFinder loses nothing.

    The finder is fed the 200 crops as one stream, so its ROI searches and
    fall-backs are exercised on every change of picture.
    """
    plain_recall, plain_fp = recall_and_false_positives(haar.detect, lfw_canvases)
    finder = FaceFinder(haar)
    recall, fp = recall_and_false_positives(finder.find, lfw_canvases)
    print(f'\nLFW subset (100 faces / 100 non-faces): Haar full frame recall '
          f'{plain_recall:.2f} fp {plain_fp:.2f}; FaceFinder(Haar) recall {recall:.2f} '
          f'fp {fp:.2f}')
    assert plain_recall >= 0.9
    assert plain_fp <= 0.05
    assert recall >= plain_recall
    assert fp <= 0.05


@pytest.mark.skipif(not os.path.isfile(MODEL_PATH),
                    reason=f'YuNet model not present at {MODEL_PATH}')
def test_labelled_set_yunet(lfw_canvases):
    """YuNet finds nearly all LFW faces and fires on no non-face."""
    recall, fp = recall_and_false_positives(backends.YuNetBackend(MODEL_PATH).detect,
                                            lfw_canvases)
    print(f'\nLFW subset (100 faces / 100 non-faces): YuNet recall {recall:.2f} fp {fp:.2f}')
    assert recall >= 0.9
    assert fp <= 0.05
