# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A camera through OpenCV's V4L2 backend.

Importing this module sets ``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT`` (seconds a
V4L2 read waits for a stalled camera; OpenCV's default is 10) to 2 unless the
environment already sets it, so a read of an unplugged camera returns soon.
"""

import os
import stat
from typing import Optional

import cv2
import numpy as np

from face_tracker_ros.camera.frame_source import (
    fourcc_text,
    FrameSource,
    SourceError,
    to_bgr,
)

os.environ.setdefault('OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT', '2')

#: What a V4L2 device may be named, for messages.
DEVICE_FORMS = "a /dev/video* path, a /dev/v4l/by-id/ or by-path link, or an index like '0'"


def fourcc_problem(fourcc) -> str:
    """Return why ``fourcc`` is not a pixel format code ('' if it is one): 4 printable ASCII."""
    if not isinstance(fourcc, str) or len(fourcc) != 4:
        return 'must be 4 characters'
    if not (fourcc.isascii() and fourcc.isprintable()):
        return "must be 4 printable ASCII characters such as 'MJPG' or 'YUYV'"
    return ''


class V4L2Source(FrameSource):
    """A camera through OpenCV's V4L2 backend.

    ``device`` is ``/dev/videoN``, a ``/dev/v4l/by-id/...`` or ``by-path``
    symlink (resolved at every :meth:`open`, so a camera that came back under
    another number is found again), or a bare index such as ``'0'``.
    """

    kind = 'v4l2'

    def __init__(self, device: str, width: int = 640, height: int = 480, fps: float = 30.0,
                 fourcc: str = 'MJPG') -> None:
        """Keep the request (checked by :func:`make_source` or the parameters); open nothing."""
        super().__init__()
        self.device = device.strip()
        self.req_width = int(width)
        self.req_height = int(height)
        self.req_fps = float(fps)
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
            self.fourcc = fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
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
