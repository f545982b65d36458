# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The servo node: turns face targets into pan/tilt commands on a serial servo controller.

Topics:

* subscribes ``face/target`` (``geometry_msgs/PointStamped``, best-effort,
  newest only): the detector's target (``z == 0`` means no face).
* ``joint_states`` (``sensor_msgs/JointState``): joints ``pan`` and ``tilt``,
  radians, as commanded; published with every command and at ``tick_rate_hz``.
* ``servo/command_latency`` (``sensor_msgs/TimeReference``): one per command
  caused by a target: ``header.stamp`` = when the command was written,
  ``time_ref`` = capture time of the image it came from.

``/diagnostics`` carries the status ``servo: servo`` (connection, reconnects,
errors, last command age, pan/tilt, saturation, tracking state, pid).

Targets it cannot trust are refused, each reason counted in the status and
logged as a WARN at most every :data:`REFUSAL_LOG_S` seconds: values that are
not a target (``malformed``: non-finite, ``|x|`` or ``|y|`` beyond
:data:`~face_tracker_ros.servo.control.OFFSET_LIMIT`, ``z`` outside
0..:data:`~face_tracker_ros.servo.control.MAX_FACE_SIZE`), stamps that are not
a time (``bad_stamp``: see :func:`~face_tracker_ros.common.image_wire.stamp_problem`),
stamped more than ``max_target_lead_s`` ahead of the clock (``future``), older
than ``max_target_age_s`` (``stale``) or at/before the newest taken
(``out_of_order``).  While targets are refused for anything but their order the
status is WARN.  A backward step of the system clock is logged and tracking
resumes with the next frame (see :mod:`face_tracker_ros.servo.control`).

