# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the frame sources: real video files, missing cameras, a fake scene."""

import math
import os
import re
import time

from conftest import FakeClock
import cv2
import numpy as np
import pytest

from face_tracker_ros.camera.sources import (
    make_source,
    SourceError,
    SOURCES,
    to_bgr,
    V4L2Source,
    VideoFileSource,
)
from face_tracker_ros.sim.source import SimSource

VIDEO_FRAMES = 20
VIDEO_FPS = 10.0
VIDEO_SIZE = (64, 48)  # width, height


def frame_level(i: int) -> int:
    """Grey level of frame ``i`` of the test video."""
    return 20 + 10 * i


@pytest.fixture(scope='module')
def video_path(tmp_path_factory) -> str:
    """Write a real MJPG .avi: 20 uniform grey frames of rising level at 10 fps."""
    path = str(tmp_path_factory.mktemp('video') / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), VIDEO_FPS, VIDEO_SIZE)
    assert writer.isOpened()
    for i in range(VIDEO_FRAMES):
        writer.write(np.full((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), frame_level(i), np.uint8))
    writer.release()
    return path


def level_index(frame: np.ndarray) -> int:
    """Index of the test-video frame whose grey level is nearest this frame's mean."""
    return int(round((float(frame.mean()) - 20.0) / 10.0))


def assert_bgr(frame, width: int, height: int) -> None:
    """Assert ``frame`` is a C-contiguous BGR uint8 image of this size."""
    assert isinstance(frame, np.ndarray)
    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8
    assert frame.flags['C_CONTIGUOUS']


# -- video files ------------------------------------------------------------------------------

def test_file_source_grants_size_and_file_rate(video_path):
    """A real .avi opens with its own size and frame rate."""
    source = VideoFileSource(video_path, realtime=False)
    source.open()
    try:
        assert (source.width, source.height) == VIDEO_SIZE
        assert source.fps == pytest.approx(VIDEO_FPS)
        assert_bgr(source.read(), *VIDEO_SIZE)
        line = source.describe()
        assert video_path in line and '64x48' in line and '10' in line
    finally:
        source.close()
    source.close()  # idempotent
    assert not source.is_open


def test_file_source_requested_rate_overrides_file_rate(video_path):
    """A non-zero fps replaces the file rate."""
    source = VideoFileSource(video_path, fps=25.0, realtime=False)
    source.open()
    assert source.fps == 25.0
    source.close()


def test_file_source_loops(video_path):
    """With loop the frames start again after the last one."""
    source = VideoFileSource(video_path, loop=True, realtime=False)
    source.open()
    frames = [source.read() for _ in range(2 * VIDEO_FRAMES + 5)]
    source.close()
    assert all(f is not None for f in frames)
    indices = [level_index(f) for f in frames]
    expected = list(range(VIDEO_FRAMES)) * 2 + list(range(5))
    assert indices == expected
    assert source.loops == 2
    assert not source.finished


def test_file_source_without_loop_finishes(video_path):
    """Without loop every frame comes once, then None and finished."""
    source = VideoFileSource(video_path, loop=False, realtime=False)
    source.open()
    frames = []
    while True:
        frame = source.read()
        if frame is None:
            break
        frames.append(frame)
    assert [level_index(f) for f in frames] == list(range(VIDEO_FRAMES))
    assert source.finished
    assert source.read() is None  # stays finished, never raises
    source.open()  # reopening starts again
    assert not source.finished
    assert level_index(source.read()) == 0
    source.close()


def test_file_pacing_due_times_are_k_over_fps(video_path):
    """Frame k is returned at first + k / fps, whatever the processing time."""
    clock = FakeClock(1000.0)
    source = VideoFileSource(video_path, loop=True, clock=clock, sleep=clock.sleep)
    source.open()
    times = []
    for _ in range(25):  # crosses the loop point
        assert source.read() is not None
        times.append(clock.now)
        clock.advance(0.03)  # processing time, shorter than a period: must not add up
    source.close()
    for k, t in enumerate(times):
        assert t == pytest.approx(1000.0 + k / VIDEO_FPS, abs=1e-9)


