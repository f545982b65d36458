# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node: resources, the restart watchdog and the log file of a tracker run.

Subscribes to ``/diagnostics`` (the nodes' statuses: heartbeats, pids),
``camera/camera_info`` (the frame rate), ``joint_states``/``sim/joint_states``
(the servo's output) and ``/rosout`` (everything logged, written to
``<log_dir>/face_tracker.log``).  Publishes on ``/diagnostics`` ``diagnostics:
system``, ``process <node>``, ``watchdog <node>``, ``camera device`` and
``log file``.  The work is done by the ROS-free
:class:`~face_tracker_ros.monitor.core.Monitor`; the watchdog
(:mod:`face_tracker_ros.monitor.watchdog`) ends a hung or bloated node so that
its bring-up restarts it.
"""

import socket

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import Log
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, JointState

from face_tracker_ros.common import qos
from face_tracker_ros.common.health import NodeHealth, STARTUP_GRACE_S
from face_tracker_ros.common.params import declare
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.interface import (
    CAMERA_DEVICE_TASK,
    DIAGNOSTICS_NODE,
    DIAGNOSTICS_TOPIC,
    LOG_FILE_TASK,
    process_task,
    ROSOUT_TOPIC,
    SERVO_NODE,
    SIM_SERVO_NODE,
    SYSTEM_TASK,
    watchdog_task,
)
from face_tracker_ros.monitor.core import Monitor
from face_tracker_ros.monitor.params import Bands, MonitorConfig, PARAMS, RULES
from face_tracker_ros.monitor.watchdog import DEFAULT_OUTPUTS

#: The warn/error bands of the validated parameter values (old name, for the tests).
_bands = Bands.from_params

#: Nodes whose output topic this node subscribes to (the others are judged otherwise).
SUBSCRIBED_OUTPUTS = (SERVO_NODE, SIM_SERVO_NODE)


class DiagnosticsNode(Node):
    """Watches resources and processes, publishes them, and keeps the log file."""

    def __init__(self, **kwargs):
        """Declare parameters, open the log file and start sampling."""
        super().__init__(DIAGNOSTICS_NODE, **kwargs)
        self.params = p = declare(self, PARAMS, RULES, apply=self._apply_params)
        config = MonitorConfig.from_params(p)
        self.core = core = Monitor(config, self.get_namespace(), self._log,
                                   startup_grace_s=STARTUP_GRACE_S)
        for name in SUBSCRIBED_OUTPUTS:
            if name in core.watchers:
                self.create_subscription(JointState, DEFAULT_OUTPUTS[name],
                                         lambda _m, n=name: core.output(n),
                                         qos.LATEST_ONLY, raw=True)
        self.create_subscription(DiagnosticArray, DIAGNOSTICS_TOPIC, self._on_diagnostics, 50)
        self.create_subscription(CameraInfo, config.resources.camera_info_topic,
                                 lambda _m: core.camera_info(), qos.LATEST_ONLY, raw=True)
        rosout_qos = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                                durability=DurabilityPolicy.TRANSIENT_LOCAL,
                                history=HistoryPolicy.KEEP_LAST)
        self.create_subscription(Log, ROSOUT_TOPIC, self._on_log, rosout_qos)

        self.health = NodeHealth(self, hardware_id=socket.gethostname())
        self.health.add(SYSTEM_TASK, core.report_system)
        for name in core.watchers:
            self.health.add(process_task(name), lambda name=name: core.report_process(name))
        for name in core.watchers:
            self.health.add(watchdog_task(name), lambda name=name: core.report_watchdog(name))
        self.health.add(CAMERA_DEVICE_TASK, core.report_camera_device)
        self.health.add(LOG_FILE_TASK, core.keeper.report)

        core.sample()
        self.create_timer(config.resources.sample_period_s, core.sample)
        self.create_timer(config.resources.resource_log_period_s, core.log_resources)
        self.create_timer(core.check_period_s, core.check_watchdog)
        core.keeper.arm()
        self.create_timer(1.0, core.keeper.watch)
        self.get_logger().info(core.describe())
        core.log_resources()
        note = core.keeper.continuing_note()
        if note:
            self.get_logger().info(note)

    def _log(self, level: int, text: str) -> None:
        log_at(self.get_logger(), level, text)

    def _apply_params(self, changed) -> None:
        # Live tuning of the thresholds and the log file's level (checked, in self.params).
        self.core.configure(MonitorConfig.from_params(self.params))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.core.status(status.name, status.message,
                             {kv.key: kv.value for kv in status.values})

    def _on_log(self, msg: Log) -> None:
        self.core.keeper.write(msg.stamp.sec + msg.stamp.nanosec * 1e-9, msg.level, msg.name,
                               msg.msg, msg.file, msg.function, msg.line)

    def shutdown(self) -> None:
        """Flush and close the log file."""
        self.core.keeper.close()


def main(args=None):
    """Run the diagnostics node."""
    main_for(DiagnosticsNode, DIAGNOSTICS_NODE, background=True)


if __name__ == '__main__':
    main()
