# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node: system and per-process resources, the camera device, the log file.

Publishes on ``/diagnostics`` (through diagnostic_updater or its built-in
equivalent), every ``diagnostic_updater.period`` seconds:

* ``diagnostics: system``: CPU (total, per core, sustained), load, memory,
  swap, free disk where the log lives, CPU temperature where exposed;
* ``diagnostics: process <node>`` for every tracker node: ``rss_mb``,
  ``anon_mb`` (its anonymous part: heap and stacks), their growth
  ``rss_growth_mb_per_h`` and ``anon_growth_mb_per_h`` (least-squares slopes
  over ``growth_window_s``, shown once the samples span
  ``growth_min_span_s``; a leak is judged on the anonymous memory's, or on
  RSS's where the platform does not tell the anonymous part), ``cpu_percent``,
  ``num_threads``, ``num_fds``, ``state`` (a zombie is an ERROR), ``uptime_s``,
  ``restarts`` (new processes of the node seen), ``pid`` (the node's);
* ``diagnostics: camera device``: whether the camera node's device exists and
  is accessible (or that the source is a file or the simulation), and the
  measured frame rate on ``camera/camera_info`` (one small message per frame:
  the 900 KB images themselves are not taken);
* ``diagnostics: log file``: the rotating log file it writes;
* ``diagnostics: watchdog <node>``: the watchdog's view of each node.

The watchdog (the original tracker's monitor.sh) ends a node whose process is
alive but hung (no status heartbeat, or no message on its output topic, for
``watchdog.stale_timeout_s``) or bloated (RSS above ``rss_error_mb``) with
SIGTERM, then SIGKILL after ``watchdog.kill_grace_s``, so that launch's
respawn (or the standalone runner) starts it again; at most
``watchdog.max_restarts_per_hour`` times per node, then it stays in ERROR.
``watchdog.enabled: false`` makes it report only.

Processes are found through the ``pid`` in each node's own statuses and, as a
fallback, through ``__node:=<name>`` in process command lines (how launch and
the standalone runner start every node), among the processes of this run only
(:class:`~face_tracker_ros.monitor.resources.RunScope`: the run id in their
environment, this node's namespace); statuses of a process outside the run
(another tracker's node of the same name: ``/diagnostics`` is global) are
ignored.

It also writes everything every node logs (all of ``/rosout``) into one
rotating file, ``<log_dir>/face_tracker.log`` (10 MB x 5 generations by
default).  Lines the file system refuses (a full disk) are held back and
written late with a note, or counted lost (``diagnostics: log file`` is ERROR
meanwhile, WARN for :data:`LOG_RECOVERED_WARN_S` after); records ``/rosout``
replays to a restarted writer are not written twice; after a stretch of more
than :data:`ROSOUT_KEEP_S` in which this node did not run (stopped, starved),
longer than ``/rosout`` keeps lines for a late reader, the lines of that time
are read back from this run's processes' own ROS log files (rcl's
``<exe>_<pid>_<ms>.log``) and written once, and the log says how many.
Every ``resource_log_period_s`` it writes one grep-able
``resource monitor:`` line per process into the log, so
``grep 'resource monitor' face_tracker.log | grep -o 'rss_mb=[0-9.]*'`` shows
each node's memory over time.
"""

import math
import os
from pathlib import Path
import re
import socket
import time
from typing import Dict, Optional

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import Log
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, JointState

from face_tracker_ros.common import qos
from face_tracker_ros.common.health import (
    ERROR,
    NodeHealth,
    OK,
    STARTUP_GRACE_S,
    WARN,
)
from face_tracker_ros.common.params import declare
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.common.stats import RateMeter, WindowStats
from face_tracker_ros.monitor.levels import Band, worst
from face_tracker_ros.monitor.logfile import LogFileWriter, read_node_log
from face_tracker_ros.monitor.params import INF, LOG_LEVELS, PARAMS, RULES
from face_tracker_ros.monitor.resources import (
    process_summary_line,
    ProcessWatcher,
    RunScope,
    sample_system,
)
from face_tracker_ros.monitor.trend import LeakTrend
from face_tracker_ros.monitor.watchdog import default_specs, Watchdog, WatchSpec


def _bands(p) -> Dict[str, Band]:
    """Return the warn/error bands of the figures judged, from the parameters."""
    return {
        'rss_mb': Band('rss_mb', p['rss_warn_mb'], p['rss_error_mb'], unit='MB'),
        'growth': Band('anon_growth_mb_per_h', p['growth_warn_mb_per_h'], INF, unit='MB/h'),
        'rss_growth': Band('rss_growth_mb_per_h', p['growth_warn_mb_per_h'], INF,
                           unit='MB/h'),
        'fds': Band('num_fds', p['fds_warn'], p['fds_error']),
        'cpu': Band('cpu_percent', p['cpu_warn_percent'], p['cpu_error_percent'], unit='%'),
        'mem': Band('mem_used_percent', p['mem_warn_percent'], p['mem_error_percent'],
                    unit='%'),
        'disk': Band('disk_free_percent', p['disk_warn_free_percent'],
                     p['disk_error_free_percent'], higher_is_worse=False, unit='%'),
        'temp': Band('cpu_temp_c', p['temp_warn_c'], p['temp_error_c'], unit='degC'),
    }


#: The camera reconnects by itself (and exits after max_recovery_s), so the watchdog
#: judges it by its status heartbeat only; its images still excuse a silent detector.
HEARTBEAT_ONLY = ('camera',)


#: A gap this long between two watchdog checks (1 s apart) means the diagnostics node itself
#: was not running (stopped, or starved of CPU): that time is unknown, not silence.
STALL_GAP_S = 3.0

#: How long publishers keep /rosout lines for a subscriber that reads late (rcl's rosout
#: QoS: transient local, lifespan 10 s); a writer away longer may miss lines.
ROSOUT_KEEP_S = 10.0

#: After the log file took lines again, its status stays WARN this long (seconds).
LOG_RECOVERED_WARN_S = 60.0

#: Less free space than this where the log file is written is ERROR before a write fails.
LOG_FREE_ERROR_BYTES = 256 * 1024

#: The name of a process's own ROS log file: ``<executable>_<pid>_<milliseconds>.log``.
NODE_LOG_NAME = re.compile(r'^.+_(\d+)_\d+\.log$')

#: Nodes whose output is judged from a counter in their own status rather than by
#: subscribing to their output topic.  The detector's ``face/target`` is the hop between
#: detection and the servo command: every subscriber adds to what each publish costs there
#: (about 0.1 ms per frame each, measured), and ``frames_processed`` counts exactly those
#: messages.  The camera's output is watched on its small ``camera/camera_info``.
PROGRESS_FIGURES = {'detector': 'frames_processed'}


class DiagnosticsNode(Node):
    """Watches resources and processes, publishes them, and keeps the log file."""

    def __init__(self, **kwargs):
        """Declare parameters, open the log file and start sampling."""
        super().__init__('diagnostics', **kwargs)
        self.params = p = declare(self, PARAMS, RULES, apply=self._apply_params)
        self.log_dir = Path(p['log_dir']).expanduser() if p['log_dir'] else default_log_dir()
        self.log_path = self.log_dir / p['log_file']
        self.writer: Optional[LogFileWriter] = None
        self.writer_error = ''
        try:
            self.writer = LogFileWriter(str(self.log_path),
                                        max_bytes=int(p['log_max_mb'] * 1024 * 1024),
                                        backups=p['log_backups'],
                                        min_level=LOG_LEVELS[p['log_min_level']])
        except OSError as exc:
            self.writer_error = str(exc)
            self.get_logger().error(f'cannot write the log file {self.log_path}: {exc}')
        self._started = time.monotonic()
        self.bands = _bands(p)
        # Only the processes of this launch or standalone run, in this namespace: never a
        # look-alike of a second tracker or of an unrelated program.
        self.scope = RunScope(namespace=self.get_namespace())
        # Loggers of nodes in namespace /left are named left.<node>; in the root namespace
        # every line is taken.
        self._log_prefix = self.scope.namespace.strip('/').replace('/', '.') + '.' \
            if self.scope.namespace != '/' else ''
        self.watchers: Dict[str, ProcessWatcher] = {
            name: ProcessWatcher(name, trend=LeakTrend(window_s=p['growth_window_s'],
                                                       min_span_s=p['growth_min_span_s']),
                                 anon_trend=LeakTrend(window_s=p['growth_window_s'],
                                                      min_span_s=p['growth_min_span_s']),
                                 scope=self.scope)
            for name in p['watched_nodes']}
        self.samples = {}
        self.system = None
        self._cpu = WindowStats(window_s=p['cpu_sustain_s'])
        self._node_status: Dict[str, dict] = {}
        self._levels: Dict[str, int] = {}
        self._frame_rate = RateMeter(window_s=5.0)
        check_period = min(1.0, p['sample_period_s'])
        specs = [WatchSpec(spec.name, '', spec.upstream) if spec.name in HEARTBEAT_ONLY
                 else spec for spec in default_specs(p['watched_nodes'])]
        self.watchdog = Watchdog(
            specs, stale_timeout_s=p['watchdog.stale_timeout_s'],
            startup_grace_s=p['watchdog.startup_grace_s'],
            kill_grace_s=p['watchdog.kill_grace_s'],
            max_restarts_per_hour=p['watchdog.max_restarts_per_hour'],
            rss_limit_mb=p['rss_error_mb'], enabled=p['watchdog.enabled'],
            owned=self.scope.owns, stall_gap_s=max(STALL_GAP_S, 3.0 * check_period))
        outputs = {'servo': 'joint_states', 'sim_servo': 'sim/joint_states'}
        self._progress: Dict[str, int] = {}
        for name, topic in outputs.items():
            if name in self.watchers:
                self.create_subscription(JointState, topic,
                                         lambda _m, n=name: self.watchdog.output(n),
                                         qos.LATEST_ONLY, raw=True)

        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 50)
        self.create_subscription(CameraInfo, p['camera_info_topic'], self._on_camera_info,
                                 qos.LATEST_ONLY, raw=True)
        rosout_qos = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                                durability=DurabilityPolicy.TRANSIENT_LOCAL,
                                history=HistoryPolicy.KEEP_LAST)
        self.create_subscription(Log, '/rosout', self._on_log, rosout_qos)

        self.health = NodeHealth(self, hardware_id=socket.gethostname())
        self.health.add('system', self._report_system)
        for name in self.watchers:
            self.health.add(f'process {name}', lambda name=name: self._report_process(name))
        for name in self.watchers:
            self.health.add(f'watchdog {name}',
                            lambda name=name: self.watchdog.report(name))
        self.health.add('camera device', self._report_camera_device)
        self.health.add('log file', self._report_log_file)

        self._sample()
        self.create_timer(p['sample_period_s'], self._sample)
        self.create_timer(p['resource_log_period_s'], self._log_resources)
        self.create_timer(check_period, self._check_watchdog)
        self.writer_gaps = 0
        self._run_pids = set()  # every pid seen in a status of this run's nodes
        self._writer_alive = time.monotonic()
        self.create_timer(1.0, self._watch_writer)
        self.get_logger().info(f"diagnostics started: watching {', '.join(self.watchers)} "
                               f'({self.scope.describe()}); log file {self.log_path}')
        self._log_resources()
        if self.writer is not None and self.writer.tail_newest > 0.0:
            self.get_logger().info(
                f'log file: continuing {self.log_path} after its line of '
                f'{_utc(self.writer.tail_newest)}; lines /rosout replays that are already '
                'in it are skipped')

    def _watch_writer(self) -> None:
        # The monotonic clock runs on while this process is stopped or starved: a long gap
        # between two ticks is time in which /rosout lines may have expired unread.
        now = time.monotonic()
        gap = now - self._writer_alive
        self._writer_alive = now
        if gap > ROSOUT_KEEP_S and self.writer is not None:
            self.writer_gaps += 1
            wall = time.time()
            # The lines /rosout no longer has, with a margin (duplicates are skipped).
            start, end = wall - gap - 1.0, wall - ROSOUT_KEEP_S + 0.5
            directory, files, recovered = self._recover_lines(start, end)
            self.get_logger().warning(
                f'log file: this node did not run for {gap:.1f} s (stopped or starved); '
                f'/rosout keeps lines only {ROSOUT_KEEP_S:.0f} s for a late reader: '
                f'{recovered} lines of {_utc(start)} to {_utc(end)} were read back from '
                f'{files} node log file(s) in {directory}; lines of a process that wrote '
                'none there may be missing')

    def _recover_lines(self, start: float, end: float):
        """Write the lines of this run's nodes stamped in [start, end] from their own log files.

        Returns the directory, the files read and the lines written.
        """
        directory = _ros_log_dir()
        try:
            names = os.listdir(directory)
        except OSError:
            return directory, 0, 0
        records, files = [], 0
        for name in names:
            match = NODE_LOG_NAME.match(name)
            path = os.path.join(directory, name)
            try:
                if match is None or os.path.getmtime(path) < start:
                    continue
            except OSError:
                continue
            pid = int(match.group(1))
            if pid != os.getpid() and pid not in self._run_pids and not self.scope.owns(pid):
                continue  # another run's (or another tracker's) process
            files += 1
            records += [r for r in read_node_log(path, start, end)
                        if not self._log_prefix or r[2].startswith(self._log_prefix)]
        return directory, files, self.writer.recover(records, start, end)

    def _apply_params(self, changed) -> None:
        # Live tuning of the thresholds and the log file's level (checked, in self.params).
        p = self.params
        self.bands = _bands(p)
        self.watchdog.rss_limit_mb = p['rss_error_mb']
        if self.writer is not None:
            self.writer.min_level = LOG_LEVELS[p['log_min_level']]

    # ----------------------------------------------------------------- inputs
    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            node, _, _ = status.name.partition(': ')
            if node not in self.watchers:
                continue
            values = {kv.key: kv.value for kv in status.values}
            pid = values.get('pid', '')
            if not pid.isdigit() or not self._ours(node, int(pid)):
                continue  # a node of the same name in another tracker (/diagnostics is global)
            self._node_status[node] = values
            if status.message != 'Node starting up':
                self.watchdog.heartbeat(node)
            self.watchers[node].set_pid(int(pid))
            self._run_pids.add(int(pid))
            figure = PROGRESS_FIGURES.get(node)
            if figure is not None and values.get(figure, '').isdigit():
                count = int(values[figure])
                if count > self._progress.get(node, count):
                    self.watchdog.output(node)
                self._progress[node] = count  # a restart starts again from 0

    def _ours(self, node: str, pid: int) -> bool:
        """Return True if a status with this ``pid`` comes from a process of this run."""
        if pid == self.watchers[node].pid:
            return True  # already found in scope
        return self.scope.owns(pid)

    def _on_camera_info(self, _msg) -> None:
        self._frame_rate.tick()
        self.watchdog.output('camera')

    def _on_log(self, msg: Log) -> None:
        if self.writer is None:
            return
        if self._log_prefix and not msg.name.startswith(self._log_prefix):
            return  # /rosout is global: another tracker's lines belong in its own log file
        stamp = msg.stamp.sec + msg.stamp.nanosec * 1e-9
        try:
            self.writer.write(stamp, msg.level, msg.name, msg.msg, msg.file, msg.function,
                              msg.line)
        except OSError as exc:
            self.writer_error = str(exc)

    # --------------------------------------------------------------- sampling
    def _sample(self) -> None:
        self.system = sample_system(str(self.log_dir if self.log_dir.exists() else '/'))
        if not math.isnan(self.system.cpu_percent):
            self._cpu.add(self.system.cpu_percent)
        for name, watcher in self.watchers.items():
            watcher.find()
            sample = self.samples[name] = watcher.sample()
            if sample is None:
                self.watchdog.process(name, None)
            else:
                self.watchdog.process(name, sample.pid, rss_mb=sample.rss_mb,
                                      zombie=sample.zombie)

    def _check_watchdog(self) -> None:
        self.watchdog.check()
        for event in self.watchdog.drain_events():
            log_at(self.get_logger(), event.level, str(event))

    def _log_resources(self) -> None:
        for name, watcher in self.watchers.items():
            sample = self.samples.get(name)
            if sample is None:
                self.get_logger().warning(f'resource monitor: node={name} not running')
                continue
            status = self._node_status.get(name, {})
            extra = {key: status[key] for key in ('frames_total', 'read_errors_total',
                                                  'frames_processed', 'commands_sent',
                                                  'write_errors_total') if key in status}
            self.get_logger().info(process_summary_line(
                name, sample, watcher.trend.slope_mb_per_h(), extra,
                anon_slope=watcher.anon_trend.slope_mb_per_h()))
        s = self.system
        if s is not None:
            self.get_logger().info(
                f'resource monitor: system cpu_percent={s.cpu_percent:.1f} '
                f'load_1m={s.load_1m:.2f} mem_used_percent={s.mem_used_percent:.1f} '
                f'mem_available_mb={s.mem_available_mb:.0f} '
                f'swap_used_percent={s.swap_used_percent:.1f} '
                f'disk_free_mb={s.disk_free_mb:.0f}')

    def _note_level(self, task: str, level: int, message: str) -> None:
        """Log a warning when a status gets worse, an info line when it recovers."""
        previous = self._levels.get(task, OK)
        self._levels[task] = level
        if level > previous:
            log_at(self.get_logger(), level, f'{task}: {message}')
        elif level < previous and level == OK:
            self.get_logger().info(f'{task}: back to OK ({message})')

    # ---------------------------------------------------------------- reports
    def _report_system(self):
        s = self.system
        cpu = self._cpu.mean
        figures = {
            'cpu_percent': s.cpu_percent, 'cpu_percent_sustained': cpu,
            'cpu_percent_per_core': ' '.join(f'{c:.0f}' for c in s.cpu_percent_per_core),
            'load_1m': s.load_1m, 'load_5m': s.load_5m, 'load_15m': s.load_15m,
            'mem_used_percent': s.mem_used_percent, 'mem_available_mb': s.mem_available_mb,
            'swap_used_percent': s.swap_used_percent, 'disk_free_mb': s.disk_free_mb,
            'disk_free_percent': s.disk_free_percent, 'disk_path': str(self.log_dir),
            'cpu_temp_c': s.cpu_temp_c if s.cpu_temp_c is not None else 'not exposed',
        }
        if time.monotonic() - self._started < self.params['cpu_sustain_s']:
            cpu = None  # not sustained yet: start-up load is not an alarm
        checks = [(self.bands['cpu'], cpu), (self.bands['mem'], s.mem_used_percent),
                  (self.bands['disk'], s.disk_free_percent),
                  (self.bands['temp'], s.cpu_temp_c)]
        level = worst(band.level(value) for band, value in checks)
        if level == OK:
            message = (f'cpu {s.cpu_percent:.0f}%, mem {s.mem_used_percent:.0f}%, '
                       f'disk {s.disk_free_percent:.0f}% free, load {s.load_1m:.2f}')
        else:
            message = '; '.join(band.describe(value) for band, value in checks
                                if band.level(value) == level)
        self._note_level('system', level, message)
        return level, message, figures

    def _report_process(self, name: str):
        watcher = self.watchers[name]
        sample = self.samples.get(name)
        if sample is None:
            figures = {'restarts': watcher.restarts}
            if time.monotonic() - self._started < STARTUP_GRACE_S:
                return OK, 'waiting for the process', figures
            self._note_level(f'process {name}', ERROR, 'not running')
            return ERROR, 'not running', figures
        slope = watcher.trend.slope_mb_per_h()
        anon_slope = watcher.anon_trend.slope_mb_per_h()
        figures = {
            'pid': sample.pid, 'rss_mb': sample.rss_mb,
            'rss_growth_mb_per_h': slope if slope is not None else 'collecting',
            'anon_mb': sample.anon_mb,
            'anon_growth_mb_per_h': anon_slope if anon_slope is not None else 'collecting',
            'cpu_percent': sample.cpu_percent, 'num_threads': sample.num_threads,
            'num_fds': sample.num_fds, 'state': sample.state, 'uptime_s': sample.uptime_s,
            'restarts': watcher.restarts,
            'growth_span_s': watcher.trend.span_s,
        }
        if sample.zombie:
            level, message = ERROR, 'zombie process'
        else:
            # A leak is judged on the anonymous memory (what the process's own code
            # allocates); RSS also moves with file and shared-memory pages read.
            anon = math.isfinite(sample.anon_mb)
            growth, judged = (self.bands['growth'], anon_slope) if anon else \
                (self.bands['rss_growth'], slope)
            checks = [(self.bands['rss_mb'], sample.rss_mb), (growth, judged),
                      (self.bands['fds'], sample.num_fds)]
            level = worst(band.level(value) for band, value in checks)
            trend = f'{judged:+.1f} MB/h' if judged is not None else 'trend after ' \
                f'{self.params["growth_min_span_s"]:.0f} s'
            memory = f'rss {sample.rss_mb:.0f} MB, anon {sample.anon_mb:.0f} MB' if anon \
                else f'rss {sample.rss_mb:.0f} MB'
            message = f'{memory}, {trend}'
            if level != OK:
                message += '; ' + '; '.join(band.describe(value) for band, value in checks
                                            if band.level(value) == level)
        self._note_level(f'process {name}', level, message)
        return level, message, figures

    def _report_camera_device(self):
        rate = self._frame_rate.rate()
        status = self._node_status.get('camera')
        topic = self.params['camera_info_topic']
        figures = {'camera_info_topic': topic, 'frame_rate_hz': rate}
        warming_up = time.monotonic() - self._started < STARTUP_GRACE_S
        if status is None:
            if 'camera' not in self.watchers:
                return OK, 'no camera node in this bring-up', figures
            if warming_up:
                return OK, 'waiting for the camera node', figures
            return WARN, 'no status from the camera node', figures
        source, device = status.get('source', ''), status.get('device', '')
        figures.update({'source': source, 'device': device})
        level, message = OK, ''
        if source == 'v4l2':
            resolved = os.path.realpath(device) if device.startswith('/') else device
            figures['resolved'] = resolved
            exists = not device.startswith('/') or os.path.exists(device)
            figures['exists'] = exists
            if not exists:
                level, message = ERROR, f'{device} does not exist (unplugged?)'
            elif device.startswith('/') and not os.access(device, os.R_OK | os.W_OK):
                level, message = ERROR, f'{device} is not accessible (video group?)'
            else:
                message = f'{device} present'
        elif source == 'file':
            exists = os.path.isfile(device)
            figures['exists'] = exists
            level, message = (OK, f'video file {device}') if exists else \
                (ERROR, f'video file {device} is missing')
        else:
            message = 'simulated camera'
        if level == OK and rate <= 0.0 and not warming_up:
            level, message = WARN, f'{message}; no frames on {topic}'
        elif level == OK:
            message = f'{message}, {rate:.1f} Hz on {topic}'
        self._note_level('camera device', level, message)
        return level, message, figures

    def _report_log_file(self):
        figures = {'path': str(self.log_path)}
        if self.writer is None or self.writer_error:
            return ERROR, f'cannot write {self.log_path}: {self.writer_error}', figures
        writer = self.writer
        writer.flush()  # offers held-back lines to the file again
        try:
            size = self.log_path.stat().st_size if self.log_path.exists() else 0
        except OSError:
            size = 0
        try:
            fs = os.statvfs(self.log_dir)
            free = fs.f_bavail * fs.f_frsize
        except OSError:
            free = None
        figures['free_mb'] = None if free is None else free / 1e6
        figures.update({'lines_written': writer.lines_written,
                        'size_mb': size / 1e6,
                        'repeats_collapsed': writer.records_dropped_repeats,
                        'write_errors': writer.write_errors,
                        'lines_held_back': writer.lines_held_back,
                        'lines_late': writer.lines_late, 'lines_lost': writer.lines_lost,
                        'duplicates_skipped': writer.duplicates_skipped,
                        'writer_gaps': self.writer_gaps,
                        'lines_recovered': writer.lines_recovered,
                        'reopened': writer.reopened})
        losses = (f'{writer.write_errors} write errors, {writer.lines_late} lines written '
                  f'late, {writer.lines_lost} lost')
        if writer.lines_held_back:
            return ERROR, (f'cannot write {self.log_path}: {writer.last_error}; '
                           f'{writer.lines_held_back} lines held back ({losses})'), figures
        if free is not None and free < LOG_FREE_ERROR_BYTES:
            # Full before a line fails: say so now, not at the next error.
            return ERROR, (f'the disk of {self.log_path} is full: {free / 1024:.0f} KiB '
                           f'free; lines will be held back in memory'), figures
        if writer.last_failure is not None and \
                time.time() - writer.last_failure < LOG_RECOVERED_WARN_S:
            return WARN, f'writing {self.log_path} again after {losses}', figures
        return OK, f'writing {self.log_path}', figures

    def shutdown(self) -> None:
        """Flush and close the log file."""
        if self.writer is not None:
            self.writer.close()


def _ros_log_dir() -> str:
    """Return the directory rcl writes each process's own log file to."""
    try:
        from rclpy.logging import get_logging_directory
        return str(get_logging_directory())
    except Exception:  # noqa: BLE001 - an rclpy without it: the same rule by hand
        if os.environ.get('ROS_LOG_DIR'):
            return os.path.expanduser(os.environ['ROS_LOG_DIR'])
        home = os.environ.get('ROS_HOME') or os.path.join(os.path.expanduser('~'), '.ros')
        return os.path.join(home, 'log')


def _utc(stamp_s: float) -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(stamp_s))


def main(args=None):
    """Run the diagnostics node."""
    main_for(DiagnosticsNode, 'diagnostics', background=True)


if __name__ == '__main__':
    main()