The serial port is opened with pyserial exactly as given (a device, a
``/dev/serial/by-id`` link, or the simulated controller's pseudo-terminal
link) and kept healthy by :class:`ServoConnection`: a port that cannot be
opened, disappears, times out, stops answering or answers garbage is closed and
reopened with backoff from the node's timer, never blocking the executor;
commands produced meanwhile are dropped (never queued); after a reconnect the
last commanded position is sent again (tracking resumes; if the face is gone
the lost-face behaviour brings the head home). On shutdown the head is parked
at home.
"""

import collections
import dataclasses
import math
import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState, TimeReference

from face_tracker_ros.common import qos
from face_tracker_ros.common.compat import ImageFormatError
from face_tracker_ros.common.health import ERROR, NodeHealth, OK, STARTUP_GRACE_S, WARN
from face_tracker_ros.common.image_wire import read_point_stamped, stamp_problem
from face_tracker_ros.common.params import (
    at_least,
    at_most,
    COMMON,
    declare,
    differ,
    Param,
    ParameterError,
    within,
)
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.servo.connection import ERROR_WINDOW_S, ServoConnection
from face_tracker_ros.servo.control import (
    AxisGains,
    PanTiltController,
    target_problem,
    TrackerConfig,
)
from face_tracker_ros.servo.link import Backoff, SerialLink
from face_tracker_ros.servo.protocols import make_protocol, PROTOCOLS

BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
HFOV = math.radians(60.0)
VFOV = 2.0 * math.atan(math.tan(HFOV / 2.0) * 3.0 / 4.0)

#: Each reason for refusing targets is logged at most this often (seconds), with a count.
REFUSAL_LOG_S = 5.0

#: Targets refused (for anything but their order) within this many seconds make the status WARN;
#: stale ones only when there are STALE_WARN_COUNT of them (one late frame at start-up is not).
REFUSAL_WARN_S = 5.0
STALE_WARN_COUNT = 3

#: What each refusal reason means in the log and the status.
_REFUSAL_TEXT = {
    'malformed': 'not a target',
    'bad_stamp': 'stamp is not a time',
    'future': 'stamped in the future (a clock ahead, or a bad stamp)',
    'stale': 'older than max_target_age_s (late pipeline, or a clock behind)',
    'out_of_order': 'stamped at or before the newest target',
}


#: Why the pulse calibration is read-only.
_PULSES = ('the pulse calibration and limits protect the mechanism; check them with the '
           'servo parked')
#: Why the serial link settings are read-only.
_LINK = 'the serial connection is set up with it at start'


def _axis_params(axis: str, limit: float):
    g = AxisGains()
    c = AxisCalibration()
    return (
        Param(f'{axis}.min_angle', -limit, f'Soft travel limit of {axis}, low side',
              min=-math.pi, max=math.pi, unit='rad', live=True),
        Param(f'{axis}.max_angle', limit, f'Soft travel limit of {axis}, high side',
              min=-math.pi, max=math.pi, unit='rad', live=True),
        Param(f'{axis}.home', 0.0, f'Home angle of {axis}', min=-math.pi, max=math.pi,
              unit='rad', live=True),
        Param(f'{axis}.kp', g.kp, f'{axis} proportional gain (velocity per error)', min=0.0,
              max=100.0, unit='1/s', live=True),
        Param(f'{axis}.ki', g.ki, f'{axis} integral gain', min=0.0, max=100.0, unit='1/s^2',
              live=True),
        Param(f'{axis}.kd', g.kd, f'{axis} derivative gain', min=0.0, max=10.0, live=True),
        Param(f'{axis}.deadband', g.deadband, f'{axis} errors below this are ignored',
              min=0.0, max=0.5, unit='rad', live=True),
        Param(f'{axis}.integral_limit', g.integral_limit, f'{axis} anti-windup clamp of the '
              'error integral', min=0.0, max=10.0, unit='rad*s', live=True),
        Param(f'{axis}.max_velocity', g.max_velocity, f'{axis} slew-rate limit',
              min=0.01, max=20.0, unit='rad/s', live=True),
        Param(f'{axis}.invert', c.invert, f'{axis} servo mounted reversed (flips the pulse '
              'direction)', live=True),
        Param(f'{axis}.center_us', c.center_us, f'{axis} pulse width at angle 0',
              min=400.0, max=2600.0, unit='us', why=_PULSES),
        Param(f'{axis}.us_per_rad', c.us_per_rad, f'{axis} pulse width change per radian',
              min=50.0, max=5000.0, unit='us/rad', why=_PULSES),
        Param(f'{axis}.min_us', c.min_us, f'{axis} shortest pulse sent', min=400.0,
              max=2600.0, unit='us', why=_PULSES),
        Param(f'{axis}.max_us', c.max_us, f'{axis} longest pulse sent', min=400.0,
              max=2600.0, unit='us', why=_PULSES),
    )


def _axis_rules(axis: str):
    return (
        at_most(f'{axis}.min_angle', f'{axis}.max_angle', strict=True),
        within(f'{axis}.home', f'{axis}.min_angle', f'{axis}.max_angle'),
        at_most(f'{axis}.min_us', f'{axis}.max_us', strict=True),
        within(f'{axis}.center_us', f'{axis}.min_us', f'{axis}.max_us'),
    )


PARAMS = (
    Param('port', '/dev/ttyUSB0', 'Serial port of the servo controller (device, by-id link '
          'or pyserial URL)', why='the port is opened at start'),
    Param('baudrate', 115200, 'Serial baud rate', choices=BAUDRATES,
          why='the port is opened at start'),
    Param('protocol', 'ascii', 'Servo controller protocol', choices=PROTOCOLS, why=_LINK),
    Param('maestro.pan_channel', 0, 'Maestro channel of the pan servo', min=0, max=23,
          why=_LINK),
    Param('maestro.tilt_channel', 1, 'Maestro channel of the tilt servo', min=0, max=23,
          why=_LINK),
    Param('hfov', HFOV, 'Horizontal field of view of the camera', min=0.1, max=3.0,
          unit='rad', live=True),
    Param('vfov', VFOV, 'Vertical field of view of the camera', min=0.1, max=3.0, unit='rad',
          live=True),
    Param('max_target_age_s', 0.5, 'Targets older than this (capture to now) are ignored; no '
          'face for this long means the face is lost', min=0.01, max=10.0, unit='s',
          live=True),
    Param('max_target_lead_s', 1.0, "Targets stamped more than this ahead of the servo's "
          'clock are refused; the newest target stamp this far ahead means the clock was '
          'stepped back (ordering restarts)', min=0.01, max=60.0, unit='s', live=True),
    Param('lost_hold_s', 1.5, 'After losing the face, hold still until this long after the '
          'last sighting, then return home', min=0.0, max=600.0, unit='s', live=True),
    Param('latency_compensation', True, "Correct each target by the head's move since its "
          'image was captured (keeps high gains stable despite pipeline delay)', live=True),
    Param('home_speed', 0.3, 'Speed of the return home', min=0.01, max=10.0, unit='rad/s',
          live=True),
    Param('tick_rate_hz', 20.0, 'Rate of the timer that handles lost targets, replies and '
          'reconnects', min=1.0, max=200.0, unit='Hz', why='the timer is created at start'),
    Param('write_timeout_s', 0.05, 'Longest a serial write may block', min=0.001, max=2.0,
          unit='s', why='the port is opened at start'),
    Param('reply_timeout_s', 1.0, 'A request unanswered this long means the controller is '
          'unresponsive: the port is closed and reopened', min=0.05, max=60.0, unit='s',
          why=_LINK),
    Param('handshake_timeout_s', 3.0, 'Time a newly opened controller has to answer the '
          'handshake (Arduinos reset on open)', min=0.05, max=60.0, unit='s', why=_LINK),
    Param('keepalive_s', 1.0, 'Handshake sent this often when nothing else asks for a '
          'reply (the Maestro never acknowledges moves)', min=0.05, max=60.0, unit='s',
          why=_LINK),
    Param('slow_reply_warn_s', 0.25, 'Controller replies slower than this (over the last 5 s) '
          'are WARN', min=0.001, max=60.0, unit='s', live=True),
    Param('max_garbage', 5, 'Garbage replies within 2 s, with no valid reply, after which '
          'the port is reopened (wrong baud rate?)', min=1, max=10000, why=_LINK),
    Param('reconnect_backoff_s', 0.5, 'First wait before reopening the port', min=0.01,
          max=60.0, unit='s', why=_LINK),
    Param('reconnect_backoff_max_s', 5.0, 'Longest wait between reopen attempts', min=0.01,
          max=600.0, unit='s', why=_LINK),
) + _axis_params('pan', 1.3) + _axis_params('tilt', 0.7) + COMMON

#: Rules between the servo's parameters, checked at start and for every change.
RULES = (
    at_least('handshake_timeout_s', 'reply_timeout_s',
             why='the handshake is a request that must be answered in time too'),
    at_least('reconnect_backoff_max_s', 'reconnect_backoff_s'),
    differ('maestro.pan_channel', 'maestro.tilt_channel'),
) + _axis_rules('pan') + _axis_rules('tilt')


def _gains(p, axis: str) -> AxisGains:
    return AxisGains(kp=p[f'{axis}.kp'], ki=p[f'{axis}.ki'], kd=p[f'{axis}.kd'],
                     deadband=p[f'{axis}.deadband'],
                     integral_limit=p[f'{axis}.integral_limit'],
                     max_velocity=p[f'{axis}.max_velocity'], min_angle=p[f'{axis}.min_angle'],
                     max_angle=p[f'{axis}.max_angle'], home=p[f'{axis}.home'])


def _calibration(p, axis: str) -> AxisCalibration:
    return AxisCalibration(center_us=p[f'{axis}.center_us'], us_per_rad=p[f'{axis}.us_per_rad'],
                           min_us=p[f'{axis}.min_us'], max_us=p[f'{axis}.max_us'],
                           invert=p[f'{axis}.invert'])


class ServoNode(Node):
    """Closes the loop from face targets to serial servo commands."""

    def __init__(self, **kwargs):
        """Declare and check parameters, then connect (or keep trying) to the controller."""
        super().__init__('servo', **kwargs)
        self._started = time.monotonic()
        self.params = p = declare(self, PARAMS, RULES, apply=self._apply_params)
        if not p['port']:
            raise ParameterError("parameter 'port' is required (e.g. /dev/ttyUSB0, "
                                 '/dev/serial/by-id/...)')
        try:
            self.pan_cal = _calibration(p, 'pan')
            self.tilt_cal = _calibration(p, 'tilt')
            self.pan_cal.validate('pan')
            self.tilt_cal.validate('tilt')
            self.controller = PanTiltController(
                TrackerConfig(hfov=p['hfov'], vfov=p['vfov'],
                              max_target_age=p['max_target_age_s'], lost_hold=p['lost_hold_s'],
                              home_speed=p['home_speed'],
                              latency_compensation=p['latency_compensation'],
                              max_lead=p['max_target_lead_s']),
                _gains(p, 'pan'), _gains(p, 'tilt'))
            self.protocol = make_protocol(p['protocol'], pan_channel=p['maestro.pan_channel'],
                                          tilt_channel=p['maestro.tilt_channel'],
                                          pan_center_us=self.pan_cal.angle_to_us(
                                              p['pan.home']),
                                          tilt_center_us=self.tilt_cal.angle_to_us(
                                              p['tilt.home']))
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        home_us = (self.pan_cal.angle_to_us(p['pan.home']),
                   self.tilt_cal.angle_to_us(p['tilt.home']))
        self.home_us = home_us
        self.conn = ServoConnection(
            SerialLink(p['port'], baudrate=p['baudrate'], write_timeout_s=p['write_timeout_s']),
            self.protocol,
            Backoff(initial_s=p['reconnect_backoff_s'], max_s=p['reconnect_backoff_max_s']),
            reply_timeout_s=p['reply_timeout_s'], handshake_timeout_s=p['handshake_timeout_s'],
            keepalive_s=p['keepalive_s'], max_garbage=p['max_garbage'], initial_us=home_us)
        self.targets_received = 0
        self.targets_while_disconnected = 0
        # Refusals the controller does not count itself, and when each reason was last
        # logged (count then) and last seen.
        self.targets_malformed = 0
        self.targets_bad_stamp = 0
        self._refusal_logged = {}
        self._refusal_seen = {}  # reason -> the times of its latest refusals
        self._clock_steps_logged = 0
        self._sent_since_tick = False
        self._last_command_time = None
        self._last_target_age = None
        self.health = NodeHealth(self, hardware_id=p['port'])
        self.health.add('servo', self._report)
        self._joint_pub = self.create_publisher(JointState, 'joint_states', qos.STREAM_PUB)
        self._latency_pub = self.create_publisher(TimeReference, 'servo/command_latency',
                                                  qos.TRACE_PUB)
        # Taken serialized and read without building a message object (image_wire).
        self.create_subscription(PointStamped, 'face/target', self._on_target,
                                 qos.EVERY_TARGET, raw=True)
        self.create_timer(1.0 / p['tick_rate_hz'], self._on_tick)
        self.conn.poll(time.monotonic())
        self._log_events()
        self.get_logger().info(f"servo started: port '{p['port']}', protocol "
                               f"'{p['protocol']}'")

    def _apply_params(self, changed) -> None:
        # Live tuning: the values are checked (alone and by RULES) and stored in self.params.
        p = self.params
        ctl = self.controller
        ctl.config = dataclasses.replace(
            ctl.config, hfov=p['hfov'], vfov=p['vfov'], max_target_age=p['max_target_age_s'],
            lost_hold=p['lost_hold_s'], home_speed=p['home_speed'],
            latency_compensation=p['latency_compensation'], max_lead=p['max_target_lead_s'])
        ctl.pan.gains = _gains(p, 'pan')
        ctl.tilt.gains = _gains(p, 'tilt')
        self.pan_cal = _calibration(p, 'pan')
        self.tilt_cal = _calibration(p, 'tilt')
        self.home_us = (self.pan_cal.angle_to_us(p['pan.home']),
                        self.tilt_cal.angle_to_us(p['tilt.home']))
        if hasattr(self.protocol, 'pan_center_us'):  # the Maestro's home command
            self.protocol.pan_center_us, self.protocol.tilt_center_us = self.home_us

    def _now(self) -> float:
        # ROS time in seconds.  Without simulated time that is the system clock, read
        # directly: building an rclpy Time costs about 0.06 ms more when the node wakes for
        # a target (measured here), on the way from detection to the servo command.
        clock = self.get_clock()
        if clock.ros_time_is_active:
            return clock.now().nanoseconds * 1e-9
        return time.time()

    def _log_events(self) -> None:
        # ServoConnection throttles repeated events itself: log every one.
        for level, message in self.conn.drain_events():
            log_at(self.get_logger(), level, message)

    def _on_target(self, data: bytes) -> None:
        self.targets_received += 1
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
            self.targets_malformed += 1
            self._refused('malformed', problem)
            return
        problem = stamp_problem(sec, nanosec)
        if problem is not None:
            self.targets_bad_stamp += 1
            self._refused('bad_stamp', problem)
            return
        stamp = sec + nanosec * 1e-9
        now = self._now()
        self._last_target_age = now - stamp
        why = self.controller.refusal(stamp, now)
        self._log_clock_step()
        if why is not None:
            self.controller.refused[why] += 1
            self._refused(why, f'stamp {sec}.{nanosec:09d}, clock {now:.3f}')
            return
        if not self.conn.is_connected:
            # The head cannot move: do not let the control law integrate an error that
            # no command can reduce; it resumes from where the head is on reconnect.
            self.targets_while_disconnected += 1
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
        now = time.monotonic()
        self._refusal_seen.setdefault(why, collections.deque(maxlen=STALE_WARN_COUNT)).append(now)
        total = self._refusal_count(why)
        last = self._refusal_logged.get(why)
        if last is not None and now - last[0] < REFUSAL_LOG_S:
            return
        since = f' ({total - last[1]} since the last report)' if last is not None else ''
        self._refusal_logged[why] = (now, total)
        self.get_logger().warning(f'target refused: {_REFUSAL_TEXT[why]}: {detail}; '
                                  f'{total} refused so far{since}')

    def _refusal_count(self, why: str) -> int:
        if why == 'malformed':
            return self.targets_malformed
        if why == 'bad_stamp':
            return self.targets_bad_stamp
        return self.controller.refused[why]

    def _log_clock_step(self) -> None:
        ctl = self.controller
        if ctl.clock_steps != self._clock_steps_logged:
            self._clock_steps_logged = ctl.clock_steps
            self.get_logger().warning(
                f'the clock went back by {ctl.last_clock_step:.3f} s (stepped by NTP?): '
                'target ordering and timing restarted; tracking goes on with the next frame')

    def _on_tick(self) -> None:
        self.conn.poll(time.monotonic())
        command = self.controller.tick(self._now())
        self._log_clock_step()
        if command is not None:
            self._send(command, None)
        self._log_events()
        if not self._sent_since_tick:
            self._publish_joints()
        self._sent_since_tick = False

    def _write_command(self, pan: float, tilt: float) -> bool:
        now = time.monotonic()
        if self.conn.send_move(self.pan_cal.angle_to_us(pan), self.tilt_cal.angle_to_us(tilt),
                               now):
            self._last_command_time = now
            return True
        return False

    def _send(self, command, capture_stamp) -> None:
        pan, tilt = command
        if not self._write_command(pan, tilt):
            return
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

    def _report(self):
        ctl = self.controller
        pan, tilt = ctl.command
        saturated = [axis for axis, c in (('pan', ctl.pan), ('tilt', ctl.tilt)) if c.saturated]
        age = None if self._last_command_time is None else \
            time.monotonic() - self._last_command_time
        link = self.conn.stats(time.monotonic())
        figures = {
            'port': self.params['port'], 'protocol': self.params['protocol'],
            'connected': link['connected'], 'link_state': link['state'],
            'reconnects': link['reconnects'],
            'write_errors_total': link['write_errors_total'],
            'read_errors_total': link['read_errors_total'],
            'commands_sent': link['commands_sent'], 'commands_dropped': link['commands_dropped'],
            'replies_ok': link['replies_ok'], 'error_replies': link['error_replies'],
            'recent_error_replies': link['recent_error_replies'],
            'resends': link['resends'], 'resends_skipped': link['resends_skipped'],
            'garbage_replies': link['garbage_replies'],
            'invalid_replies': link['invalid_replies'],
            'last_reply_age_s': link['last_reply_age_s'],
            'reply_delay_ms_max': link['reply_delay_ms_max'],
            'last_command_age_s': age, 'target_age_s': self._last_target_age,
            'stale_targets': ctl.stale_targets,
            'targets_received': self.targets_received,
            'targets_malformed': self.targets_malformed,
            'targets_bad_stamp': self.targets_bad_stamp,
            'targets_future': ctl.refused['future'],
            'targets_out_of_order': ctl.refused['out_of_order'],
            'clock_steps_back': ctl.clock_steps,
            'targets_while_disconnected': self.targets_while_disconnected,
            'pan_rad': pan, 'tilt_rad': tilt,
            'saturated': ','.join(saturated) if saturated else 'none',
            'state': ctl.state,
        }
        if link['state'] != 'connected':
            reason = link['last_disconnect_reason'] or link['last_error'] or 'not opened yet'
            text = f"{link['state']}: {self.params['port']}: {reason}"
            if link['connects_total'] == 0 and \
                    time.monotonic() - self._started < STARTUP_GRACE_S:
                # Started together with the controller (or its simulation, or a USB adapter
                # still enumerating): a port that is not there yet is not a fault yet.
                return WARN, 'starting, ' + text, figures
            return ERROR, text, figures
        delay = link['reply_delay_ms_max']
        if delay is not None and delay > self.params['slow_reply_warn_s'] * 1000.0:
            return WARN, f'{ctl.state}, slow controller: replies up to {delay:.0f} ms', figures
        if link['recent_error_replies']:
            return WARN, (f"{ctl.state}, controller errors: {link['recent_error_replies']} "
                          f'in the last {ERROR_WINDOW_S:.0f} s'), figures
        refusing = self._refusing()
        if refusing:
            return WARN, f"{ctl.state}, refusing targets: {'; '.join(refusing)}", figures
        if saturated:
            return WARN, f"{ctl.state}, {' and '.join(saturated)} at the travel limit", figures
        return OK, ctl.state.replace('_', ' '), figures

    def _refusing(self):
        """Describe the refusals (other than ordering) seen within REFUSAL_WARN_S."""
        now = time.monotonic()
        return [f'{_REFUSAL_TEXT[why]} ({self._refusal_count(why)} in all)'
                for why, seen in self._refusal_seen.items()
                if why != 'out_of_order' and now - seen[-1] < REFUSAL_WARN_S
                and (why != 'stale' or (len(seen) == STALE_WARN_COUNT
                                        and now - seen[0] < REFUSAL_WARN_S))]

    def shutdown(self) -> None:
        """Park the head at home and close the port."""
        self.conn.park(*self.home_us)
        self.conn.close()
        self._log_events()


def main(args=None):
    """Run the servo node."""
    main_for(ServoNode, 'servo')


if __name__ == '__main__':
    main()
