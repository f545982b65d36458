# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The camera's frame sources: a V4L2 camera and a video file, and :func:`make_source`.

The life cycle and frame format every source shares are in
:mod:`~face_tracker_ros.camera.frame_source`; the sources in
:mod:`~face_tracker_ros.camera.v4l2` and :mod:`~face_tracker_ros.camera.video_file`.
This module gathers them (old imports keep working).  The simulated camera's
source lives with the simulation (:mod:`face_tracker_ros.sim.source`) and plugs
into the same capture thread.
"""

from face_tracker_ros.camera.frame_source import (  # noqa: F401 - re-exported
    DEFAULT_CAMERA_FPS,
    DEFAULT_FILE_FPS,
    FrameSource,
    MAX_FPS,
    SourceError,
    to_bgr,
)
from face_tracker_ros.camera.v4l2 import DEVICE_FORMS, fourcc_problem, V4L2Source
from face_tracker_ros.camera.video_file import (  # noqa: F401 - re-exported
    check_video_file,
    text_file_problem,
    VideoFileSource,
)
from face_tracker_ros.common.checks import check_choice, check_int, check_number, must_be

#: The kinds of source the camera node opens (its ``source`` parameter).
SOURCES = ('v4l2', 'file')


def make_source(kind: str, device: str = '', video_path: str = '', width: int = 640,
                height: int = 480, fps: float = 30.0, fourcc: str = 'MJPG', loop: bool = True,
                realtime: bool = True) -> FrameSource:
    """Build the frame source named by ``kind`` (one of :data:`SOURCES`).

    ``v4l2`` opens ``device`` (with width/height/fps/fourcc); ``file`` plays
    ``video_path`` (fps, 0 = the file's rate, loop, realtime).  Every call
    builds a fresh, unopened source, so ``lambda: make_source(...)`` is a
    source factory for :class:`CaptureThread`.  The arguments are checked here
    (the sources trust theirs): a ValueError names the parameter and the
    allowed values.
    """
    check_choice('source', kind, SOURCES)
    if kind == 'v4l2':
        if not isinstance(device, str) or not device.strip():
            raise must_be('device', device, DEVICE_FORMS)
        problem = fourcc_problem(fourcc)
        if problem:
            raise ValueError(f'fourcc {problem}, got {fourcc!r}')
        return V4L2Source(device, width=check_int('width', width, low=1),
                          height=check_int('height', height, low=1),
                          fps=check_number('fps', fps, 0.0, MAX_FPS, low_open=True),
                          fourcc=fourcc)
    if not isinstance(video_path, str) or not video_path:
        raise must_be('video_path', video_path, 'a path to a video file')
    return VideoFileSource(video_path, loop=loop, fps=check_number('fps', fps, 0.0, MAX_FPS),
                           realtime=realtime)
