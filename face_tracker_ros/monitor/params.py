# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node's parameters and the typed configuration its cores take.

ROS-free: the tools import the defaults (``rss_warn_mb`` ...) without rclpy.
:meth:`MonitorConfig.from_params` turns the validated flat values into one
typed config per core (resources, watchdog, log file, bands);
:class:`PeerWatchConfig` does the same for the flight recorder's
``peer_watch.*`` parameters.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Tuple

from face_tracker_ros.common.params import at_least, at_most, COMMON, Param
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.interface import CAMERA_INFO_TOPIC, CAMERA_NODE, DETECTOR_NODE, SERVO_NODE
from face_tracker_ros.monitor.levels import Band
from face_tracker_ros.monitor.logrecovery import LEVEL_NAMES

#: The log file's ``log_min_level`` choices and the rcl_interfaces/Log severities they are.
LOG_LEVELS = {name.lower(): number for number, name in LEVEL_NAMES.items()}
INF = float('inf')

PARAMS = (
    Param('watched_nodes', [CAMERA_NODE, DETECTOR_NODE, SERVO_NODE],
          'Tracker nodes whose processes are watched (the bring-up sets the list it starts)'),
    Param('sample_period_s', 2.0, 'How often processes and the system are sampled',
          min=0.1, max=600.0, unit='s'),
    Param('resource_log_period_s', 300.0, 'How often a resource monitor line per process '
          'is logged', min=1.0, max=86400.0, unit='s'),
    Param('log_dir', '', 'Directory of the log file; empty = $ROS_LOG_DIR, else '
          '$ROS_HOME/log, else ~/.ros/log, plus /face_tracker_ros'),
    Param('log_file', 'face_tracker.log', 'Name of the rotating log file'),
    Param('log_max_mb', 10.0, 'Size at which the log file rotates', min=0.01, max=10000.0,
          unit='MB'),
    Param('log_backups', 5, 'Rotated generations kept', min=1, max=1000),
    Param('log_min_level', 'debug', 'Lowest level written to the file (nodes still filter '
          'by their own --log-level)', choices=tuple(LOG_LEVELS), live=True),
    Param('camera_info_topic', CAMERA_INFO_TOPIC, "The camera's CameraInfo topic (one "
          'message per frame): its rate is the frame rate and its messages prove the camera '
          'works'),
    Param('rss_warn_mb', 400.0, 'Process memory (RSS) that is WARN', min=1.0, unit='MB',
          live=True),
    Param('rss_error_mb', 600.0, 'Process memory (RSS) that is ERROR', min=1.0, unit='MB',
          live=True),
    Param('growth_warn_mb_per_h', 10.0, "Growth rate of a process's anonymous memory (heap, "
          'stacks; RSS where that is not readable) that is WARN (a leak)', min=0.0,
          unit='MB/h', live=True),
    Param('growth_window_s', 3600.0, 'Window of the memory growth fits', min=1.0, unit='s'),
    Param('growth_min_span_s', 600.0, 'Samples must span this long before growth is judged',
          min=0.5, unit='s'),
    Param('fds_warn', 512, 'Open file descriptors per process that are WARN', min=1,
          live=True),
    Param('fds_error', 900, 'Open file descriptors per process that are ERROR', min=1,
          live=True),
    Param('cpu_warn_percent', 90.0, 'System CPU use, averaged over cpu_sustain_s, that is '
          'WARN', min=0.0, max=100.0, unit='%', live=True),
    Param('cpu_error_percent', 98.0, 'System CPU use, averaged over cpu_sustain_s, that is '
          'ERROR', min=0.0, max=100.0, unit='%', live=True),
    Param('cpu_sustain_s', 60.0, 'Window over which CPU use is averaged', min=1.0, unit='s'),
    Param('mem_warn_percent', 90.0, 'System memory use that is WARN', min=0.0, max=100.0,
          unit='%', live=True),
    Param('mem_error_percent', 97.0, 'System memory use that is ERROR', min=0.0, max=100.0,
          unit='%', live=True),
    Param('disk_warn_free_percent', 10.0, 'Free disk (log directory) below this is WARN',
          min=0.0, max=100.0, unit='%', live=True),
    Param('disk_error_free_percent', 5.0, 'Free disk (log directory) below this is ERROR',
          min=0.0, max=100.0, unit='%', live=True),
    Param('temp_warn_c', 80.0, 'CPU temperature that is WARN', min=0.0, max=200.0,
          unit='degC', live=True),
    Param('temp_error_c', 90.0, 'CPU temperature that is ERROR', min=0.0, max=200.0,
          unit='degC', live=True),
    Param('watchdog.enabled', True, 'End hung or bloated nodes so that launch (or the '
          'standalone runner) restarts them; false = report only'),
    Param('watchdog.stale_timeout_s', 10.0, 'A live node with no status or no output for '
          'this long is hung', min=0.5, max=3600.0, unit='s'),
    Param('watchdog.startup_grace_s', 30.0, 'Time a new process gets before it is judged',
          min=0.0, max=3600.0, unit='s'),
    Param('watchdog.kill_grace_s', 3.0, 'Wait between SIGTERM and SIGKILL', min=0.1,
          max=120.0, unit='s'),
    Param('watchdog.max_restarts_per_hour', 5, 'Terminations per node per sliding hour; '
          'beyond it the watchdog stays in ERROR and acts no more', min=0, max=1000),
) + COMMON

