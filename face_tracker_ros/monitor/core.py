# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node's ROS-free core: this run's processes, the machine, the watchdog.

:class:`Monitor` takes what the node receives (statuses, output messages,
camera frames) as plain values, samples the processes of this run
(:class:`~face_tracker_ros.monitor.resources.RunScope`) and the machine,
drives the :class:`~face_tracker_ros.monitor.watchdog.Watchdog` and builds
every status the node publishes; its :class:`~face_tracker_ros.monitor.logkeeper.LogKeeper`
keeps the log file.  The clock and the log are injected.
"""

import math
import time
from typing import Callable, Dict, Mapping, Optional, Set

from face_tracker_ros.common.stats import RateMeter, WindowStats
from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.interface import (
    CAMERA_DEVICE_TASK,
    CAMERA_NODE,
    DETECTOR_NODE,
    process_task,
    split_status_name,
    SYSTEM_TASK,
)
from face_tracker_ros.monitor.logkeeper import LogKeeper
from face_tracker_ros.monitor.params import MonitorConfig
from face_tracker_ros.monitor.readings import process_summary_line, read_cpu, sample_system
from face_tracker_ros.monitor.reports import (
    camera_device_report,
    LevelNotes,
    process_report,
    Report,
    system_report,
)
from face_tracker_ros.monitor.resources import ProcessWatcher, RunScope
from face_tracker_ros.monitor.trend import LeakTrend
from face_tracker_ros.monitor.watchdog import default_specs, Watchdog, WatchSpec
from face_tracker_ros.monitor.watchspec import STALL_GAP_S, STARTING_MESSAGE

#: The camera reconnects by itself (and exits after max_recovery_s), so the watchdog
#: judges it by its status heartbeat only; its images still excuse a silent detector.
HEARTBEAT_ONLY = (CAMERA_NODE,)

#: Nodes whose output is judged from a counter in their own status rather than by
#: subscribing to their output topic.  The detector's ``face/target`` is the hop between
#: detection and the servo command: every subscriber adds to what each publish costs there
#: (about 0.1 ms per frame each, measured), and ``frames_processed`` counts exactly those
#: messages.  The camera's output is watched on its small ``camera/camera_info``.
PROGRESS_FIGURES = {DETECTOR_NODE: 'frames_processed'}

#: The figures of a node's own status that its resource monitor line repeats.
STATUS_FIGURES = ('frames_total', 'read_errors_total', 'frames_processed', 'commands_sent',
                  'write_errors_total')


class Monitor:
    """Watches this run's processes and the machine; see the module docstring."""

    def __init__(self, config: MonitorConfig, namespace: str, log: Callable[[int, str], None],
                 startup_grace_s: float, clock: Callable[[], float] = time.monotonic):
        """Open the log file and set up the watchers and the watchdog; ``log(level, text)``."""
        self.config = config
        self._log = log
        self._clock = clock
        self.startup_grace_s = startup_grace_s
        # Only the processes of this launch or standalone run, in this namespace: never a
        # look-alike of a second tracker or of an unrelated program.
        self.scope = RunScope(namespace=namespace)
        # Loggers of nodes in namespace /left are named left.<node>; in the root namespace
        # every line is taken.
        prefix = self.scope.namespace.strip('/').replace('/', '.') + '.' \
            if self.scope.namespace != '/' else ''
        self._run_pids: Set[int] = set()  # every pid seen in a status of this run's nodes
        self.keeper = LogKeeper(config.log_file, log, self._of_run, prefix)
        self._started = clock()
        r = config.resources
        self.watchers: Dict[str, ProcessWatcher] = {
            name: ProcessWatcher(name, trend=LeakTrend(window_s=r.growth_window_s,
                                                       min_span_s=r.growth_min_span_s),
                                 anon_trend=LeakTrend(window_s=r.growth_window_s,
                                                      min_span_s=r.growth_min_span_s),
                                 scope=self.scope)
            for name in r.watched_nodes}
        self.samples = {}
        self.system = None
        self._cpu = WindowStats(window_s=r.cpu_sustain_s)
        self._node_status: Dict[str, Mapping[str, str]] = {}
        self._notes = LevelNotes(log)
        self._frame_rate = RateMeter(window_s=5.0)
        self.check_period_s = min(1.0, r.sample_period_s)
        specs = [WatchSpec(spec.name, '', spec.upstream) if spec.name in HEARTBEAT_ONLY
                 else spec for spec in default_specs(r.watched_nodes)]
        self.watchdog = Watchdog.from_config(
            specs, config.watchdog, owned=self.scope.owns,
            stall_gap_s=max(STALL_GAP_S, 3.0 * self.check_period_s), read_cpu=read_cpu)
        self._progress: Dict[str, int] = {}

    def configure(self, config: MonitorConfig) -> None:
        """Take a new config's live settings: the bands, the RSS limit, the log file's level."""
        self.config = config
        self.watchdog.rss_limit_mb = config.watchdog.rss_limit_mb
        self.keeper.configure(config.log_file)

    def describe(self) -> str:
        """Return the start-up sentence for the log."""
        return (f"diagnostics started: watching {', '.join(self.watchers)} "
                f'({self.scope.describe()}); log file {self.keeper.log_path}')

    # ----------------------------------------------------------------- inputs
    def status(self, name: str, message: str, values: Mapping[str, str]) -> None:
        """Take one status of ``/diagnostics``; ``values`` are its key/value pairs."""
        node, _ = split_status_name(name)
        if node not in self.watchers:
            return
        pid = values.get('pid', '')
        if not pid.isdigit() or not self._ours(node, int(pid)):
            return  # a node of the same name in another tracker (/diagnostics is global)
        self._node_status[node] = values
        if message != STARTING_MESSAGE:
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

    def _of_run(self, pid: int) -> bool:
        return pid in self._run_pids or self.scope.owns(pid)

    def output(self, node: str) -> None:
        """Note a message on ``node``'s output topic."""
        self.watchdog.output(node)

    def camera_info(self) -> None:
        """Note one camera frame (a CameraInfo message)."""
        self._frame_rate.tick()
        self.watchdog.output(CAMERA_NODE)

    # ------------------------------------------------------------------ timers
    def sample(self) -> None:
        """Read the machine and every watched process; feed the watchdog."""
        directory = self.keeper.log_dir
        self.system = sample_system(str(directory if directory.exists() else '/'))
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

    def check_watchdog(self) -> None:
        """Let the watchdog judge and act; log what it says."""
        self.watchdog.check()
        for event in self.watchdog.drain_events():
            self._log(event.level, str(event))

    def log_resources(self) -> None:
        """Log one ``resource monitor:`` line per process and one for the machine."""
        for name, watcher in self.watchers.items():
            sample = self.samples.get(name)
            if sample is None:
                self._log(WARN, f'resource monitor: node={name} not running')
                continue
            status = self._node_status.get(name, {})
            extra = {key: status[key] for key in STATUS_FIGURES if key in status}
            self._log(OK, process_summary_line(
                name, sample, watcher.trend.slope_mb_per_h(), extra,
                anon_slope=watcher.anon_trend.slope_mb_per_h()))
        s = self.system
        if s is not None:
            self._log(OK, f'resource monitor: system cpu_percent={s.cpu_percent:.1f} '
                          f'load_1m={s.load_1m:.2f} mem_used_percent={s.mem_used_percent:.1f} '
                          f'mem_available_mb={s.mem_available_mb:.0f} '
                          f'swap_used_percent={s.swap_used_percent:.1f} '
                          f'disk_free_mb={s.disk_free_mb:.0f}')

    # ---------------------------------------------------------------- reports
    def _age(self) -> float:
        return self._clock() - self._started

    def report_system(self) -> Report:
        """Return ``diagnostics: system``."""
        report = system_report(self.system, self._cpu.mean,
                               self._age() >= self.config.resources.cpu_sustain_s,
                               self.config.bands, str(self.keeper.log_dir))
        self._notes.note(SYSTEM_TASK, report[0], report[1])
        return report

    def report_process(self, name: str) -> Report:
        """Return ``diagnostics: process <name>``."""
        watcher = self.watchers[name]
        sample = self.samples.get(name)
        if sample is None:
            figures = {'restarts': watcher.restarts}
            if self._age() < self.startup_grace_s:
                return OK, 'waiting for the process', figures
            self._notes.note(process_task(name), ERROR, 'not running')
            return ERROR, 'not running', figures
        report = process_report(sample, watcher.trend.slope_mb_per_h(),
                                watcher.anon_trend.slope_mb_per_h(), watcher.restarts,
                                watcher.trend.span_s, self.config.bands,
                                self.config.resources.growth_min_span_s)
        self._notes.note(process_task(name), report[0], report[1])
        return report

    def report_watchdog(self, name: str) -> Report:
        """Return ``diagnostics: watchdog <name>``."""
        return self.watchdog.report(name)

    def report_camera_device(self) -> Report:
        """Return ``diagnostics: camera device``."""
        status: Optional[Mapping[str, str]] = self._node_status.get(CAMERA_NODE)
        report = camera_device_report(status, CAMERA_NODE in self.watchers,
                                      self._frame_rate.rate(),
                                      self.config.resources.camera_info_topic,
                                      self._age() < self.startup_grace_s)
        if status is not None:
            self._notes.note(CAMERA_DEVICE_TASK, report[0], report[1])
        return report
