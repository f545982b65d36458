# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Frames of a video file, paced at the file's (or a given) rate, optionally looped."""

import math
import os
import time
from typing import Callable, Optional, Tuple

import cv2
import numpy as np

from face_tracker_ros.camera.frame_source import (
    DEFAULT_FILE_FPS,
    fourcc_text,
    FrameSource,
    MAX_FPS,
    Pacer,
    SourceError,
    to_bgr,
)

# FFmpeg's tty demuxer shows a text file as a "video" of rendered characters.
_TEXT_CODECS = ('ansi', 'bint', 'xbin', 'idf')
_SNIFF_BYTES = 8192


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


class VideoFileSource(FrameSource):
    """Frames of a video file, paced at the file's (or a given) rate, optionally looped."""

    kind = 'file'
    repeats_frames = True  # a still scene in a video decodes to identical frames

    def __init__(self, path: str, loop: bool = True, fps: float = 0.0, realtime: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """Keep the arguments (checked by make_source or the parameters); fps 0: the file's."""
        super().__init__()
        self.path = path
        self.loop = bool(loop)
        self.req_fps = float(fps)
        self.realtime = bool(realtime)
        self._clock = clock
        self._sleep = sleep
        self._cap: Optional[cv2.VideoCapture] = None
        self._pacer: Optional[Pacer] = None
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
        codec = fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)).strip().lower()
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
            ok = math.isfinite(file_fps) and 0.0 < file_fps <= MAX_FPS
            self.fps = file_fps if ok else DEFAULT_FILE_FPS
        self._cap = cap
        self._pending = first
        self._pacer = Pacer(self.fps, self._clock, self._sleep)
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
