# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Small helpers of the diagnose probes: JSON-safe values, times, files, commands."""

import datetime
import math
import os
import signal
import subprocess
import time
from typing import Any, Callable, Optional, Sequence

import psutil


def now_iso() -> str:
    """Return the local time now, ISO 8601 to the second."""
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def iso_time(epoch_s: Optional[float]) -> Optional[str]:
    """Return an epoch time as local ISO 8601 to the second; None for None or NaN."""
    if epoch_s is None or not math.isfinite(epoch_s):
        return None
    return datetime.datetime.fromtimestamp(epoch_s).astimezone().isoformat(timespec='seconds')


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN/inf replaced by None and non-JSON types made strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def round_or_none(value: Optional[float], digits: int = 1) -> Optional[float]:
    """Return ``value`` rounded, or None for None, a non-number or NaN/inf."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), digits)


def safe_get(getter: Callable[[], Any], default: Any = None) -> Any:
    """Return ``getter()``, or ``default`` when psutil or the OS refuses."""
    try:
        return getter()
    except (psutil.Error, OSError, AttributeError, ValueError):
        return default


def read_text(path: str, limit: int = 65536) -> Optional[str]:
    """Return the first ``limit`` bytes of a file as text, or None if unreadable."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(limit).decode('utf-8', 'replace')
    except OSError:
        return None


def int_or_none(text: Optional[str]) -> Optional[int]:
    """Return ``text`` as an int, or None."""
    try:
        return int((text or '').strip())
    except ValueError:
        return None


def run_command(argv: Sequence[str], timeout_s: float, max_chars: int = 400000) -> dict:
    """Run ``argv`` (no shell) with a hard timeout; never raises.

    The command runs in its own session with stdin closed and ``LC_ALL=C``;
    at the timeout the whole session is killed.  Returns ``argv``,
    ``returncode`` (None if it could not start or was killed), ``stdout``,
    ``stderr`` (text, cut to ``max_chars``), ``timed_out``, ``error`` (why it
    could not run, else '') and ``duration_s``.
    """
    result = {'argv': list(argv), 'returncode': None, 'stdout': '', 'stderr': '',
              'timed_out': False, 'error': '', 'duration_s': 0.0}
    env = dict(os.environ, LC_ALL='C', LANG='C')
    start = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, env=env)
    except (OSError, ValueError) as exc:
        result['error'] = f'{type(exc).__name__}: {exc}'
        return result
    try:
        out, err = proc.communicate(timeout=max(0.1, timeout_s))
    except subprocess.TimeoutExpired:
        result['timed_out'] = True
        result['error'] = f'timed out after {timeout_s:.1f} s'
        kill_session(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            out, err = b'', b''
    except OSError as exc:
        kill_session(proc)
        out, err = b'', b''
        result['error'] = f'{type(exc).__name__}: {exc}'
    result['returncode'] = None if result['timed_out'] else proc.returncode
    result['stdout'] = (out or b'').decode('utf-8', 'replace')[-max_chars:]
    result['stderr'] = (err or b'').decode('utf-8', 'replace')[-max_chars:]
    result['duration_s'] = round(time.monotonic() - start, 3)
    return result


def kill_session(proc: subprocess.Popen) -> None:
    """Kill the process group of a child started with ``start_new_session``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        pass