#: Rules between the monitor's parameters, checked at start and for every change.
RULES = (
    at_most('rss_warn_mb', 'rss_error_mb'),
    at_most('fds_warn', 'fds_error'),
    at_most('cpu_warn_percent', 'cpu_error_percent'),
    at_most('mem_warn_percent', 'mem_error_percent'),
    at_least('disk_warn_free_percent', 'disk_error_free_percent',
             why='less free disk is worse'),
    at_most('temp_warn_c', 'temp_error_c'),
    at_most('growth_min_span_s', 'growth_window_s'),
)


@dataclass(frozen=True)
class Bands:
    """The warn/error bands of every figure the monitor judges."""

    rss_mb: Band
    growth: Band
    rss_growth: Band
    fds: Band
    cpu: Band
    mem: Band
    disk: Band
    temp: Band

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'Bands':
        """Return the bands of the validated parameter values."""
        p = values
        return cls(
            rss_mb=Band('rss_mb', p['rss_warn_mb'], p['rss_error_mb'], unit='MB'),
            growth=Band('anon_growth_mb_per_h', p['growth_warn_mb_per_h'], INF, unit='MB/h'),
            rss_growth=Band('rss_growth_mb_per_h', p['growth_warn_mb_per_h'], INF,
                            unit='MB/h'),
            fds=Band('num_fds', p['fds_warn'], p['fds_error']),
            cpu=Band('cpu_percent', p['cpu_warn_percent'], p['cpu_error_percent'], unit='%'),
            mem=Band('mem_used_percent', p['mem_warn_percent'], p['mem_error_percent'],
                     unit='%'),
            disk=Band('disk_free_percent', p['disk_warn_free_percent'],
                      p['disk_error_free_percent'], higher_is_worse=False, unit='%'),
            temp=Band('cpu_temp_c', p['temp_warn_c'], p['temp_error_c'], unit='degC'))


@dataclass(frozen=True)
class ResourceConfig:
    """What is sampled, how often, and over which windows trends and CPU are judged."""

    watched_nodes: Tuple[str, ...]
    sample_period_s: float
    resource_log_period_s: float
    growth_window_s: float
    growth_min_span_s: float
    cpu_sustain_s: float
    camera_info_topic: str

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'ResourceConfig':
        """Return the resource settings of the validated parameter values."""
        return cls(tuple(values['watched_nodes']), values['sample_period_s'],
                   values['resource_log_period_s'], values['growth_window_s'],
                   values['growth_min_span_s'], values['cpu_sustain_s'],
                   values['camera_info_topic'])


#: The settings the restart watchdog and the peer watch share, after their prefix.
_WATCH_KEYS = ('enabled', 'stale_timeout_s', 'startup_grace_s', 'kill_grace_s',
               'max_restarts_per_hour')


@dataclass(frozen=True)
class WatchConfig:
    """When a watched node is hung and how it is ended (watchdog and peer watch alike)."""

    enabled: bool
    stale_timeout_s: float
    startup_grace_s: float
    kill_grace_s: float
    max_restarts_per_hour: int

    @staticmethod
    def _values(values: Mapping[str, Any], prefix: str) -> Tuple[Any, ...]:
        return tuple(values[prefix + key] for key in _WATCH_KEYS)


@dataclass(frozen=True)
class WatchdogConfig(WatchConfig):
    """The restart watchdog's settings (:class:`~face_tracker_ros.monitor.watchdog.Watchdog`)."""

    rss_limit_mb: float = 600.0

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'WatchdogConfig':
        """Return the ``watchdog.*`` settings; a process above ``rss_error_mb`` is bloated."""
        return cls(*cls._values(values, 'watchdog.'), rss_limit_mb=values['rss_error_mb'])


@dataclass(frozen=True)
class PeerWatchConfig(WatchConfig):
    """The flight recorder's watch of the diagnostics node (``peer_watch.*`` parameters)."""

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'PeerWatchConfig':
        """Return the ``peer_watch.*`` settings of the validated parameter values."""
        return cls(*cls._values(values, 'peer_watch.'))


@dataclass(frozen=True)
class LogFileConfig:
    """The rotating log file: where, how big, how many generations, from which level."""

    directory: Path
    name: str
    max_bytes: int
    backups: int
    min_level: int

    @property
    def path(self) -> Path:
        """Return the log file's path."""
        return self.directory / self.name

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'LogFileConfig':
        """Return the log file settings; an empty ``log_dir`` is the ROS log directory's."""
        directory = Path(values['log_dir']).expanduser() if values['log_dir'] \
            else default_log_dir()
        return cls(directory, values['log_file'], int(values['log_max_mb'] * 1024 * 1024),
                   values['log_backups'], LOG_LEVELS[values['log_min_level']])


@dataclass(frozen=True)
class MonitorConfig:
    """The diagnostics node's whole configuration, one typed part per core."""

    resources: ResourceConfig
    watchdog: WatchdogConfig
    log_file: LogFileConfig
    bands: Bands

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'MonitorConfig':
        """Return the typed configuration of the validated flat values (``'rss_warn_mb'`` ...)."""
        return cls(ResourceConfig.from_params(values), WatchdogConfig.from_params(values),
                   LogFileConfig.from_params(values), Bands.from_params(values))