def test_file_pacing_does_not_sleep_when_late_and_returns_to_the_grid(video_path):
    """A late read does not sleep and the next frame is due on the grid."""
    clock = FakeClock(0.0)
    source = VideoFileSource(video_path, clock=clock, sleep=clock.sleep)
    source.open()
    source.read()  # frame 0 at 0.0
    clock.advance(0.15)  # frame 1 was due at 0.1: late
    sleeps_before = len(clock.sleeps)
    source.read()
    assert len(clock.sleeps) == sleeps_before  # no sleep when late
    assert clock.now == pytest.approx(0.15)
    source.read()  # frame 2 is due at 0.2, not at 0.15 + 0.1
    assert clock.now == pytest.approx(0.2)
    source.close()


def test_file_pacing_restarts_schedule_after_a_long_stall(video_path):
    """After a stall of several periods frames do not burst to catch up."""
    clock = FakeClock(0.0)
    source = VideoFileSource(video_path, clock=clock, sleep=clock.sleep)
    source.open()
    source.read()
    clock.advance(0.55)  # stalled for several periods
    source.read()
    assert clock.now == pytest.approx(0.55)
    source.read()  # no burst of catch-up frames: one period after the stall
    assert clock.now == pytest.approx(0.65)
    source.close()


def test_file_source_missing_or_unreadable_file_names_path(tmp_path):
    """Missing and non-video files raise SourceError naming the path."""
    missing = str(tmp_path / 'no_such_clip.avi')
    with pytest.raises(SourceError, match=re.escape(missing)):
        VideoFileSource(missing).open()
    junk = tmp_path / 'not_a_video.avi'
    junk.write_text('this is not a video')
    with pytest.raises(SourceError, match=re.escape(str(junk))):
        VideoFileSource(str(junk)).open()


def test_file_source_read_before_open_returns_none(video_path):
    """Reading a closed file source returns None with a reason."""
    source = VideoFileSource(video_path)
    assert source.read() is None
    assert source.last_error


def test_file_source_rejects_bad_fps(video_path):
    """A negative fps is a ValueError naming fps (checked once, by make_source)."""
    with pytest.raises(ValueError, match='fps'):
        make_source('file', video_path=video_path, fps=-1.0)


# -- V4L2 (no camera on this machine) ----------------------------------------------------------

def test_v4l2_missing_device_names_it():
    """A device path or index that does not exist is named in the error."""
    if os.path.exists('/dev/video99'):
        pytest.skip('/dev/video99 exists on this machine')
    with pytest.raises(SourceError, match='/dev/video99'):
        V4L2Source('/dev/video99').open()
    with pytest.raises(SourceError, match='/dev/video99'):
        V4L2Source('99').open()  # bare index


def test_v4l2_dangling_by_id_link_names_it(tmp_path):
    """A by-id link to an unplugged camera is reported as dangling."""
    link = tmp_path / 'usb-Acme_HD_Webcam_0001-video-index0'
    os.symlink('/dev/video98', link)
    if os.path.exists(link):
        pytest.skip('/dev/video98 exists on this machine')
    with pytest.raises(SourceError, match=re.escape(str(link))) as info:
        V4L2Source(str(link)).open()
    assert 'dangling' in str(info.value)


def test_v4l2_link_is_resolved_again_at_every_open(tmp_path):
    """Each open resolves the link again, so a renumbered camera is found."""
    # /dev/null and /dev/zero are character devices but not cameras: opening fails
    # after the link was resolved, and the message shows where it pointed that time.
    link = tmp_path / 'camera'
    os.symlink('/dev/null', link)
    source = V4L2Source(str(link))
    with pytest.raises(SourceError, match='/dev/null'):
        source.open()
    os.remove(link)
    os.symlink('/dev/zero', link)
    with pytest.raises(SourceError, match='/dev/zero'):
        source.open()
    assert source.read() is None  # never opened: None, no exception
    source.close()


