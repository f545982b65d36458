# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The servo node: turns face targets into pan/tilt commands on a serial servo controller.

Topics:

* subscribes ``face/target`` (``geometry_msgs/PointStamped``, every target):
  the detector's target (``z == 0`` means no face).
* ``joint_states`` (``sensor_msgs/JointState``): joints ``pan`` and ``tilt``,
  radians, as commanded; published with every command and at ``tick_rate_hz``.
* ``servo/command_latency`` (``sensor_msgs/TimeReference``): one per command
  caused by a target: ``header.stamp`` = when the command was written,
  ``time_ref`` = capture time of the image it came from.
* ``/diagnostics``: the status ``servo: servo`` (:mod:`face_tracker_ros.servo.status`).

:class:`~face_tracker_ros.servo.connection.ServoConnection` keeps the serial port healthy
from the node's timer; on shutdown the head is parked at home.
"""

import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState, TimeReference

from face_tracker_ros import interface
from face_tracker_ros.common import qos
from face_tracker_ros.common.compat import ImageFormatError
from face_tracker_ros.common.health import NodeHealth, STARTUP_GRACE_S
from face_tracker_ros.common.image_wire import read_point_stamped, stamp_problem
from face_tracker_ros.common.params import declare, ParameterError
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.servo.connection import ServoConnection
from face_tracker_ros.servo.control import PanTiltController, target_problem
from face_tracker_ros.servo.link import Backoff, SerialLink
from face_tracker_ros.servo.params import PARAMS, RULES, ServoConfig  # noqa: F401 - re-exported
from face_tracker_ros.servo.protocols import make_protocol
from face_tracker_ros.servo.status import ServoStatus


class ServoNode(Node):
    """Closes the loop from face targets to serial servo commands."""

    def __init__(self, **kwargs):
        """Declare and check parameters, then connect (or keep trying) to the controller."""
        super().__init__(interface.SERVO_NODE, **kwargs)
        started = time.monotonic()
        self.params = declare(self, PARAMS, RULES, apply=self._apply_params)
        self.config = c = ServoConfig.from_params(self.params)
        try:
            self.controller = PanTiltController(c.tracker, c.pan_gains, c.tilt_gains)
            self.protocol = make_protocol(c.protocol.name, c.protocol.pan_channel,
                                          c.protocol.tilt_channel, *c.home_us)
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        link = c.link
        self.conn = ServoConnection(
            SerialLink(link.port, baudrate=link.baudrate, write_timeout_s=link.write_timeout_s),
            self.protocol, Backoff(initial_s=c.backoff_initial_s, max_s=c.backoff_max_s),
            c.connection, initial_us=c.home_us)
        self.status = ServoStatus(self.controller, self.conn, c, startup_grace_s=STARTUP_GRACE_S,
                                  started=started)
        self._sent_since_tick = False
        self.health = NodeHealth(self, hardware_id=link.port)
        self.health.add(interface.SERVO_TASK, self.status.report)
        self._joint_pub = self.create_publisher(JointState, interface.JOINT_STATES_TOPIC,
                                                qos.STREAM_PUB)
        self._latency_pub = self.create_publisher(TimeReference, interface.COMMAND_LATENCY_TOPIC,
                                                  qos.TRACE_PUB)
        # Taken serialized and read without building a message object (image_wire).
        self.create_subscription(PointStamped, interface.TARGET_TOPIC, self._on_target,
                                 qos.EVERY_TARGET, raw=True)
        self.create_timer(1.0 / c.tick_rate_hz, self._on_tick)
        self.conn.poll(time.monotonic())
        self._log_events()
        self.get_logger().info(f"servo started: port '{link.port}', protocol "
                               f"'{c.protocol.name}'")

    def _apply_params(self, changed) -> None:
        # Live tuning: the values are checked (alone and by RULES) and stored in self.params;
        # the typed settings are built again from them as at start.
        self.config = c = ServoConfig.from_params(self.params)
        self.controller.config = c.tracker
        self.controller.pan.gains = c.pan_gains
        self.controller.tilt.gains = c.tilt_gains
        self.status.config = c
        if hasattr(self.protocol, 'pan_center_us'):  # the Maestro's home command
            self.protocol.pan_center_us, self.protocol.tilt_center_us = c.home_us

    def _now(self) -> float:
        # ROS time in seconds.  Without simulated time the system clock, read directly: an
        # rclpy Time costs about 0.06 ms more per target (measured here), before the command.
        clock = self.get_clock()
        if clock.ros_time_is_active:
            return clock.now().nanoseconds * 1e-9
        return time.time()

    def _log_events(self) -> None:
        # ServoConnection throttles repeated events itself: log every one.
        for level, message in self.conn.drain_events():
            log_at(self.get_logger(), level, message)

    def _on_target(self, data: bytes) -> None:
        self.status.targets_received += 1
        try:
            target = read_point_stamped(data)
        except ImageFormatError as exc:
            self.get_logger().warning(f'malformed target ignored: {exc}',
                                      throttle_duration_sec=5.0)
            return
        sec, nanosec = target.stamp_sec, target.stamp_nanosec
        x, y, size = target.x, target.y, target.z
        problem = target_problem(x, y, size)
        if problem is not None:
            return self._refused('malformed', problem)
        problem = stamp_problem(sec, nanosec)
        if problem is not None:
            return self._refused('bad_stamp', problem)
        stamp = sec + nanosec * 1e-9
        now = self._now()
        self.status.last_target_age = now - stamp
        why = self.controller.refusal(stamp, now)
        self._warn(self.status.clock_step_message())
        if why is not None:
            return self._refused(why, f'stamp {sec}.{nanosec:09d}, clock {now:.3f}')
        if not self.conn.is_connected:
            # The head cannot move: do not let the control law integrate an error that
            # no command can reduce; it resumes from where the head is on reconnect.
            self.status.targets_while_disconnected += 1
            return
        if size > 0.0:
            command = self.controller.observe_face(x, y, stamp, now)
            if command is not None:
                self._send(command, Time(sec=sec, nanosec=nanosec))
        else:
            command = self.controller.observe_no_face(stamp, now)
            if command is not None:
                self._send(command, None)

    def _refused(self, why: str, detail: str) -> None:
        self._warn(self.status.refusals.refuse(why, detail))

    def _warn(self, line) -> None:
        if line is not None:  # None: nothing new, or throttled
            self.get_logger().warning(line)

    def _on_tick(self) -> None:
        self.conn.poll(time.monotonic())
        command = self.controller.tick(self._now())
        self._warn(self.status.clock_step_message())
        if command is not None:
            self._send(command, None)
        self._log_events()
        if not self._sent_since_tick:
            self._publish_joints()
        self._sent_since_tick = False

    def _send(self, command, capture_stamp) -> None:
        pan, tilt = command
        now = time.monotonic()
        c = self.config
        if not self.conn.send_move(c.pan_calibration.angle_to_us(pan),
                                   c.tilt_calibration.angle_to_us(tilt), now):
            return
        self.status.last_command_time = now
        now_msg = self.get_clock().now().to_msg()
        self._publish_joints(now_msg)
        if capture_stamp is not None:
            trace = TimeReference()
            trace.header.stamp = now_msg
            trace.header.frame_id = 'servo'
            trace.time_ref = capture_stamp
            trace.source = 'capture'
            self._latency_pub.publish(trace)

    def _publish_joints(self, stamp=None) -> None:
        msg = JointState()
        msg.header.stamp = stamp if stamp is not None else self.get_clock().now().to_msg()
        msg.name = ['pan', 'tilt']
        msg.position = [float(v) for v in self.controller.command]
        self._joint_pub.publish(msg)
        self._sent_since_tick = True

    def shutdown(self) -> None:
        """Park the head at home and close the port."""
        self.conn.park(*self.config.home_us)
        self.conn.close()
        self._log_events()


def main(args=None):
    """Run the servo node."""
    main_for(ServoNode, interface.SERVO_NODE)


if __name__ == '__main__':
    main()
