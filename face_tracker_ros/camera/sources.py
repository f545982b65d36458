# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Frame sources: a V4L2 camera, a video file and the closed-loop simulation.

Every source has the same small life cycle: construct (validates the
arguments, touches no device), :meth:`FrameSource.open` (raises
:class:`SourceError` with the device or path and the reason),
:meth:`FrameSource.read` (one BGR ``uint8`` C-contiguous frame, or ``None`` on
a failed read; it never raises on bad external input) and
:meth:`FrameSource.close` (idempotent).  After a failed read the source's
``last_error`` holds a one-line reason for the log.

Pacing (file and simulation sources in real time): frame ``k`` after the
first is due at ``first + k / fps`` on the source's clock, so the rate never
drifts; a read that is already late does not sleep, and a stall longer than
one whole period restarts the schedule from now instead of bursting frames
to catch up.

Importing this module sets ``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT`` (seconds a
V4L2 read waits for a stalled camera; OpenCV's default is 10) to 2 unless the
environment already sets it, so a read of an unplugged camera returns soon.
"""

from abc import ABC, abstractmethod
import math
import os
import stat
import time
import traceback
from typing import Any, Callable, Optional, Tuple

import cv2
import numpy as np

os.environ.setdefault('OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT', '2')

SOURCES = ('v4l2', 'file', 'sim')

# File rate used when a video reports none (or nonsense).
DEFAULT_FILE_FPS = 30.0
# Rate asked of a camera (and the simulation) when the fps parameter is 0.
DEFAULT_CAMERA_FPS = 30.0
_MAX_FPS = 1000.0
# FFmpeg's tty demuxer shows a text file as a "video" of rendered characters.
_TEXT_CODECS = ('ansi', 'bint', 'xbin', 'idf')
_SNIFF_BYTES = 8192


class SourceError(RuntimeError):
    """A frame source could not be opened; the message names the device or path and why."""


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return int(value)


def _check_fps(name: str, value: Any, allow_zero: bool = False) -> float:
    try:
        fps = float(value)
    except (TypeError, ValueError):
        fps = math.nan
    low_ok = fps >= 0.0 if allow_zero else fps > 0.0
    if not (math.isfinite(fps) and low_ok and fps <= _MAX_FPS):
        allowed = f'0 (file rate) or > 0 and <= {_MAX_FPS:g}' if allow_zero else \
            f'> 0 and <= {_MAX_FPS:g}'
        raise ValueError(f'{name} must be {allowed}, got {value!r}')
    return fps


def to_bgr(image: Any) -> Tuple[Optional[np.ndarray], str]:
    """Return ``(frame, '')`` with ``image`` as a C-contiguous BGR uint8 array.

    Grey (2-D or one channel) and BGRA images are converted.  Anything else
    (not an array, empty, not ``uint8``, other channel counts) gives
    ``(None, reason)``.
    """
    if not isinstance(image, np.ndarray):
        return None, f'frame is {type(image).__name__}, not a numpy array'
    if image.size == 0:
        return None, 'frame is empty'
    if image.dtype != np.uint8:
        return None, f'frame dtype is {image.dtype}, expected uint8'
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        return None, f'frame shape {image.shape} is not HxW, HxWx1, HxWx3 or HxWx4'
    return np.ascontiguousarray(image), ''


def text_file_problem(path: str) -> str:
    """Return why the file at ``path`` is text and not a video, or '' if it may be a video.

    Every video container starts with binary data (NUL bytes within its first
    few kilobytes); a file whose start is printable UTF-8 text is not a video,
    although FFmpeg would render it as one.
    """
    try:
        with open(path, 'rb') as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        return ''
    if not head or b'\0' in head:
        return ''
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end
            return ''
        text = head[:exc.start].decode('utf-8', 'replace')
    printable = sum(1 for c in text if c.isprintable() or c in '\t\r\n\f')
    if printable < 0.95 * max(1, len(text)):
        return ''
    return 'is a text file, not a video'


def _fourcc_text(code: float) -> str:
    value = int(code) if math.isfinite(code) and code > 0 else 0
    if value == 0:
        return '?'
    chars = [chr((value >> (8 * i)) & 0xFF) for i in range(4)]
    return ''.join(c if c.isprintable() else '?' for c in chars)


class _Pacer:
    """Sleeps until each frame's due time ``first + k * period`` (see the module notes)."""

    def __init__(self, fps: float, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self._period = 1.0 / fps
        self._clock = clock
        self._sleep = sleep
        self.reset()

    def reset(self) -> None:
        """Forget the schedule: the next frame is due at once."""
        self._anchor: Optional[float] = None
        self._index = 0

    def wait(self) -> None:
        """Sleep until the next frame is due; never sleep when already late."""
        now = self._clock()
        if self._anchor is None:
            self._anchor = now
            self._index = 0
            return
        self._index += 1
        due = self._anchor + self._index * self._period
        if now < due:
            self._sleep(due - now)
        elif now - due > self._period:
            # Stalled for more than a frame: restart the grid at this frame.
            self._anchor = now - self._index * self._period


class FrameSource(ABC):
    """Where frames come from; see the module docstring for the life cycle.

    ``repeats_frames`` says whether byte-identical consecutive frames are
    normal for this source (a still video, a noiseless simulation).  A live
    camera's sensor noise makes every frame differ, so for the other sources
    the capture thread treats a long run of identical frames as a frozen driver.
    """

    kind: str = ''
    repeats_frames: bool = False

    def __init__(self) -> None:
        """Set the granted values to zero until :meth:`open` fills them."""
        self.width = 0
        self.height = 0
        self.fps = 0.0
        self.last_error = ''

    @abstractmethod
    def open(self) -> None:
        """Open the source and fill ``width``/``height``/``fps``; raise SourceError on failure."""

    @abstractmethod
    def read(self) -> Optional[np.ndarray]:
        """Return the next BGR uint8 frame, or None when reading fails; never raises."""

    @abstractmethod
    def close(self) -> None:
        """Release the source; safe to call any number of times."""

    @abstractmethod
    def describe(self) -> str:
        """Return one log line: kind, path and the granted size, rate and format."""

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the source is open."""

    def __enter__(self) -> 'FrameSource':
        """Open the source for a ``with`` block."""
        self.open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Close the source at the end of a ``with`` block."""
        self.close()


class V4L2Source(FrameSource):
    """A camera through OpenCV's V4L2 backend.

    ``device`` is ``/dev/videoN``, a ``/dev/v4l/by-id/...`` or ``by-path``
    symlink (resolved at every :meth:`open`, so a camera that came back under
    another number is found again), or a bare index such as ``'0'``.
    """

    kind = 'v4l2'

    def __init__(self, device: str, width: int = 640, height: int = 480, fps: float = 30.0,
                 fourcc: str = 'MJPG') -> None:
        """Validate the request; nothing is opened until :meth:`open`."""
        super().__init__()
        if not isinstance(device, str) or not device.strip():
            raise ValueError(
                'device must be a /dev/video* path, a /dev/v4l/by-id/ or by-path link, or an '
                f"index like '0', got {device!r}")
        if not isinstance(fourcc, str) or len(fourcc) != 4 or not fourcc.isascii() \
                or not fourcc.isprintable():
            raise ValueError(
                f"fourcc must be 4 printable ASCII characters such as 'MJPG' or 'YUYV', "
                f'got {fourcc!r}')
        self.device = device.strip()
        self.req_width = _check_positive_int('width', width)
        self.req_height = _check_positive_int('height', height)
        self.req_fps = _check_fps('fps', fps)
        self.req_fourcc = fourcc
        self.fourcc = ''
        self.resolved = ''
        self._index: Optional[int] = int(self.device) if self.device.isdigit() else None
        self._cap: Optional[cv2.VideoCapture] = None

    @property
    def is_open(self) -> bool:
        """Whether a capture is open."""
        return self._cap is not None

    def _resolve(self) -> str:
        """Return the device node to open, or raise SourceError saying why it is unusable."""
        path = f'/dev/video{self._index}' if self._index is not None else self.device
        shown = repr(self.device) if self._index is None else f'{self.device!r} ({path})'
        if not os.path.lexists(path):
            raise SourceError(f'camera device {shown} does not exist (camera unplugged?)')
        real = os.path.realpath(path)
        if real != path:
            shown = f'{shown} (-> {real})'
        try:
            st = os.stat(real)
        except OSError as exc:
            if not os.path.exists(real):
                raise SourceError(
                    f'camera device {shown} is a dangling link (camera unplugged?)') from exc
            raise SourceError(f'camera device {shown}: {exc.strerror}') from exc
        if not stat.S_ISCHR(st.st_mode):
            raise SourceError(f'camera device {shown} is not a character device')
        if not os.access(real, os.R_OK | os.W_OK):
            raise SourceError(
                f"camera device {shown}: permission denied (is the user in the 'video' group?)")
        return real

    def open(self) -> None:
        """Open the device, request format/size/rate, buffer 1 frame, read back the grant."""
        self.close()
        real = self._resolve()
        target = self._index if self._index is not None else real
        try:
            cap = cv2.VideoCapture(target, cv2.CAP_V4L2)
        except cv2.error as exc:
            raise SourceError(f'camera device {self.device!r}: OpenCV failed: {exc}') from exc
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f'camera device {self.device!r} ({real}) could not be opened with V4L2 '
                '(busy, or not a video capture node)')
        try:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.req_fourcc))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.req_width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.req_height)
            cap.set(cv2.CAP_PROP_FPS, self.req_fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            self.fps = float(cap.get(cv2.CAP_PROP_FPS))
            self.fourcc = _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
        except cv2.error as exc:
            cap.release()
            raise SourceError(
                f'camera device {self.device!r}: setting the format failed: {exc}') from exc
        self.resolved = real
        self._cap = cap
        self.last_error = ''

    def read(self) -> Optional[np.ndarray]:
        """Return the next camera frame, or None (device gone, timeout, bad frame)."""
        cap = self._cap
        if cap is None:
            self.last_error = 'camera is not open'
            return None
        if not os.path.exists(self.resolved):
            self.last_error = f'camera device node {self.resolved} vanished (unplugged?)'
            return None
        try:
            ok, image = cap.read()
        except cv2.error as exc:
            self.last_error = f'OpenCV read error: {exc}'
            return None
        if not ok or image is None:
            self.last_error = f'camera {self.device!r} returned no frame'
            return None
        frame, reason = to_bgr(image)
        if frame is None:
            self.last_error = reason
            return None
        self.height, self.width = frame.shape[:2]
        return frame

    def close(self) -> None:
        """Release the capture (idempotent)."""
        cap, self._cap = self._cap, None
        if cap is not None:
            try:
                cap.release()
            except cv2.error:
                pass

    def describe(self) -> str:
        """Return the device, its resolved node, and requested versus granted settings."""
        node = f' -> {self.resolved}' if self.resolved and self.resolved != self.device else ''
        requested = f'{self.req_width}x{self.req_height}@{self.req_fps:g} {self.req_fourcc}'
        if not self.is_open:
            return f'v4l2 {self.device}{node}: requested {requested} (not open)'
        granted = f'{self.width}x{self.height}@{self.fps:g} {self.fourcc}'
        return f'v4l2 {self.device}{node}: requested {requested}, granted {granted}'


class VideoFileSource(FrameSource):
    """Frames of a video file, paced at the file's (or a given) rate, optionally looped."""

    kind = 'file'
    repeats_frames = True  # a still scene in a video decodes to identical frames

    def __init__(self, path: str, loop: bool = True, fps: float = 0.0, realtime: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """Validate the arguments; ``fps`` 0 means the file's own rate."""
        super().__init__()
        if not isinstance(path, str) or not path:
            raise ValueError(f'video_path must be a path to a video file, got {path!r}')
        self.path = path
        self.loop = bool(loop)
        self.req_fps = _check_fps('fps', fps, allow_zero=True)
        self.realtime = bool(realtime)
        self._clock = clock
        self._sleep = sleep
        self._cap: Optional[cv2.VideoCapture] = None
        self._pacer: Optional[_Pacer] = None
        self._pending: Optional[np.ndarray] = None
        self.finished = False
        self.loops = 0
        self.frame_index = 0

    @property
    def is_open(self) -> bool:
        """Whether the file is open."""
        return self._cap is not None

    def _open_capture(self) -> Tuple[cv2.VideoCapture, np.ndarray]:
        """Open the file and decode its first frame, or raise SourceError."""
        if not os.path.isfile(self.path):
            raise SourceError(f'video file {self.path!r} does not exist or is not a file')
        if not os.access(self.path, os.R_OK):
            raise SourceError(f'video file {self.path!r} is not readable (permission denied)')
        problem = text_file_problem(self.path)
        if problem:
            raise SourceError(f'video file {self.path!r} {problem}')
        try:
            cap = cv2.VideoCapture(self.path)
            opened = cap.isOpened()
        except cv2.error as exc:
            raise SourceError(f'video file {self.path!r}: OpenCV failed: {exc}') from exc
        if not opened:
            cap.release()
            raise SourceError(f'video file {self.path!r} could not be opened (not a video?)')
        codec = _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)).strip().lower()
        if codec in _TEXT_CODECS:
            cap.release()
            raise SourceError(f'video file {self.path!r} is text or character art '
                              f'(codec {codec!r}), not a video')
        try:
            ok, image = cap.read()
        except cv2.error:
            ok, image = False, None
        frame, _ = to_bgr(image) if ok else (None, '')
        if frame is None:
            cap.release()
            raise SourceError(f'video file {self.path!r} has no decodable frame')
        return cap, frame

    def open(self) -> None:
        """Open the file, read its size and rate; raise SourceError naming the path."""
        self.close()
        cap, first = self._open_capture()
        self.height, self.width = first.shape[:2]
        if self.req_fps > 0.0:
            self.fps = self.req_fps
        else:
            file_fps = float(cap.get(cv2.CAP_PROP_FPS))
            ok = math.isfinite(file_fps) and 0.0 < file_fps <= _MAX_FPS
            self.fps = file_fps if ok else DEFAULT_FILE_FPS
        self._cap = cap
        self._pending = first
        self._pacer = _Pacer(self.fps, self._clock, self._sleep)
        self.finished = False
        self.loops = 0
        self.frame_index = 0
        self.last_error = ''

    def _next_frame(self) -> Optional[np.ndarray]:
        """Decode the next frame, rewinding at the end when looping."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        cap = self._cap
        assert cap is not None
        try:
            ok, image = cap.read()
        except cv2.error:
            ok, image = False, None
        if ok:
            frame, reason = to_bgr(image)
            if frame is None:
                self.last_error = f'video file {self.path!r}: {reason}'
            return frame
        if not self.loop:
            self.finished = True
            self.last_error = f'video file {self.path!r} ended'
            return None
        cap.release()
        self._cap = None
        try:
            self._cap, frame = self._open_capture()
        except SourceError as exc:
            self.last_error = f'rewinding failed: {exc}'
            return None
        self.loops += 1
        self.frame_index = 0
        return frame

    def read(self) -> Optional[np.ndarray]:
        """Return the next frame at its due time; None at the end (no loop) or on errors."""
        if self._cap is None or self.finished:
            if not self.finished:
                self.last_error = 'video file is not open'
            return None
        frame = self._next_frame()
        if frame is None:
            return None
        if self.realtime and self._pacer is not None:
            self._pacer.wait()
        self.frame_index += 1
        return frame

    def close(self) -> None:
        """Release the file (idempotent)."""
        cap, self._cap = self._cap, None
        self._pending = None
        if cap is not None:
            cap.release()

    def describe(self) -> str:
        """Return the path, size, rate (and where it came from) and play mode."""
        if not self.is_open and not self.width:
            return f'file {self.path}: not open'
        origin = 'requested' if self.req_fps > 0.0 else 'file rate'
        mode = ('loop' if self.loop else 'once') + (', realtime' if self.realtime else ', fast')
        return f'file {self.path}: {self.width}x{self.height}@{self.fps:g} ({origin}), {mode}'


class SimSource(FrameSource):
    """Frames rendered by a simulated scene seen from the simulated pan/tilt pose.

    ``scene`` is any object with ``render(t, pan, tilt) -> (image, truth)``;
    ``pose`` is a callable returning the true ``(pan, tilt)`` of the simulated
    servo controller.  After each successful read, ``last_truth`` holds the
    scene's truth for that frame and ``last_capture_time`` the clock value it
    was rendered at (read both from the thread that calls :meth:`read`).  The
    scene time ``t`` counts from ``start_time`` (a ``clock`` value) when given,
    else from the first :meth:`open`, and keeps running across reopens; give
    every source built for one simulation the same ``start_time`` so a
    replacement source continues the scene instead of restarting it.
    """

    kind = 'sim'

    def __init__(self, scene: Any, pose: Callable[[], Tuple[float, float]], fps: float = 30.0,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, realtime: bool = True,
                 start_time: Optional[float] = None) -> None:
        """Validate the scene, pose, rate and start time."""
        super().__init__()
        if scene is None or not callable(getattr(scene, 'render', None)):
            raise ValueError('scene must be an object with render(t, pan, tilt) -> '
                             f'(image, truth), got {scene!r}')
        if not callable(pose):
            raise ValueError(f'pose must be a callable returning (pan, tilt), got {pose!r}')
        self.scene = scene
        self.pose = pose
        self.fps = _check_fps('fps', fps)
        self.realtime = bool(realtime)
        self._clock = clock
        self._sleep = sleep
        if start_time is not None and not (
                isinstance(start_time, (int, float)) and not isinstance(start_time, bool)
                and math.isfinite(start_time)):
            raise ValueError(f'start_time must be a finite clock value in seconds or None, '
                             f'got {start_time!r}')
        self._pacer = _Pacer(self.fps, clock, sleep)
        self._start: Optional[float] = None if start_time is None else float(start_time)
        self._open = False
        self.last_truth: Any = None
        self.last_capture_time: Optional[float] = None

    @property
    def is_open(self) -> bool:
        """Whether the source is open."""
        return self._open

    @property
    def repeats_frames(self) -> bool:
        """Whether identical frames are normal: a scene without a positive ``noise_sigma``."""
        noise = getattr(self.scene, 'noise_sigma', 0.0)
        return not (isinstance(noise, (int, float)) and noise > 0.0)

    def open(self) -> None:
        """Start the scene clock (first open only) and take the size from the scene."""
        width = getattr(self.scene, 'width', 0)
        height = getattr(self.scene, 'height', 0)
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            width = height = 0
        if self._start is None:
            self._start = self._clock()
        self.width, self.height = width, height
        self._pacer.reset()
        self._open = True
        self.last_error = ''

    def read(self) -> Optional[np.ndarray]:
        """Wait for the frame's due time, then render the scene at the current pose."""
        if not self._open or self._start is None:
            self.last_error = 'simulated camera is not open'
            return None
        if self.realtime:
            self._pacer.wait()
        try:
            now = self._clock()
            pan, tilt = self.pose()
            pan, tilt = float(pan), float(tilt)
            if not (math.isfinite(pan) and math.isfinite(tilt)):
                self.last_error = f'pose returned a non-finite angle ({pan}, {tilt})'
                return None
            image, truth = self.scene.render(now - self._start, pan, tilt)
        except Exception:
            self.last_error = 'simulated camera failed:\n' + traceback.format_exc().rstrip()
            return None
        frame, reason = to_bgr(image)
        if frame is None:
            self.last_error = f'scene rendered a bad image: {reason}'
            return None
        if frame is image and not frame.flags.owndata:
            frame = frame.copy()  # the scene may reuse its buffer
        self.height, self.width = frame.shape[:2]
        self.last_truth = truth
        self.last_capture_time = now
        return frame

    def close(self) -> None:
        """Mark the source closed (idempotent)."""
        self._open = False

    def describe(self) -> str:
        """Return the scene type, image size and rate."""
        size = f'{self.width}x{self.height}' if self.width else 'size from the first frame'
        mode = 'realtime' if self.realtime else 'fast'
        return f'sim {type(self.scene).__name__}: {size}@{self.fps:g}, {mode}'


