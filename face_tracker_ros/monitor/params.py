# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node's parameters (ROS-free: tools import the defaults without rclpy)."""

from face_tracker_ros.common.params import at_least, at_most, COMMON, Param

LOG_LEVELS = {'debug': 10, 'info': 20, 'warn': 30, 'error': 40, 'fatal': 50}
INF = float('inf')

PARAMS = (
    Param('watched_nodes', ['camera', 'detector', 'servo'],
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
    Param('camera_info_topic', 'camera/camera_info', "The camera's CameraInfo topic (one "
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
