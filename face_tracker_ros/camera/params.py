# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The camera's parameters (:data:`PARAMS`, :data:`RULES`) and typed form (:class:`CameraConfig`).

ROS-free: the table is checked once (each value by its :class:`Param`, the
pairs by :data:`RULES`); :meth:`CameraConfig.from_params` turns the checked
flat values into the typed settings the cores take: the source to open
(:class:`SourceConfig`), the capture thread's recovery policy
(:class:`CaptureConfig`), the status thresholds and the preview.  The node
builds it at start and again for every live change.
"""

from dataclasses import dataclass
from typing import Any, Mapping

from face_tracker_ros.camera.frame_source import DEFAULT_CAMERA_FPS
from face_tracker_ros.camera.sources import SOURCES
from face_tracker_ros.camera.v4l2 import fourcc_problem
from face_tracker_ros.common.checks import check_int, check_number, check_positive
from face_tracker_ros.common.params import at_most, COMMON, Param, required_when, Rule

#: Why the capture settings are read-only.
_OPENED = 'the source is opened with it at start'

#: The parameters of the source to open (the camera node's own; see :data:`CAPTURE_PARAMS`).
SOURCE_PARAMS = (
    Param('source', 'v4l2', 'Frame source: a V4L2 device or a video file (the simulated '
          'camera is its own executable, sim_camera_node)', choices=SOURCES, why=_OPENED,
          elsewhere=(('sim', 'the simulated camera is its own executable, sim_camera_node: '
                             'use_sim:=true or camera_source:=sim in the launch file'),)),
    Param('device', '/dev/video0',
          'V4L2 device: /dev/videoN, a /dev/v4l/by-id/... link, or an index (source v4l2)',
          why=_OPENED),
    Param('video_path', '', 'Video file to play (source file)'),
    Param('loop_video', True, 'Start the video file again at its end (source file)'),
)

#: The parameters every camera has, whatever makes its frames (the simulated camera too).
CAPTURE_PARAMS = (
    Param('width', 640, 'Requested frame width', min=16, max=7680, unit='px'),
    Param('height', 480, 'Requested frame height', min=16, max=4320, unit='px'),
    Param('fps', 0.0, "Frame rate: 0 = the source's own (a video file plays at its own rate; "
          'v4l2 and sim are asked for 30 Hz); > 0 requests it (a file plays at it)',
          min=0.0, max=240.0, unit='Hz'),
    Param('fourcc', 'MJPG', 'Requested V4L2 pixel format, four characters (MJPG, YUYV)'),
    Param('frame_id', 'camera_optical_frame', 'frame_id of the published images'),
    Param('max_consecutive_errors', 10,
          'Failed reads in a row after which the source is closed and reopened',
          min=1, max=10000),
    Param('reopen_backoff_s', 0.5, 'First wait before reopening a failed source',
          min=0.01, max=60.0, unit='s'),
    Param('reopen_backoff_max_s', 1.0, 'Longest wait between reopen attempts',
          min=0.01, max=600.0, unit='s'),
    Param('frame_timeout_s', 2.0, 'A frame older than this means the camera is stuck',
          min=0.05, max=60.0, unit='s'),
    Param('diag.fps_warn_ratio', 0.8, 'Measured frame rate below this fraction of the '
          'configured one is WARN', min=0.0, max=1.0, live=True),
    Param('diag.fps_error_ratio', 0.5, 'Measured frame rate below this fraction of the '
          'configured one is ERROR', min=0.0, max=1.0, live=True),
    Param('frozen_timeout_s', 2.0, 'Byte-identical frames for this long count as read '
          'errors (a stuck driver); 0 = off', min=0.0, max=600.0, unit='s'),
    Param('max_recovery_s', 60.0, 'No frame for this long while recovering: the node exits '
          'non-zero so launch restarts it; 0 = never give up', min=0.0, max=86400.0, unit='s'),
    Param('preview_rate_hz', 0.0, 'Rate of camera/preview/compressed, a small JPEG for bag '
          'recordings and remote viewing; 0 = off', min=0.0, max=30.0, unit='Hz'),
    Param('preview_width', 320, 'Width of the preview images', min=16, max=7680, unit='px',
          live=True),
    Param('preview_jpeg_quality', 70, 'JPEG quality of the preview', min=1, max=100,
          live=True),
)

#: The camera node's parameters.
PARAMS = SOURCE_PARAMS + CAPTURE_PARAMS + COMMON


def _fourcc_problem(v):
    problem = fourcc_problem(v['fourcc'])
    return f"parameter 'fourcc' = {v['fourcc']!r} {problem}" if problem else None


def _device_problem(v):
    if v['source'] != 'v4l2' or v['device'].strip():
        return None
    return "parameter 'device' is required when 'source' is 'v4l2'"


#: Rules between the parameters every camera has.
CAPTURE_RULES = (
    Rule(('fourcc',), _fourcc_problem),
    at_most('reopen_backoff_s', 'reopen_backoff_max_s'),
    at_most('diag.fps_error_ratio', 'diag.fps_warn_ratio',
            why='a rate low enough to be ERROR is WARN first'),
)

#: Rules between the camera's parameters, checked at start and for every change.
RULES = (
    required_when('video_path', 'source', ('file',)),
    Rule(('device', 'source'), _device_problem),
) + CAPTURE_RULES


@dataclass(frozen=True)
class SourceConfig:
    """Which source to open and what to ask of it (``fps`` 0: the file's own rate)."""

    kind: str
    device: str
    video_path: str
    loop: bool
    width: int
    height: int
    fps: float
    fourcc: str


@dataclass(frozen=True)
class CaptureConfig:
    """The capture thread's recovery policy (see :mod:`face_tracker_ros.camera.capture`).

    Checked when made (a ValueError names the setting), so the capture trusts
    it.  The first six are the parameters of the same names (their defaults
    are the parameters'); the others have no parameter.  Timeouts of 0
    disable their check; ``max_reopen_attempts`` 0 means retry for ever,
    ``black_level`` 0 counts no black frames.
    """

    max_consecutive_errors: int
    reopen_backoff_s: float
    reopen_backoff_max_s: float
    frame_timeout_s: float
    frozen_timeout_s: float
    max_recovery_s: float
    max_reopen_attempts: int = 0
    open_timeout_s: float = 10.0
    max_stuck_reads: int = 3
    black_level: int = 10

    def __post_init__(self) -> None:
        """Raise ValueError naming the first setting out of its range."""
        check_int('max_consecutive_errors', self.max_consecutive_errors, low=0)
        check_positive('reopen_backoff_s', self.reopen_backoff_s, unit='seconds')
        check_number('reopen_backoff_max_s', self.reopen_backoff_max_s,
                     low=self.reopen_backoff_s, unit='seconds')
        check_int('max_reopen_attempts', self.max_reopen_attempts, low=0)
        for name in ('frame_timeout_s', 'frozen_timeout_s', 'max_recovery_s', 'open_timeout_s'):
            check_positive(name, getattr(self, name), unit='seconds', allow_zero=True)
        check_int('max_stuck_reads', self.max_stuck_reads, low=0)
        check_int('black_level', self.black_level, low=0, high=256)


@dataclass(frozen=True)
class CameraConfig:
    """Everything a camera node needs, typed; built from the checked flat values."""

    capture: CaptureConfig
    width: int
    height: int
    #: The requested rate, 0 = the source's own.
    fps: float
    frame_id: str
    fps_warn_ratio: float
    fps_error_ratio: float
    preview_rate_hz: float
    preview_width: int
    preview_jpeg_quality: int
    #: The source to open (the camera node's; None for a camera that makes its own frames).
    source: Any = None

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'CameraConfig':
        """Return the typed configuration of the flat values ``values`` (already checked)."""
        v = values
        source = None
        if v.get('source') in SOURCES:
            source = SourceConfig(
                kind=v['source'], device=v['device'], video_path=v['video_path'],
                loop=v['loop_video'], width=v['width'], height=v['height'],
                fps=v['fps'] or (0.0 if v['source'] == 'file' else DEFAULT_CAMERA_FPS),
                fourcc=v['fourcc'])
        return cls(
            capture=CaptureConfig(
                max_consecutive_errors=v['max_consecutive_errors'],
                reopen_backoff_s=v['reopen_backoff_s'],
                reopen_backoff_max_s=v['reopen_backoff_max_s'],
                frame_timeout_s=v['frame_timeout_s'], frozen_timeout_s=v['frozen_timeout_s'],
                max_recovery_s=v['max_recovery_s']),
            width=v['width'], height=v['height'], fps=v['fps'], frame_id=v['frame_id'],
            fps_warn_ratio=v['diag.fps_warn_ratio'],
            fps_error_ratio=v['diag.fps_error_ratio'], preview_rate_hz=v['preview_rate_hz'],
            preview_width=v['preview_width'], preview_jpeg_quality=v['preview_jpeg_quality'],
            source=source)
