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

import math

from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String

from face_tracker_ros.common import qos
from face_tracker_ros.common.health import NodeHealth, OK, WARN
from face_tracker_ros.common.params import COMMON, declare, differ, Param, ParameterError
from face_tracker_ros.common.paths import runtime_dir
from face_tracker_ros.common.runner import main_for
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.protocols import PROTOCOLS
from face_tracker_ros.sim.controller import parse_serial_faults, SimServoController


def _axis_params(axis: str, travel: float):
    c = AxisCalibration()
    return (
        Param(f'{axis}.travel', travel, f'Physical travel limit of the simulated {axis} servo '
              '(+-)', min=0.05, max=math.pi, unit='rad'),
        Param(f'{axis}.invert', False, f'Simulate a {axis} servo mounted reversed'),
        Param(f'{axis}.center_us', c.center_us, f'Pulse width that puts {axis} at 0',
              min=400.0, max=2600.0, unit='us'),
        Param(f'{axis}.us_per_rad', c.us_per_rad, f'{axis} pulse width change per radian',
              min=50.0, max=5000.0, unit='us/rad'),
    )


PARAMS = (
    Param('protocol', 'ascii', 'Protocol the simulated firmware speaks', choices=PROTOCOLS),
    Param('link_path', '', 'Symlink to the pseudo-terminal; empty = '
          '$XDG_RUNTIME_DIR/face_tracker_ros/sim_servo (or /tmp/face_tracker_ros-<uid>/...)'),
    Param('maestro.pan_channel', 0, 'Maestro channel of the pan servo', min=0, max=23),
    Param('maestro.tilt_channel', 1, 'Maestro channel of the tilt servo', min=0, max=23),
    Param('max_speed', 3.0, 'Servo speed (about 0.17 s per 60 degrees, a common hobby servo)',
          min=0.01, max=50.0, unit='rad/s'),
    Param('faults', '', 'Fault schedule of the simulated controller: comma-separated '
          '<kind>:<start_s>:<duration_s>[:<value>], kinds disconnect, garbage, silent, slow, '
          'stall, error_storm (e.g. "disconnect:20:3")'),
    Param('publish_rate_hz', 100.0, 'Rate of sim/joint_states', min=1.0, max=1000.0, unit='Hz'),
    Param('stop_linger_s', 2.0, 'After its stop signal, go on serving a client that has the '
          'port open until it closes it (the servo node parking the head: under ros2 launch '
          'both stop at once), at most this long; 0 = close at once', min=0.0, max=10.0,
          unit='s', live=True),
) + _axis_params('pan', 1.4) + _axis_params('tilt', 0.8) + COMMON

#: Rules between the simulated controller's parameters, checked at start.
RULES = (differ('maestro.pan_channel', 'maestro.tilt_channel'),)


def default_link_path() -> str:
    """Return the default path of the simulated controller's port link."""
    return str(runtime_dir() / 'sim_servo')


class SimServoNode(Node):
    """Runs :class:`SimServoController` and publishes its true angles."""

    def __init__(self, **kwargs):
        """Open the pseudo-terminal and start publishing."""
        super().__init__('sim_servo', **kwargs)
        self.params = p = declare(self, PARAMS, RULES)

        def cal(axis):
            return AxisCalibration(center_us=p[f'{axis}.center_us'],
                                   us_per_rad=p[f'{axis}.us_per_rad'],
                                   invert=p[f'{axis}.invert'])
        try:
            self.controller = SimServoController(
                protocol=p['protocol'], link_path=p['link_path'] or default_link_path(),
                pan_cal=cal('pan'), tilt_cal=cal('tilt'),
                pan_channel=p['maestro.pan_channel'], tilt_channel=p['maestro.tilt_channel'],
                pan_limits=(-p['pan.travel'], p['pan.travel']),
                tilt_limits=(-p['tilt.travel'], p['tilt.travel']),
                max_speed_rad_s=p['max_speed'],
                faults=parse_serial_faults([e for e in p['faults'].split(',') if e.strip()],
                                           'faults'))
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        port = self.controller.start()
        self._pub = self.create_publisher(JointState, 'sim/joint_states', qos.STREAM_PUB)
        self.create_timer(1.0 / p['publish_rate_hz'], self._publish)
        self.create_subscription(String, 'sim/inject_fault', self._on_inject, 10)
        self.health = NodeHealth(self, hardware_id=port)
        self.health.add('simulated controller', self._report)
        self.get_logger().info(f"simulated servo controller ({p['protocol']}) on {port}")

    def _publish(self) -> None:
        pan, tilt = self.controller.angles()
        msg = JointState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.name = ['pan', 'tilt']
        msg.position = [float(pan), float(tilt)]
        self._pub.publish(msg)

    def _on_inject(self, msg: String) -> None:
        """Start a fault now: ``serial:<kind>:<duration_s>[:<value>]`` (others are ignored)."""
        target, _, rest = msg.data.partition(':')
        if target != 'serial':
            return
        try:
            parts = rest.split(':')
            kind, duration = parts[0], float(parts[1])
            value = float(parts[2]) if len(parts) > 2 else 0.0
            self.controller.inject(kind, duration, value)
        except (ValueError, IndexError) as exc:
            self.get_logger().warning(f"fault injection '{msg.data}' ignored: {exc}")
            return
        self.get_logger().warning(f'injected serial fault {rest}')

    def _report(self):
        fw = self.controller.firmware
        pan, tilt = self.controller.angles()
        faults = self.controller.active_faults()
        figures = {'port': self.controller.port_path, 'protocol': self.params['protocol'],
                   'commands_total': fw.commands_total, 'errors_total': fw.errors_total,
                   'pan_rad': pan, 'tilt_rad': tilt,
                   'active_faults': ','.join(str(f) for f in faults) or 'none'}
        if faults:
            return WARN, f"simulated {self.params['protocol']} controller, injected fault", \
                figures
        return OK, f"simulated {self.params['protocol']} controller", figures

    def shutdown(self) -> None:
        """Serve a connected client until it closes the port (bounded), then close it."""
        controller = self.controller
        controller.stop(linger_s=self.params['stop_linger_s'])
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
    main_for(SimServoNode, 'sim_servo', background=True)


if __name__ == '__main__':
    main()
