# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Where the package's shared files (config, launch) are, on both install paths."""

import os
from pathlib import Path
import sys

from face_tracker_ros.interface import PACKAGE


def share_dir() -> Path:
    """Return the directory that holds ``config/`` and ``launch/``.

    In a colcon workspace or a ROS 2 distribution that is the package's share
    directory from the ament index; in a source checkout (the standalone path)
    it is the checkout itself; after a plain ``pip install`` it is
    ``<prefix>/share/face_tracker_ros``.
    """
    try:
        from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
        try:
            return Path(get_package_share_directory(PACKAGE))
        except (PackageNotFoundError, ValueError, LookupError, OSError):
            pass
    except ImportError:
        pass
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / 'config' / 'tracker.yaml').is_file():
        return checkout
    return Path(sys.prefix) / 'share' / PACKAGE


def default_params_file() -> Path:
    """Return the path of ``config/tracker.yaml``."""
    return share_dir() / 'config' / 'tracker.yaml'


def runtime_dir() -> Path:
    """Return a per-user directory for run-time files (simulated serial port links)."""
    base = os.environ.get('XDG_RUNTIME_DIR')
    if base and os.access(base, os.W_OK):
        return Path(base) / PACKAGE
    return Path('/tmp') / f'{PACKAGE}-{os.getuid()}'


def default_log_dir() -> Path:
    """Return the directory of ``face_tracker.log`` when none is configured.

    The ROS 2 convention: ``$ROS_LOG_DIR``, else ``$ROS_HOME/log``, else
    ``~/.ros/log``; plus ``face_tracker_ros``.
    """
    if os.environ.get('ROS_LOG_DIR'):
        base = Path(os.environ['ROS_LOG_DIR'])
    elif os.environ.get('ROS_HOME'):
        base = Path(os.environ['ROS_HOME']) / 'log'
    else:
        base = Path.home() / '.ros' / 'log'
    return base / PACKAGE
