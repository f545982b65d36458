# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The servo's status (level, message, figures) and its bookkeeping of refused targets.

ROS-free, with an injected clock (a monotonic wall clock in the node).

Targets the servo cannot trust are refused, each reason counted in the status and
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
"""

import collections
import time
from typing import Callable, Deque, Dict, List, Optional, Tuple

from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.servo.connection import ServoConnection
from face_tracker_ros.servo.control import PanTiltController
from face_tracker_ros.servo.params import ServoConfig
from face_tracker_ros.servo.replies import ERROR_WINDOW_S

#: Each reason for refusing targets is logged at most this often (seconds), with a count.
REFUSAL_LOG_S = 5.0

#: Targets refused (for anything but their order) within this many seconds make the status WARN;
#: stale ones only when there are STALE_WARN_COUNT of them (one late frame at start-up is not).
REFUSAL_WARN_S = 5.0
STALE_WARN_COUNT = 3

#: What each refusal reason means in the log and the status.
REFUSAL_TEXT = {
    'malformed': 'not a target',
    'bad_stamp': 'stamp is not a time',
    'future': 'stamped in the future (a clock ahead, or a bad stamp)',
    'stale': 'older than max_target_age_s (late pipeline, or a clock behind)',
    'out_of_order': 'stamped at or before the newest target',
}

Clock = Callable[[], float]

#: A status: (level, message, figures).
Report = Tuple[int, str, Dict[str, object]]


class TargetRefusals:
    """Counts refused targets by reason, throttles their log lines, tells which make a WARN.

    ``malformed`` and ``bad_stamp`` are counted here; the reasons of
    :data:`~face_tracker_ros.servo.control.REFUSALS` in the controller's ``refused``.
    """

    def __init__(self, controller: PanTiltController, clock: Clock = time.monotonic) -> None:
        """Count into ``controller.refused``; ``clock`` gives seconds."""
        self._controller = controller
        self._clock = clock
        self.malformed = 0
        self.bad_stamp = 0
        self._logged: Dict[str, Tuple[float, int]] = {}  # reason -> (time, count) logged
        self._seen: Dict[str, Deque[float]] = {}  # reason -> the times of its latest refusals

    def count(self, why: str) -> int:
        """Return the targets refused for ``why`` so far."""
        if why == 'malformed':
            return self.malformed
        if why == 'bad_stamp':
            return self.bad_stamp
        return self._controller.refused[why]

    def refuse(self, why: str, detail: str) -> Optional[str]:
        """Count a target refused for ``why``; return the WARN line to log (None: throttled)."""
        if why == 'malformed':
            self.malformed += 1
        elif why == 'bad_stamp':
            self.bad_stamp += 1
        else:
            self._controller.refused[why] += 1
        now = self._clock()
        self._seen.setdefault(why, collections.deque(maxlen=STALE_WARN_COUNT)).append(now)
        total = self.count(why)
        last = self._logged.get(why)
        if last is not None and now - last[0] < REFUSAL_LOG_S:
            return None
        since = f' ({total - last[1]} since the last report)' if last is not None else ''
        self._logged[why] = (now, total)
        return f'target refused: {REFUSAL_TEXT[why]}: {detail}; {total} refused so far{since}'

    def refusing(self) -> List[str]:
        """Describe the refusals (other than ordering) seen within REFUSAL_WARN_S."""
        now = self._clock()
        return [f'{REFUSAL_TEXT[why]} ({self.count(why)} in all)'
                for why, seen in self._seen.items()
                if why != 'out_of_order' and now - seen[-1] < REFUSAL_WARN_S
                and (why != 'stale' or (len(seen) == STALE_WARN_COUNT
                                        and now - seen[0] < REFUSAL_WARN_S))]


class ServoStatus:
    """The ``servo`` status task: the connection, the targets, the tracker, as one report.

    It reports the port, the protocol and ``slow_reply_warn_s`` of
    :attr:`config`, the node's :class:`~face_tracker_ros.servo.params.ServoConfig`.
    The owner counts into :attr:`targets_received` and
    :attr:`targets_while_disconnected`, sets :attr:`last_command_time` (on
    ``clock``) and :attr:`last_target_age` (seconds), and sets :attr:`config`
    again after a live change.
    """

    def __init__(self, controller: PanTiltController, connection: ServoConnection,
                 config: ServoConfig, *, startup_grace_s: float,
                 clock: Clock = time.monotonic, started: Optional[float] = None) -> None:
        """Report on ``controller`` and ``connection``; ``started`` defaults to now."""
        self.controller = controller
        self.connection = connection
        self.config = config
        self.startup_grace_s = startup_grace_s
        self._clock = clock
        self.started = clock() if started is None else started
        self.refusals = TargetRefusals(controller, clock)
        self.targets_received = 0
        self.targets_while_disconnected = 0
        self.last_command_time: Optional[float] = None
        self.last_target_age: Optional[float] = None
        self._clock_steps_logged = 0

    def clock_step_message(self) -> Optional[str]:
        """Return the WARN line for a backward clock step not reported yet, else None."""
        ctl = self.controller
        if ctl.clock_steps == self._clock_steps_logged:
            return None
        self._clock_steps_logged = ctl.clock_steps
        return (f'the clock went back by {ctl.last_clock_step:.3f} s (stepped by NTP?): '
                'target ordering and timing restarted; tracking goes on with the next frame')

    def report(self) -> Report:
        """Return (level, message, figures)."""
        ctl = self.controller
        refusals = self.refusals
        pan, tilt = ctl.command
        saturated = [axis for axis, c in (('pan', ctl.pan), ('tilt', ctl.tilt)) if c.saturated]
        age = None if self.last_command_time is None else \
            self._clock() - self.last_command_time
        config = self.config
        link = self.connection.stats(self._clock())
        figures = {
            'port': config.link.port, 'protocol': config.protocol.name,
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
            'last_command_age_s': age, 'target_age_s': self.last_target_age,
            'stale_targets': ctl.stale_targets,
            'targets_received': self.targets_received,
            'targets_malformed': refusals.malformed,
            'targets_bad_stamp': refusals.bad_stamp,
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
            text = f"{link['state']}: {config.link.port}: {reason}"
            if link['connects_total'] == 0 and \
                    self._clock() - self.started < self.startup_grace_s:
                # Started together with the controller (or its simulation, or a USB adapter
                # still enumerating): a port that is not there yet is not a fault yet.
                return WARN, 'starting, ' + text, figures
            return ERROR, text, figures
        delay = link['reply_delay_ms_max']
        if delay is not None and delay > config.slow_reply_warn_s * 1000.0:
            return WARN, f'{ctl.state}, slow controller: replies up to {delay:.0f} ms', figures
        if link['recent_error_replies']:
            return WARN, (f"{ctl.state}, controller errors: {link['recent_error_replies']} "
                          f'in the last {ERROR_WINDOW_S:.0f} s'), figures
        refusing = refusals.refusing()
        if refusing:
            return WARN, f"{ctl.state}, refusing targets: {'; '.join(refusing)}", figures
        if saturated:
            return WARN, f"{ctl.state}, {' and '.join(saturated)} at the travel limit", figures
        return OK, ctl.state.replace('_', ' '), figures