def test_v4l2_regular_file_is_not_a_device(tmp_path):
    """A regular file is refused as not a character device."""
    fake = tmp_path / 'video0'
    fake.write_bytes(b'')
    with pytest.raises(SourceError, match='not a character device'):
        V4L2Source(str(fake)).open()


@pytest.mark.parametrize('fourcc', ['MJP', 'MJPEG', '', 'MJ\nG', 42])
def test_v4l2_bad_fourcc(fourcc):
    """A fourcc that is not 4 printable characters is a ValueError (checked by make_source)."""
    with pytest.raises(ValueError, match='fourcc'):
        make_source('v4l2', device='/dev/video0', fourcc=fourcc)


@pytest.mark.parametrize('kwargs,name', [
    ({'width': 0}, 'width'), ({'height': -4}, 'height'), ({'width': 64.5}, 'width'),
    ({'fps': 0.0}, 'fps'), ({'fps': math.nan}, 'fps'), ({'device': ''}, 'device'),
])
def test_v4l2_bad_arguments_name_the_parameter(kwargs, name):
    """Bad size, rate or device name the parameter in the ValueError."""
    args = {'device': '/dev/video0'}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        make_source('v4l2', **args)


def test_v4l2_describe_shows_request_before_open():
    """describe() shows the requested settings before open."""
    line = V4L2Source('/dev/video0', 320, 240, 15.0, 'YUYV').describe()
    assert '/dev/video0' in line and '320x240' in line and 'YUYV' in line


class FakeCapture:
    """Stands in for cv2.VideoCapture (no camera here): records what open() requests."""

    instances = []

    def __init__(self, target, api=None) -> None:
        self.target = target
        self.api = api
        self.props = {}
        self.released = False
        FakeCapture.instances.append(self)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        """Report an open device."""
        return True

    def set(self, prop, value) -> bool:
        """Grant whatever is requested."""
        self.props[prop] = value
        return True

    def get(self, prop) -> float:
        """Return the granted value."""
        return float(self.props.get(prop, 0.0))

    def read(self):
        """Return a frame of the granted size."""
        width = int(self.props[cv2.CAP_PROP_FRAME_WIDTH])
        height = int(self.props[cv2.CAP_PROP_FRAME_HEIGHT])
        return True, np.zeros((height, width, 3), np.uint8)

    def release(self) -> None:
        """Record the release."""
        self.released = True


def test_v4l2_every_open_requests_the_settings_again_and_re_resolves_the_link(
        tmp_path, monkeypatch):
    """A reopen (or a fresh source from a factory) re-resolves the link and requests again."""
    monkeypatch.setattr(cv2, 'VideoCapture', FakeCapture)
    FakeCapture.instances.clear()
    link = tmp_path / 'usb-Acme_HD_Webcam_0001-video-index0'
    os.symlink('/dev/null', link)
    requested = {cv2.CAP_PROP_FOURCC: cv2.VideoWriter_fourcc(*'YUYV'),
                 cv2.CAP_PROP_FRAME_WIDTH: 320, cv2.CAP_PROP_FRAME_HEIGHT: 240,
                 cv2.CAP_PROP_FPS: 15.0, cv2.CAP_PROP_BUFFERSIZE: 1}

    def factory():
        return make_source('v4l2', device=str(link), width=320, height=240, fps=15.0,
                           fourcc='YUYV')

    source = factory()
    source.open()
    first = FakeCapture.instances[-1]
    assert first.target == '/dev/null' and first.api == cv2.CAP_V4L2
    assert first.props == requested
    assert source.resolved == '/dev/null'
    os.remove(link)
    os.symlink('/dev/zero', link)  # the camera came back under another node
    source.open()  # a reopen in place releases the old capture first
    second = FakeCapture.instances[-1]
    assert first.released and second is not first
    assert second.target == '/dev/zero' and second.props == requested
    assert source.resolved == '/dev/zero'
    assert (source.width, source.height, source.fps, source.fourcc) == (320, 240, 15.0, 'YUYV')
    assert_bgr(source.read(), 320, 240)
    assert '-> /dev/zero' in source.describe() and 'granted 320x240@15 YUYV' in source.describe()
    source.close()
    fresh = factory()
    fresh.open()
    assert FakeCapture.instances[-1].props == requested and fresh.resolved == '/dev/zero'
    fresh.close()


