# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers every benchmark section shares: statistics, targets, DDS isolation, machine facts."""

import math
import os
import platform
import random
import sys
import time
from typing import Callable, Dict, Optional, Sequence, Tuple

from face_tracker_ros.common.checks import check_choice
from face_tracker_ros.common.stats import percentile  # noqa: F401 - re-exported for bench

#: Valid ROS_DOMAIN_ID values for Fast DDS on Linux with the default port mapping.
DOMAIN_RANGE = (0, 232)
#: Domain IDs the random pick draws from (clear of the low ones people use by hand).
RANDOM_DOMAIN_RANGE = (100, 200)
#: Comparison operators a :func:`target` may use.
OPERATORS = ('<=', '>=')


def rounded(value: Optional[float], digits: int = 2) -> Optional[float]:
    """Return ``value`` rounded to ``digits`` places; None and non-finite values give None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def summarize(values: Sequence[float], digits: int = 2) -> Dict[str, Optional[float]]:
    """Return ``n``, ``p50``, ``p99``, ``mean`` and ``max`` of ``values`` (None when empty)."""
    values = list(values)
    return {
        'n': len(values),
        'p50': rounded(percentile(values, 50), digits),
        'p99': rounded(percentile(values, 99), digits),
        'mean': rounded(sum(values) / len(values), digits) if values else None,
        'max': rounded(max(values), digits) if values else None,
    }


def target(description: str, value: Optional[float], op: str, limit: float,
           unit: str = '') -> Dict[str, object]:
    """Return a target record: what was measured, the limit, whether it is met and by how much.

    ``op`` is ``'<='`` or ``'>='``.  A missing value (None) never meets its
    target.  ``margin`` is how far the value is on the good side of the limit
    (negative when missed), in the value's unit.
    """
    check_choice('op', op, OPERATORS)
    met = value is not None and math.isfinite(value) and (
        value <= limit if op == '<=' else value >= limit)
    margin = None
    if value is not None and math.isfinite(value):
        margin = limit - value if op == '<=' else value - limit
    return {'description': description, 'value': rounded(value, 4), 'target': f'{op} {limit:g}'
            + (f' {unit}' if unit else ''), 'limit': limit, 'op': op, 'met': bool(met),
            'margin': rounded(margin, 4)}


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Tuple[float, float, float]:
    """Least-squares line through ``(xs, ys)``: return ``(slope, intercept, slope_stderr)``.

    Needs at least two distinct x values (ValueError otherwise); the standard
    error is nan with fewer than three points.
    """
    n = len(xs)
    if n != len(ys):
        raise ValueError(f'xs and ys must have the same length, got {n} and {len(ys)}')
    if n < 2:
        raise ValueError(f'xs needs at least 2 points, got {n}')
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx <= 0.0:
        raise ValueError('xs needs at least 2 distinct values')
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    if n < 3:
        return slope, intercept, math.nan
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, math.sqrt(residual / (n - 2) / sxx)


def udp_ports_in_use() -> set:
    """Return the local UDP ports bound on this host (from /proc/net/udp and udp6)."""
    ports = set()
    for name in ('/proc/net/udp', '/proc/net/udp6'):
        try:
            with open(name) as stream:
                next(stream, None)
                for line in stream:
                    fields = line.split()
                    if len(fields) > 1 and ':' in fields[1]:
                        ports.add(int(fields[1].rsplit(':', 1)[1], 16))
        except OSError:
            continue
    return ports


def domain_ports(domain_id: int) -> range:
    """Return the UDP ports RTPS uses for ``domain_id`` (port base 7400, domain gain 250)."""
    return range(7400 + 250 * domain_id, 7400 + 250 * (domain_id + 1))


def choose_domain_id(env: Optional[Dict[str, str]] = None,
                     rng: Optional[random.Random] = None) -> int:
    """Return ``ROS_DOMAIN_ID`` from ``env`` if set, else a random domain no process uses.

    Raises ValueError when the variable is set to something that is not an
    integer in :data:`DOMAIN_RANGE`.
    """
    env = os.environ if env is None else env
    text = env.get('ROS_DOMAIN_ID', '').strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if not DOMAIN_RANGE[0] <= value <= DOMAIN_RANGE[1]:
            raise ValueError(f'ROS_DOMAIN_ID must be an integer in [{DOMAIN_RANGE[0]}, '
                             f'{DOMAIN_RANGE[1]}], got {text!r}')
        return value
    rng = rng or random.Random()
    used = udp_ports_in_use()
    candidates = list(range(RANDOM_DOMAIN_RANGE[0], RANDOM_DOMAIN_RANGE[1] + 1))
    rng.shuffle(candidates)
    for domain in candidates:
        if not used.intersection(domain_ports(domain)):
            return domain
    return candidates[0]


def ros_env(domain_id: int, profile: Optional[str],
            base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Return an environment for ROS processes on ``domain_id``, this host only.

    ``profile`` is a Fast DDS XML profile file, or None for Fast DDS's defaults
    (``FASTDDS_DEFAULT_PROFILES_FILE`` set to empty; also run such processes in
    a directory without ``DEFAULT_FASTDDS_PROFILES.xml``).
    """
    env = dict(os.environ if base is None else base)
    env['ROS_DOMAIN_ID'] = str(int(domain_id))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['RCUTILS_COLORIZED_OUTPUT'] = '0'
    env['FASTDDS_DEFAULT_PROFILES_FILE'] = profile or ''
    env.pop('RMW_FASTRTPS_USE_QOS_FROM_XML', None)
    env.pop('FASTRTPS_DEFAULT_PROFILES_FILE', None)
    return env


def machine_info() -> Dict[str, object]:
    """Return facts about this machine and software that the figures depend on."""
    import cv2
    import numpy

    info: Dict[str, object] = {
        'cpu_count': os.cpu_count(),
        'cpu_model': _cpu_model(),
        'python': platform.python_version(),
        'platform': platform.platform(),
        'opencv': cv2.__version__,
        'opencv_default_threads': cv2.getNumThreads(),
        'numpy': numpy.__version__,
        'executable': sys.executable,
    }
    try:
        info['load_average_at_start'] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    return info


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as stream:
            for line in stream:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05,
             step: Optional[Callable[[float], None]] = None) -> object:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass; return its last value.

    ``step(interval)`` is called between polls instead of sleeping, if given
    (for example to spin an executor).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        if step is not None:
            step(interval)
        else:
            time.sleep(interval)


def log(message: str) -> None:
    """Print a progress line to stderr (the summary goes to stdout)."""
    print(f'[bench {time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)
