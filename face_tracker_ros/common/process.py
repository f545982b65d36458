# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Per-process settings every node applies before it starts: the allocator and the executor.

Allocator.  A 640x480 bgr8 frame is 900 KB.  glibc's ``malloc`` serves blocks
that large with a fresh ``mmap`` (and hands them back to the kernel when freed)
and gives memory at the top of a heap back once more than a threshold is free,
so every frame's buffers (the serialized message, its copy into a Python
object) are new pages: about 225 page faults and a zero-fill per buffer, which
on this project's 2-core machine made up more than half of a frame's trip
between two processes.  :func:`tune_allocator` raises the two thresholds
(``M_MMAP_THRESHOLD`` to 16 MiB, ``M_TRIM_THRESHOLD`` to 32 MiB) with
``mallopt`` so those buffers are reused from the heap.  The cost is memory
that stays with the process after a burst instead of going back to the
kernel; it is bounded by the peak in use, which is why only the nodes that move
camera frames (camera, detector) ask for it.  It is skipped where the C library is
not glibc, when ``FACE_TRACKER_TUNE_MALLOC=0``, and when the standard
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` environment variables
are set (the user's settings win).

Executor.  rclpy's ``SingleThreadedExecutor`` rebuilds its wait set in Python
for every callback; the ``EventsExecutor`` (rclpy 9, Kilted and later, under
``rclpy.experimental``) dispatches from C++ and cut the median frame latency
between two processes here by about 0.5 ms and its 99th percentile by a
third.  :func:`make_executor` picks it where it exists (``auto``), and the
single-threaded executor elsewhere or when ``FACE_TRACKER_EXECUTOR=single``.
Both run every callback of a node in the one thread that spins, which the nodes
rely on.
"""

import ctypes
import ctypes.util
import os
import platform
from typing import Mapping, Optional, Tuple

#: ``mallopt`` parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap and are reused (glibc's maximum is 32 MiB).
MMAP_THRESHOLD_BYTES = 16 * 1024 * 1024
#: Free memory at the top of a heap up to this size is kept for the next frames.
TRIM_THRESHOLD_BYTES = 32 * 1024 * 1024

TUNE_ENV = 'FACE_TRACKER_TUNE_MALLOC'
EXECUTOR_ENV = 'FACE_TRACKER_EXECUTOR'
EXECUTORS = ('auto', 'events', 'single')
_GLIBC_ENV = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_')


def tune_allocator(environ: Optional[Mapping[str, str]] = None, libc=None) -> str:
    """Raise glibc's mmap and trim thresholds; return what was done, for the log.

    ``libc`` is for tests (an object with ``mallopt``); by default the C
    library of this process.  Never raises: an allocator left as it is only
    costs speed.
    """
    environ = os.environ if environ is None else environ
    if environ.get(TUNE_ENV, '1').strip().lower() in ('0', 'false', 'no', 'off'):
        return f'allocator left as is ({TUNE_ENV}={environ.get(TUNE_ENV)})'
    preset = [name for name in _GLIBC_ENV if environ.get(name)]
    if preset:
        return f"allocator left as is ({', '.join(preset)} set in the environment)"
    if libc is None:
        if platform.libc_ver()[0] != 'glibc':
            return 'allocator left as is (the C library is not glibc)'
        try:
            libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        except OSError as exc:
            return f'allocator left as is (cannot load the C library: {exc})'
    try:
        ok = (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
              and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    except (AttributeError, OSError, ctypes.ArgumentError) as exc:
        return f'allocator left as is (mallopt failed: {exc})'
    if not ok:
        return 'allocator left as is (mallopt refused the thresholds)'
    return (f'glibc malloc: mmap threshold {MMAP_THRESHOLD_BYTES >> 20} MiB, '
            f'trim threshold {TRIM_THRESHOLD_BYTES >> 20} MiB')


def executor_choice(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return the executor asked for in ``FACE_TRACKER_EXECUTOR`` (``auto`` when unset).

    ValueError names the variable and the allowed values.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(EXECUTOR_ENV, 'auto').strip().lower() or 'auto'
    if value not in EXECUTORS:
        raise ValueError(f'{EXECUTOR_ENV}={environ.get(EXECUTOR_ENV)!r} is not one of '
                         f"{', '.join(EXECUTORS)}")
    return value


def events_executor_class():
    """Return rclpy's EventsExecutor factory, or None where this rclpy has none."""
    try:
        from rclpy.experimental.events_executor import EventsExecutor
    except ImportError:
        return None
    return EventsExecutor


def make_executor(kind: str = 'auto', context=None) -> Tuple[object, str]:
    """Return ``(executor, name)`` for ``kind`` (one of :data:`EXECUTORS`).

    ``events`` where this rclpy has no EventsExecutor raises ValueError.
    """
    from rclpy.executors import SingleThreadedExecutor

    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    if kind in ('auto', 'events'):
        factory = events_executor_class()
        if factory is not None:
            return factory(context=context), 'events'
        if kind == 'events':
            raise ValueError('this rclpy has no EventsExecutor (rclpy.experimental, Kilted '
                             "and later); use 'single' or 'auto'")
    return SingleThreadedExecutor(context=context), 'single'
