# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated servo controller node: firmware on a pseudo-terminal, true angles on a topic.

It opens a pseudo-terminal that speaks the same bytes as the real controller
(``protocol``: the ASCII line protocol or the Maestro compact protocol) and
links it at ``link_path``; the servo node opens that path exactly as it would
open ``/dev/ttyUSB0``.  The simulated servos move at a finite speed inside
their travel limits, and their true angles are published on
``sim/joint_states`` (``sensor_msgs/JointState``, ``pan``/``tilt``, radians),
which aim the simulated camera's view.

Faults (disconnect, garbage, silent, slow, stall) follow the ``faults``
schedule or start at run time from ``sim/inject_fault`` (``std_msgs/String``
``"serial:<kind>:<duration_s>[:<value>]"``).
"""

from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String

from face_tracker_ros.common import qos
from face_tracker_ros.common.health import NodeHealth
from face_tracker_ros.common.params import declare, ParameterError
from face_tracker_ros.common.paths import runtime_dir
from face_tracker_ros.common.runner import main_for
from face_tracker_ros.common.status import OK, WARN
from face_tracker_ros.interface import (
    SIM_INJECT_FAULT_TOPIC,
    SIM_JOINT_STATES_TOPIC,
    SIM_SERVO_NODE,
    SIM_SERVO_TASK,
)
from face_tracker_ros.sim.controller import SimServoController
from face_tracker_ros.sim.injection import inject_from_text
from face_tracker_ros.sim.servo_params import PARAMS, RULES, SimServoConfig

__all__ = ('SimServoNode', 'PARAMS', 'RULES', 'default_link_path', 'main')


def default_link_path() -> str:
    """Return the default path of the simulated controller's port link."""
    return str(runtime_dir() / 'sim_servo')


class SimServoNode(Node):
    """Runs :class:`SimServoController` and publishes its true angles."""

    def __init__(self, **kwargs):
        """Open the pseudo-terminal and start publishing."""
        super().__init__(SIM_SERVO_NODE, **kwargs)
        self.params = declare(self, PARAMS, RULES, apply=self._apply)
        self.config = c = SimServoConfig.from_params(self.params)
        try:
            self.controller = SimServoController(
                protocol=c.protocol, link_path=c.link_path or default_link_path(),
                pan_cal=c.pan_cal, tilt_cal=c.tilt_cal, pan_channel=c.pan_channel,
                tilt_channel=c.tilt_channel, pan_limits=c.pan_limits,
                tilt_limits=c.tilt_limits, max_speed_rad_s=c.max_speed, faults=c.faults)
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        port = self.controller.start()
        self._pub = self.create_publisher(JointState, SIM_JOINT_STATES_TOPIC, qos.STREAM_PUB)
        self.create_timer(1.0 / c.publish_rate_hz, self._publish)
        self.create_subscription(String, SIM_INJECT_FAULT_TOPIC, self._on_inject, 10)
        self.health = NodeHealth(self, hardware_id=port)
        self.health.add(SIM_SERVO_TASK, self._report)
        self.get_logger().info(f'simulated servo controller ({c.protocol}) on {port}')

    def _apply(self, changed) -> None:
        self.config = SimServoConfig.from_params(self.params)

    def _publish(self) -> None:
        pan, tilt = self.controller.angles()
        msg = JointState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.name = ['pan', 'tilt']
        msg.position = [float(pan), float(tilt)]
        self._pub.publish(msg)

    def _on_inject(self, msg: String) -> None:
        """Start a fault now: ``serial:<kind>:<duration_s>[:<value>]`` (others are ignored)."""
        inject_from_text(msg.data, 'serial', lambda kind, duration, value: self.controller.inject(
            kind, duration, 0.0 if value is None else value), self.get_logger())

    def _report(self):
        fw = self.controller.firmware
        pan, tilt = self.controller.angles()
        faults = self.controller.active_faults()
        figures = {'port': self.controller.port_path, 'protocol': self.config.protocol,
                   **fw.counts.as_dict(), 'pan_rad': pan, 'tilt_rad': tilt,
                   'active_faults': ','.join(str(f) for f in faults) or 'none'}
        if faults:
            return WARN, f'simulated {self.config.protocol} controller, injected fault', \
                figures
        return OK, f'simulated {self.config.protocol} controller', figures

    def shutdown(self) -> None:
        """Serve a connected client until it closes the port (bounded), then close it."""
        controller = self.controller
        controller.stop(linger_s=self.config.stop_linger_s)
        if controller.linger_commands or controller.linger_end == 'time limit':
            pan, tilt = controller.angles()
            model = controller.model
            self.get_logger().info(
                f'simulated controller served {controller.linger_commands} command(s) in '
                f'{controller.lingered_s:.2f} s after the stop request '
                f'({controller.linger_end}); targets pan {model.pan.target:.3f} rad, tilt '
                f'{model.tilt.target:.3f} rad; true angles pan {pan:.3f} rad, tilt '
                f'{tilt:.3f} rad')


def main(args=None):
    """Run the simulated servo controller node."""
    main_for(SimServoNode, SIM_SERVO_NODE, background=True)


if __name__ == '__main__':
    main()
