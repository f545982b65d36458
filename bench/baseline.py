# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The single-script design in real time: the pipeline's parts in one process, no ROS.

:class:`RealtimeLoop` composes the parts of
:class:`face_tracker_ros.sim.loop.ClosedLoop` (the same scene, control law,
protocol and calibration) with the detector node's own per-frame logic
(:class:`~face_tracker_ros.detector.tracking.FaceTracker` built by
:func:`detector_tracker` from the node's parameter defaults and the simulation
plan's detector settings, the very configuration the node pipeline runs),
but runs them on the wall clock against the real simulated controller: a
:class:`~face_tracker_ros.sim.controller.SimServoController` on a pseudo-terminal,
written to through the servo node's
:class:`~face_tracker_ros.servo.link.SerialLink` (pyserial).  Frames are
paced at ``fps`` like the camera node's simulated source; each one is
stamped before it is rendered (the camera node's capture stamp), searched,
turned into a command and written to the port, and the latency is the time
from the stamp to the end of that write (what the servo node reports on
``servo/command_latency``).  One thread does everything, so a slow frame
delays the next one, as in any single-script tracker.
"""

import math
import os
import tempfile
import time
from typing import Dict, List, Optional, Tuple

from bench.common import percentile, rounded, summarize
from face_tracker_ros.detector.tracking import build_tracker, FaceTracker
from face_tracker_ros.geometry import pixel_to_offset
from face_tracker_ros.servo.link import SerialLink
from face_tracker_ros.sim.controller import SimServoController
from face_tracker_ros.sim.loop import ClosedLoop, LoopConfig
from face_tracker_ros.sim.scene import SimScene

#: How often the port's replies are drained and the lost-face timer runs (servo tick_rate).
TICK_S = 0.05


def detector_tracker() -> FaceTracker:
    """Return the detector node's per-frame logic as the simulated node pipeline runs it.

    The parameters are the detector node's defaults (what config/tracker.yaml
    holds) with the simulation plan's detector overrides (the backend: Haar
    where no YuNet model is found), so both sides of the pipeline benchmark
    detect with one configuration defined once.
    """
    from face_tracker_ros.bringup.plan import BringupArgs, make_plan
    from face_tracker_ros.common.params import defaults
    from face_tracker_ros.detector.params import PARAMS

    p = defaults(PARAMS)
    for spec in make_plan(BringupArgs(use_sim=True)):
        if spec.name == 'detector':
            p.update(spec.parameters)
    return build_tracker(p)[0]


class RealtimeLoop:
    """Scene -> FaceTracker -> control law -> serial bytes -> simulated controller, one thread.

    ``link_path`` is where the simulated controller's pty is linked (a
    private temporary path when empty).  ``tracker`` defaults to
    :func:`detector_tracker` (the detector node's configuration).
    """

    def __init__(self, fps: float = 30.0, path: str = 'drift', seed: int = 0,
                 protocol: str = 'ascii', link_path: str = '',
                 tracker: Optional[FaceTracker] = None) -> None:
        """Build the parts (nothing runs until :meth:`run`); ValueError names a bad setting."""
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240:
            raise ValueError(f'fps must be a number in (0, 240], got {fps!r}')
        self.fps = float(fps)
        config = LoopConfig(path=path, seed=seed, fps=self.fps, protocol=protocol)
        self.tracker = tracker or detector_tracker()
        parts = ClosedLoop(config, finder=self.tracker.finder)
        # The camera node's scene (its defaults: face 0.15 rad, noise 2 grey levels).
        self.scene = SimScene(width=config.width, height=config.height, hfov=config.hfov,
                              path=path, seed=seed, noise_sigma=config.noise_sigma)
        self.finder = parts.finder
        self.selector = self.tracker.selector
        self.controller = parts.controller
        self.protocol = parts.protocol
        self.pan_cal = parts.host_pan_cal
        self.tilt_cal = parts.host_tilt_cal
        self.config = config
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        if not link_path:
            self._tmp = tempfile.TemporaryDirectory(prefix='bench-baseline-')
            link_path = os.path.join(self._tmp.name, 'sim_servo')
        self.sim = SimServoController(protocol, link_path=link_path,
                                      pan_limits=(-config.pan_travel, config.pan_travel),
                                      tilt_limits=(-config.tilt_travel, config.tilt_travel),
                                      max_speed_rad_s=config.servo_speed)

    def _write(self, link: SerialLink, command: Tuple[float, float]) -> bool:
        return link.write(self.protocol.encode_move(self.pan_cal.angle_to_us(command[0]),
                                                    self.tilt_cal.angle_to_us(command[1])))

    def run(self, duration: float, settle: float = 3.0) -> Dict[str, object]:
        """Run for ``duration`` wall-clock seconds; return latencies and counts.

        Latencies of commands caused by frames captured in the first
        ``settle`` seconds are left out of the statistics.
        """
        if not duration > 0:
            raise ValueError(f'duration must be > 0 s, got {duration!r}')
        port = self.sim.start()
        link = SerialLink(port)
        try:
            if not link.open():
                raise RuntimeError(f'cannot open the simulated controller: {link.last_error}')
            link.write(self.protocol.encode_handshake())
            return self._loop(link, duration, settle)
        finally:
            link.close()
            self.sim.stop()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def _loop(self, link: SerialLink, duration: float, settle: float) -> Dict[str, object]:
        period = 1.0 / self.fps
        frames = detections = commands = write_failures = regrids = 0
        samples: List[Tuple[float, float]] = []  # (capture time since start, latency ms)
        stage_ms: Dict[str, List[float]] = {'render': [], 'detect': [], 'command': []}
        errors: List[float] = []
        cpu_start = time.process_time()
        start = time.time()
        anchor = time.monotonic()
        index = 0
        next_tick = anchor
        while True:
            # Pace like the camera node's simulated source.
            now_m = time.monotonic()
            due = anchor + index * period
            if now_m < due:
                time.sleep(due - now_m)
            elif now_m - due > period:
                anchor = now_m - index * period
                regrids += 1
            index += 1
            capture = time.time()
            if capture - start >= duration:
                break
            pan, tilt = self.sim.angles()
            image, truth = self.scene.render(capture - start, pan, tilt)
            frames += 1
            if truth.visible and capture - start >= settle:
                errors.append(truth.error)
            rendered = time.time()
            chosen = self.tracker.step(image, capture)[1]
            detected = time.time()
            if chosen is not None:
                detections += 1
                x, y = pixel_to_offset(*chosen.center, self.scene.width, self.scene.height)
                command = self.controller.observe_face(x, y, capture, detected)
            else:
                command = self.controller.observe_no_face(capture, detected)
            if command is not None:
                if self._write(link, command):
                    written = time.time()
                    commands += 1
                    if chosen is not None:
                        samples.append((capture - start, (written - capture) * 1000.0))
                        stage_ms['render'].append((rendered - capture) * 1000.0)
                        stage_ms['detect'].append((detected - rendered) * 1000.0)
                        stage_ms['command'].append((written - detected) * 1000.0)
                else:
                    write_failures += 1
                    link.open()
            if time.monotonic() >= next_tick:  # the servo node's timer: replies, lost face
                next_tick = time.monotonic() + TICK_S
                link.read_available()
                command = self.controller.tick(time.time())
                if command is not None and self._write(link, command):
                    commands += 1
        elapsed = time.time() - start
        cpu = time.process_time() - cpu_start
        latencies = [lat for t, lat in samples if t >= settle]
        rms = math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else None
        return {
            'duration_s': round(elapsed, 2),
            'fps': self.fps,
            'frames': frames,
            'frames_per_s': rounded(frames / elapsed, 2),
            'detections': detections,
            'servo_commands': commands,
            'write_failures': write_failures,
            'late_regrids': regrids,
            'latency_ms': summarize(latencies),
            'stage_ms_p50': {k: rounded(percentile(v, 50), 2) for k, v in stage_ms.items()},
            'target_error_rms': rounded(rms, 4),
            'cpu_percent_of_one_core': rounded(100.0 * cpu / elapsed, 1),
            'latencies_ms': [round(v, 3) for v in latencies],
        }
