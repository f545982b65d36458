# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated camera node: the camera node with a rendered scene as its frame source.

It is the node ``camera`` with the camera's topics, status and parameters
(:mod:`face_tracker_ros.camera.node`), plus the ``sim.*`` parameters
(:mod:`face_tracker_ros.sim.camera_params`) and these topics:

* ``camera/camera_info`` carries the simulated camera's true pinhole intrinsics;
* ``sim/true_target`` (``geometry_msgs/PointStamped``): where the face truly is in each
  frame (same stamp): ``x``/``y`` its normalised offset, ``z`` its distance from the image
  centre over the half-width, or -1 when the face centre is outside the image;
* subscribes ``sim/joint_states`` (``sensor_msgs/JointState``): the simulated controller's
  true pan/tilt, which aim the simulated view;
* subscribes ``sim/inject_fault`` (``std_msgs/String``
  ``"camera:<kind>:<duration_s>[:<value>]"``): camera faults at run time, besides the
  ``sim.faults`` schedule (:mod:`face_tracker_ros.sim.faults`).
"""

import threading
import time

from geometry_msgs.msg import PointStamped
from sensor_msgs.msg import JointState
from std_msgs.msg import String

from face_tracker_ros.camera.frame_source import DEFAULT_CAMERA_FPS
from face_tracker_ros.camera.node import CameraNode
from face_tracker_ros.common import qos
from face_tracker_ros.common.runner import main_for, publish_from_thread
from face_tracker_ros.interface import (
    CAMERA_NODE,
    SIM_INJECT_FAULT_TOPIC,
    SIM_JOINT_STATES_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
)
from face_tracker_ros.sim.camera_params import PARAMS, RULES, SimCameraConfig
from face_tracker_ros.sim.faults import FaultSchedule, faulty_factory
from face_tracker_ros.sim.injection import inject_from_text
from face_tracker_ros.sim.scene import SimScene
from face_tracker_ros.sim.source import SimSource

__all__ = ('SimCameraNode', 'PARAMS', 'RULES', 'main')


class SimCameraNode(CameraNode):
    """The camera node whose frames are rendered from the simulated pan/tilt pose."""

    def __init__(self, **kwargs):
        """Declare the parameters, build the scene and start capturing."""
        self._pose = (0.0, 0.0)
        self._pose_received = True
        self._pose_lock = threading.Lock()
        self._schedule = FaultSchedule()
        super().__init__(params=PARAMS, rules=RULES, **kwargs)

    def source_factory(self, values, config):
        """Build the scene; return a factory of simulated sources sharing one fault schedule."""
        sim = self.sim_config = SimCameraConfig.from_params(values)
        scene = SimScene(width=config.width, height=config.height, hfov=sim.hfov,
                         path=sim.path, seed=sim.seed, face_size_rad=sim.face_size,
                         noise_sigma=sim.noise_sigma)
        self._pose_received = not sim.wait_for_pose
        self._truth_pub = self.create_publisher(PointStamped, SIM_TRUE_TARGET_TOPIC,
                                                qos.TRACE_PUB)
        self.create_subscription(JointState, SIM_JOINT_STATES_TOPIC, self._on_sim_pose,
                                 qos.LATEST_ONLY)
        start_time = time.time()
        fps = config.fps or DEFAULT_CAMERA_FPS
        self._schedule = FaultSchedule(sim.faults)
        self.create_subscription(String, SIM_INJECT_FAULT_TOPIC, self._on_inject, 10)
        return faulty_factory(
            lambda: SimSource(scene, self._current_pose, fps=fps, start_time=start_time),
            self._schedule), sim.hfov

    def identity(self, config):
        """Return the simulated camera's source 'sim' and device 'simulation'."""
        return 'sim', 'simulation'

    def ready(self) -> bool:
        """Publish nothing before the simulated servos' angles arrive (``sim.wait_for_pose``)."""
        if not self._pose_received:
            # The simulated view is aimed by the simulated servos: until their angles
            # arrive, a frame would show the scene from a head that is not there.
            self.get_logger().info(f'waiting for {SIM_JOINT_STATES_TOPIC} before publishing',
                                   throttle_duration_sec=5.0)
        return self._pose_received

    def on_published(self, header) -> None:
        """Publish where the face truly is in the frame just published."""
        truth = getattr(self.capture.source, 'last_truth', None)
        if truth is not None:
            point = PointStamped()
            point.header = header
            point.point.x = float(truth.offset_x)
            point.point.y = float(truth.offset_y)
            point.point.z = float(truth.error) if truth.visible else -1.0
            publish_from_thread(self, self._truth_pub, point)

    def extra_figures(self):
        """Return the camera faults active now."""
        return {'active_faults': ','.join(self._schedule.active()) or 'none'}

    def _on_inject(self, msg: String) -> None:
        """Start a fault now: ``camera:<kind>:<duration_s>[:<value>]`` (others are ignored)."""
        inject_from_text(msg.data, 'camera', self._schedule.inject, self.get_logger())

    def _current_pose(self):
        with self._pose_lock:
            return self._pose

    def _on_sim_pose(self, msg: JointState) -> None:
        try:
            pan = msg.position[list(msg.name).index('pan')]
            tilt = msg.position[list(msg.name).index('tilt')]
        except (ValueError, IndexError):
            self.get_logger().warning(f'{SIM_JOINT_STATES_TOPIC} without pan and tilt: ignored',
                                      throttle_duration_sec=10.0)
            return
        with self._pose_lock:
            self._pose = (float(pan), float(tilt))
            self._pose_received = True


def main(args=None):
    """Run the simulated camera node."""
    main_for(SimCameraNode, CAMERA_NODE, tune_malloc=True)


if __name__ == '__main__':
    main()
