# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``face_tracker_record``: ``ros2 bag record`` of what a post-mortem needs, under a fresh name.

Started by ``tracker.launch.py record:=true`` (and respawned by it): every start
records into a new directory ``<bag_dir>/tracker_YYYYmmdd_HHMMSS[_n]``, so a
restarted recorder never collides with the bag it left behind.  MCAP storage,
split by size and duration.  Topics: ``/diagnostics``, ``/diagnostics_agg``,
``/rosout``, ``face/target``, ``joint_states``, ``servo/command_latency``,
``sim/true_target``, plus ``camera/preview/compressed`` (a small JPEG at a low
rate, see the camera's ``preview_rate_hz``) with ``--images``.
"""

import argparse
import os
from pathlib import Path
import shutil
import sys
import time
from typing import List, Optional

from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.interface import (
    COMMAND_LATENCY_TOPIC,
    DIAGNOSTICS_TOPIC,
    JOINT_STATES_TOPIC,
    PREVIEW_TOPIC,
    ROSOUT_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
    TARGET_TOPIC,
)

TOPICS = (DIAGNOSTICS_TOPIC, '/diagnostics_agg', ROSOUT_TOPIC, TARGET_TOPIC, JOINT_STATES_TOPIC,
          COMMAND_LATENCY_TOPIC, SIM_TRUE_TARGET_TOPIC)
IMAGE_TOPICS = (PREVIEW_TOPIC,)


def unique_bag_path(directory: Path, prefix: str = 'tracker') -> Path:
    """Return ``directory/<prefix>_YYYYmmdd_HHMMSS`` with ``_n`` added if it exists."""
    stem = f"{prefix}_{time.strftime('%Y%m%d_%H%M%S')}"
    path = directory / stem
    n = 1
    while path.exists():
        path = directory / f'{stem}_{n}'
        n += 1
    return path


def record_command(output: Path, max_size_mb: float, max_duration_s: float,
                   images: bool, extra_topics: List[str]) -> List[str]:
    """Return the ``ros2 bag record`` command line."""
    cmd = ['ros2', 'bag', 'record', '--storage', 'mcap', '--output', str(output)]
    if max_size_mb > 0:
        cmd += ['--max-bag-size', str(int(max_size_mb * 1024 * 1024))]
    if max_duration_s > 0:
        cmd += ['--max-bag-duration', str(int(max_duration_s))]
    topics = list(TOPICS) + (list(IMAGE_TOPICS) if images else []) + extra_topics
    return cmd + ['--topics', *topics]


def main(argv: Optional[List[str]] = None) -> int:
    """Build a fresh bag name and replace this process with ``ros2 bag record``."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--bag-dir', default='',
                        help='directory of the bags (default: <log dir>/bags)')
    parser.add_argument('--max-size-mb', type=float, default=512.0,
                        help='split the bag at this size (0: never)')
    parser.add_argument('--max-duration-s', type=float, default=3600.0,
                        help='split the bag after this long (0: never)')
    parser.add_argument('--images', action='store_true',
                        help='also record camera/preview/compressed')
    parser.add_argument('--topic', action='append', default=[], help='another topic')
    parser.add_argument('--print', action='store_true', help='print the command, do not run')
    args = parser.parse_args(argv)
    directory = Path(args.bag_dir).expanduser() if args.bag_dir else default_log_dir() / 'bags'
    directory.mkdir(parents=True, exist_ok=True)
    cmd = record_command(unique_bag_path(directory), args.max_size_mb, args.max_duration_s,
                         args.images, args.topic)
    if args.print:
        print(' '.join(cmd))
        return 0
    if shutil.which('ros2') is None:
        print('face_tracker_record needs the ros2 CLI (a ROS 2 distribution); without it use '
              'the flight recorder (see docs/operations.md, Post-mortem)', file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)
    return 1  # not reached


if __name__ == '__main__':
    sys.exit(main())