# -- simulation ---------------------------------------------------------------------------------

class FakeScene:
    """A scene whose image encodes the pose and whose truth records the call."""

    width = 32
    height = 24

    def __init__(self, gray: bool = False) -> None:
        self.calls = []
        self.gray = gray

    def render(self, t, pan, tilt):
        """Record the call and return a uniform image and the call as truth."""
        self.calls.append((t, pan, tilt))
        shape = (self.height, self.width) if self.gray else (self.height, self.width, 3)
        image = np.full(shape, len(self.calls) % 256, np.uint8)
        return image, {'t': t, 'pan': pan, 'tilt': tilt}


def test_sim_source_renders_at_pose_and_time():
    """The scene is rendered at the pose and time of each read."""
    clock = FakeClock(500.0)
    pose = [0.1, -0.2]
    scene = FakeScene()
    source = SimSource(scene, lambda: tuple(pose), fps=20.0, clock=clock, sleep=clock.sleep)
    source.open()
    assert (source.width, source.height) == (32, 24)
    frames = []
    for k in range(5):
        pose[:] = [0.1 * k, -0.05 * k]
        frames.append(source.read())
        assert source.last_truth == {'t': pytest.approx(k / 20.0), 'pan': pytest.approx(0.1 * k),
                                     'tilt': pytest.approx(-0.05 * k)}
        assert source.last_capture_time == pytest.approx(500.0 + k / 20.0)
    for frame in frames:
        assert_bgr(frame, 32, 24)
    assert [c[0] for c in scene.calls] == pytest.approx([k / 20.0 for k in range(5)])
    assert 'sim' in source.describe() and '32x24' in source.describe()
    source.close()
    assert source.read() is None


def test_sim_source_pacing_no_drift_and_no_sleep_when_late():
    """The simulation is paced like a file: on the grid, no sleep when late."""
    clock = FakeClock(0.0)
    scene = FakeScene()
    source = SimSource(scene, lambda: (0.0, 0.0), fps=10.0, clock=clock, sleep=clock.sleep)
    source.open()
    source.read()
    clock.advance(0.04)
    source.read()
    assert clock.now == pytest.approx(0.1)
    clock.advance(0.13)  # late for frame 2 (due 0.2)
    n_sleeps = len(clock.sleeps)
    source.read()
    assert len(clock.sleeps) == n_sleeps
    source.read()
    assert clock.now == pytest.approx(0.3)
    assert [c[0] for c in scene.calls] == pytest.approx([0.0, 0.1, 0.23, 0.3])


def test_sim_source_converts_grey_images_and_never_raises():
    """Grey images become BGR; scene and pose failures give None, not exceptions."""
    source = SimSource(FakeScene(gray=True), lambda: (0.0, 0.0), realtime=False)
    source.open()
    assert_bgr(source.read(), 32, 24)

    class Broken(FakeScene):
        def render(self, t, pan, tilt):
            raise RuntimeError('scene exploded')

    broken = SimSource(Broken(), lambda: (0.0, 0.0), realtime=False)
    broken.open()
    assert broken.read() is None
    assert 'scene exploded' in broken.last_error
    bad_pose = SimSource(FakeScene(), lambda: (math.nan, 0.0), realtime=False)
    bad_pose.open()
    assert bad_pose.read() is None
    assert 'pose' in bad_pose.last_error


def test_sim_source_with_the_real_scene_if_present():
    """The real SimScene works as a scene, when it is importable."""
    scene_module = pytest.importorskip('face_tracker_ros.sim.scene')
    try:
        scene = scene_module.SimScene(width=160, height=120)
    except Exception as exc:  # the scene is another engineer's work in progress
        pytest.skip(f'SimScene not usable yet: {exc}')
    source = SimSource(scene, lambda: (0.0, 0.0), realtime=False)
    source.open()
    assert_bgr(source.read(), 160, 120)
    assert source.last_truth is not None


