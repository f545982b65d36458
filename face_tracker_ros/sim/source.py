# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated camera's frame source: a rendered scene seen from the simulated pan/tilt pose."""

import math
import time
import traceback
from typing import Any, Callable, Optional, Tuple

import numpy as np

from face_tracker_ros.camera.frame_source import FrameSource, MAX_FPS, Pacer, to_bgr
from face_tracker_ros.common.checks import check_number, is_number


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
        self.fps = check_number('fps', fps, low=0.0, high=MAX_FPS, low_open=True)
        self.realtime = bool(realtime)
        self._clock = clock
        self._sleep = sleep
        if start_time is not None and not is_number(start_time):
            raise ValueError(f'start_time must be a finite clock value in seconds or None, '
                             f'got {start_time!r}')
        self._pacer = Pacer(self.fps, clock, sleep)
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