def check_video_file(path: str) -> str:
    """Return why ``path`` cannot be played as a video (one line), or '' if it can.

    Opens the file, decodes its first frame and closes it again.
    """
    try:
        source = VideoFileSource(path, loop=False, realtime=False)
        source.open()
    except (ValueError, SourceError) as exc:
        return str(exc)
    source.close()
    return ''


def make_source(kind: str, device: str = '', video_path: str = '', width: int = 640,
                height: int = 480, fps: float = 30.0, fourcc: str = 'MJPG', loop: bool = True,
                scene: Any = None, pose: Optional[Callable[[], Tuple[float, float]]] = None,
                realtime: bool = True, start_time: Optional[float] = None) -> FrameSource:
    """Build the frame source named by ``kind`` (one of :data:`SOURCES`).

    ``v4l2`` needs ``device`` (and uses width/height/fps/fourcc); ``file``
    needs ``video_path`` (uses fps, 0 = the file's rate, loop, realtime);
    ``sim`` needs ``scene`` and ``pose`` (uses fps, realtime and start_time,
    the wall-clock time of scene time 0; the scene sets the size).  Every
    call builds a fresh, unopened source, so ``lambda: make_source(...)`` is
    a source factory for :class:`CaptureThread`.  Raises ValueError naming the
    parameter and the allowed values.
    """
    if kind not in SOURCES:
        allowed = ', '.join(repr(s) for s in SOURCES)
        raise ValueError(f'source must be one of {allowed}, got {kind!r}')
    if kind == 'v4l2':
        if not device:
            raise ValueError("device is required for source 'v4l2' (e.g. '/dev/video0', a "
                             "/dev/v4l/by-id/ link or an index like '0')")
        return V4L2Source(device, width=width, height=height, fps=fps, fourcc=fourcc)
    if kind == 'file':
        if not video_path:
            raise ValueError("video_path is required for source 'file' (path to a video file)")
        return VideoFileSource(video_path, loop=loop, fps=fps, realtime=realtime)
    if scene is None or pose is None:
        raise ValueError("scene and pose are required for source 'sim' (a scene with "
                         'render(t, pan, tilt) and a callable returning (pan, tilt))')
    return SimSource(scene, pose, fps=fps, realtime=realtime, start_time=start_time)
