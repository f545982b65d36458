# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The whole tracker in one process, on a virtual clock: scene, detector, control law, firmware.

This is the single-script design the project started from, built from the
same parts the ROS nodes use (no ROS): every frame is rendered from the
simulated servos' true angles, searched for faces, turned into a command by
:class:`PanTiltController`, encoded by the servo protocol and fed as bytes to
the simulated firmware, which moves the simulated servos at their finite
speed.  Time is virtual, so tests run it faster than real time and get the
same result on every run; ``latency`` models the capture-to-command delay of
a real pipeline.
"""

from dataclasses import dataclass, field
import math
from typing import List, Optional

from face_tracker_ros.detector.backends import HaarBackend
from face_tracker_ros.detector.finder import FaceFinder
from face_tracker_ros.detector.selection import TargetSelector
from face_tracker_ros.geometry import pixel_to_offset, vertical_fov
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.control import AxisGains, PanTiltController, TrackerConfig
from face_tracker_ros.servo.protocols import make_protocol
from face_tracker_ros.sim.firmware import FirmwareConfig, SimFirmware
from face_tracker_ros.sim.scene import SimScene
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel


@dataclass
class LoopConfig:
    """Settings of one closed-loop run (angles in radians, times in seconds)."""

    path: str = 'drift'
    seed: int = 0
    width: int = 640
    height: int = 480
    hfov: float = math.radians(60.0)
    fps: float = 30.0
    latency: float = 0.04
    protocol: str = 'ascii'
    servo_speed: float = 3.0
    pan_travel: float = 1.4
    tilt_travel: float = 0.8
    noise_sigma: float = 2.0
    settle: float = 3.0
    physical_invert_pan: bool = False
    invert_pan: bool = False
    pan_gains: AxisGains = field(default_factory=lambda: AxisGains(min_angle=-1.3,
                                                                   max_angle=1.3))
    tilt_gains: AxisGains = field(default_factory=lambda: AxisGains(min_angle=-0.7,
                                                                    max_angle=0.7))


@dataclass
class LoopResult:
    """What a run measured; errors are distances from the centre over the half-width."""

    times: List[float] = field(default_factory=list)
    errors: List[Optional[float]] = field(default_factory=list)
    detections: int = 0
    commands: int = 0
    frames: int = 0
    settle: float = 3.0

    def settled_errors(self) -> List[float]:
        """Errors after the settle time, in frames where the face was in view."""
        return [e for t, e in zip(self.times, self.errors)
                if e is not None and t >= self.settle]

    def rms(self) -> float:
        """Root mean square of :meth:`settled_errors` (nan when there are none)."""
        errs = self.settled_errors()
        return math.sqrt(sum(e * e for e in errs) / len(errs)) if errs else float('nan')

    def final_error(self, window_s: float = 1.0) -> float:
        """Largest in-view error over the last ``window_s`` seconds (nan when none)."""
        end = self.times[-1] if self.times else 0.0
        errs = [e for t, e in zip(self.times, self.errors)
                if e is not None and t >= end - window_s]
        return max(errs) if errs else float('nan')


class ClosedLoop:
    """Runs scene -> detector -> controller -> protocol bytes -> firmware -> servos."""

    def __init__(self, config: LoopConfig = LoopConfig(), finder: Optional[FaceFinder] = None):
        """Build every part from ``config`` (Haar with the default search strategy)."""
        c = self.config = config
        self.scene = SimScene(width=c.width, height=c.height, hfov=c.hfov, path=c.path,
                              seed=c.seed, noise_sigma=c.noise_sigma)
        self.finder = finder or FaceFinder(HaarBackend())
        self.selector = TargetSelector()
        self.controller = PanTiltController(
            TrackerConfig(hfov=c.hfov, vfov=vertical_fov(c.hfov, c.width, c.height)),
            c.pan_gains, c.tilt_gains)
        self.model = PanTiltModel(
            ServoAxisModel(-c.pan_travel, c.pan_travel, c.servo_speed),
            ServoAxisModel(-c.tilt_travel, c.tilt_travel, c.servo_speed))
        self.host_pan_cal = AxisCalibration(invert=c.invert_pan)
        self.host_tilt_cal = AxisCalibration()
        self.firmware = SimFirmware(
            FirmwareConfig(c.protocol, AxisCalibration(invert=c.physical_invert_pan)),
            self.model)
        self.protocol = make_protocol(c.protocol)

    def run(self, duration: float) -> LoopResult:
        """Run ``duration`` seconds of virtual time and return what was measured."""
        c = self.config
        result = LoopResult(settle=c.settle)
        period = 1.0 / c.fps
        pending = []  # (due time, bytes) of commands still "in flight"
        now = 0.0
        for k in range(int(duration * c.fps)):
            t = k * period
            # Move the servos up to this frame, delivering commands when they are due.
            for due, data in list(pending):
                if due <= t:
                    self.model.advance(due - now)
                    now = due
                    self.firmware.handle(data)
                    pending.remove((due, data))
            self.model.advance(t - now)
            now = t
            pan, tilt = self.model.angles()
            image, truth = self.scene.render(t, pan, tilt)
            result.frames += 1
            result.times.append(t)
            result.errors.append(truth.error if truth.visible else None)
            faces = self.finder.find(image)
            chosen = self.selector.choose(faces)
            done = t + c.latency
            if chosen is not None:
                result.detections += 1
                x, y = pixel_to_offset(*chosen.center, c.width, c.height)
                command = self.controller.observe_face(x, y, t, done)
            else:
                command = self.controller.observe_no_face(t, done)
            if command is not None:
                result.commands += 1
                pending.append((done, self.protocol.encode_move(
                    self.host_pan_cal.angle_to_us(command[0]),
                    self.host_tilt_cal.angle_to_us(command[1]))))
        return result
