# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What every frame source has: the life cycle, the frame format, pacing.

Every source has the same small life cycle: construct (touches no device),
:meth:`FrameSource.open` (raises :class:`SourceError` with the device or path
and the reason), :meth:`FrameSource.read` (one BGR ``uint8`` C-contiguous
frame, or ``None`` on a failed read; it never raises on bad external input)
and :meth:`FrameSource.close` (idempotent).  After a failed read the source's
``last_error`` holds a one-line reason for the log.

Pacing (file and simulation sources in real time, :class:`Pacer`): frame ``k``
after the first is due at ``first + k / fps`` on the source's clock, so the
rate never drifts; a read that is already late does not sleep, and a stall
longer than one whole period restarts the schedule from now instead of
bursting frames to catch up.
"""

from abc import ABC, abstractmethod
import math
from typing import Any, Callable, Optional, Tuple

import cv2
import numpy as np

# File rate used when a video reports none (or nonsense).
DEFAULT_FILE_FPS = 30.0
# Rate asked of a camera (and the simulation) when the fps parameter is 0.
DEFAULT_CAMERA_FPS = 30.0
#: Highest frame rate a source accepts.
MAX_FPS = 1000.0


class SourceError(RuntimeError):
    """A frame source could not be opened; the message names the device or path and why."""


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


def fourcc_text(code: float) -> str:
    """Return a FOURCC code (as OpenCV reports it) as its 4 characters, '?' if none."""
    value = int(code) if math.isfinite(code) and code > 0 else 0
    if value == 0:
        return '?'
    chars = [chr((value >> (8 * i)) & 0xFF) for i in range(4)]
    return ''.join(c if c.isprintable() else '?' for c in chars)


class Pacer:
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