def test_sim_sources_with_one_start_time_share_the_scene_time():
    """A replacement source with the same start_time continues the scene time."""
    clock = FakeClock(500.0)
    scene = FakeScene()
    first = SimSource(scene, lambda: (0.0, 0.0), clock=clock, realtime=False, start_time=490.0)
    first.open()
    first.read()
    clock.advance(3.0)
    second = SimSource(scene, lambda: (0.0, 0.0), clock=clock, realtime=False, start_time=490.0)
    second.open()
    second.read()
    assert [c[0] for c in scene.calls] == pytest.approx([10.0, 13.0])
    # A source on the wall clock (the default) takes a wall-clock start time.
    built = SimSource(FakeScene(), lambda: (0.0, 0.0), realtime=False,
                      start_time=time.time() - 100.0)
    built.open()
    built.read()
    assert built.last_truth['t'] == pytest.approx(100.0, abs=5.0)
    for bad in (math.nan, 'now', True):
        with pytest.raises(ValueError, match='start_time'):
            SimSource(scene, lambda: (0.0, 0.0), start_time=bad)


def test_which_sources_may_repeat_frames(video_path):
    """Files and noiseless scenes may repeat frames; cameras and noisy scenes may not."""
    assert VideoFileSource(video_path).repeats_frames
    assert not V4L2Source('/dev/video0').repeats_frames
    assert SimSource(FakeScene(), lambda: (0.0, 0.0)).repeats_frames

    class NoisyScene(FakeScene):
        noise_sigma = 2.0

    assert not SimSource(NoisyScene(), lambda: (0.0, 0.0)).repeats_frames


# -- make_source and helpers --------------------------------------------------------------------

def test_make_source_builds_each_kind(video_path):
    """make_source returns the source class for each kind."""
    assert isinstance(make_source('v4l2', device='/dev/video0'), V4L2Source)
    file_source = make_source('file', video_path=video_path, fps=0.0, loop=False)
    assert isinstance(file_source, VideoFileSource) and not file_source.loop
    # The simulated camera's source is the simulation's own (sim.source), not the camera's.
    with pytest.raises(ValueError, match='source'):
        make_source('sim')
    assert SOURCES == ('v4l2', 'file')


def test_make_source_validation_messages():
    """make_source errors name the parameter and the allowed values."""
    with pytest.raises(ValueError) as info:
        make_source('usb')
    message = str(info.value)
    assert 'source' in message and 'usb' in message
    assert all(kind in message for kind in SOURCES)
    with pytest.raises(ValueError, match='device'):
        make_source('v4l2')
    with pytest.raises(ValueError, match='video_path'):
        make_source('file')
    with pytest.raises(ValueError, match='scene'):
        SimSource(None, lambda: (0.0, 0.0))
    with pytest.raises(ValueError, match='pose'):
        SimSource(FakeScene(), None)
    with pytest.raises(ValueError, match='fourcc'):
        make_source('v4l2', device='/dev/video0', fourcc='H264X')
    with pytest.raises(ValueError, match='fps'):
        SimSource(FakeScene(), lambda: (0.0, 0.0), fps=0.0)


def test_to_bgr_conversions():
    """to_bgr converts grey and BGRA, makes views contiguous, rejects the rest."""
    frame, _ = to_bgr(np.zeros((4, 5), np.uint8))
    assert frame.shape == (4, 5, 3)
    frame, _ = to_bgr(np.zeros((4, 5, 4), np.uint8))
    assert frame.shape == (4, 5, 3)
    view = np.zeros((8, 10, 3), np.uint8)[::2, ::2]
    frame, _ = to_bgr(view)
    assert frame.flags['C_CONTIGUOUS']
    for bad in (np.zeros((4, 5, 3), np.float32), np.zeros((0, 5, 3), np.uint8), None,
                np.zeros((4, 5, 2), np.uint8)):
        frame, reason = to_bgr(bad)
        assert frame is None and reason
