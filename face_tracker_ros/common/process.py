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
from typing import Iterable, List, Mapping, Optional, Tuple

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
        libc = _glibc()
        if libc is None:
            return 'allocator left as is (the C library is not glibc)'
    try:
        ok = (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
              and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    except (AttributeError, OSError, ctypes.ArgumentError) as exc:
        return f'allocator left as is (mallopt failed: {exc})'
    if not ok:
        return 'allocator left as is (mallopt refused the thresholds)'
    return (f'glibc malloc: mmap threshold {MMAP_THRESHOLD_BYTES >> 20} MiB, '
            f'trim threshold {TRIM_THRESHOLD_BYTES >> 20} MiB')


_LIBC = None


def _glibc():
    """Return the C library if it is glibc (loaded once), else None."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if platform.libc_ver()[0] == 'glibc':
            try:
                _LIBC = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
            except OSError:
                pass
    return _LIBC or None


def release_free_memory(libc=None) -> bool:
    """Give the heap's free pages back to the kernel (glibc ``malloc_trim(0)``); True if done.

    A long-running Python node allocates and frees many small objects of
    varying sizes (diagnostics, log lines, buffered messages).  glibc keeps
    freed memory between live blocks mapped, so the RSS of such a process
    creeps up long after its live data has stopped growing; ``malloc_trim``
    hands every free page back, wherever it is in the heap.  Nodes that do not
    keep frame-sized buffers (everything but the camera and the detector) call
    it once a minute through the shared runner.
    """
    libc = libc or _glibc()
    if libc is None:
        return False
    try:
        libc.malloc_trim(0)
    except (AttributeError, OSError):
        return False
    return True


#: Niceness of nodes that watch and record rather than track (diagnostics, flight recorder).
BACKGROUND_NICE = 10
NICE_ENV = 'FACE_TRACKER_BACKGROUND_NICE'
AUTOGROUP_FILE = '/proc/self/autogroup'


def lower_priority(environ: Optional[Mapping[str, str]] = None, nice=None,
                   autogroup: Optional[str] = None, threads: Optional[Iterable[int]] = None,
                   policy=None) -> str:
    """Lower the CPU priority of this process's threads for a background node; say what was done.

    The tracking chain (camera, detector, servo) shares the cores with the
    nodes that watch and record it.  Those run at niceness
    :data:`BACKGROUND_NICE` (``FACE_TRACKER_BACKGROUND_NICE`` overrides it,
    0 keeps the normal priority and policy) under the ``SCHED_BATCH`` policy,
    so that when the cores are busy the scheduler runs a frame through the
    chain first; the background nodes' work is not urgent to the millisecond
    and still gets the idle time, which on a tracker is most of it.

    Both are set on every thread: on Linux niceness and policy belong to a
    thread, and a node's middleware threads (DDS receive and event threads)
    exist before this is called; threads started later inherit them.
    Niceness sets a thread's share of a busy core.  ``SCHED_BATCH`` keeps the
    share and stops a waking thread from preempting a running one, which
    niceness does not: the kernel's fair scheduler (EEVDF) lets a thread that
    has slept take the core from a running one at once, whatever their weights,
    and a background node wakes for every message it watches, in the middle of
    a frame's detection.

    Where the kernel groups processes by session for scheduling (autogroup,
    ``/proc/sys/kernel/sched_autogroup_enabled``, on by default in most
    desktop and many server kernels), a thread's niceness only orders it
    against the threads of its own session: a node started in a session of
    its own (the standalone bring-up does that, so that it can stop a node's
    whole process group) would get a full share whatever its niceness.  A
    session leader therefore also sets its session's autogroup niceness
    (``/proc/self/autogroup``); a process in a shared session leaves it alone,
    since that would lower the whole session.

    ``threads`` are the thread ids to lower (default: every thread of this
    process); a thread already under ``SCHED_BATCH`` is left as it is, so a
    second call lowers only threads started since.  ``nice(tid, increment)``,
    ``policy(tid)`` and ``autogroup`` (the autogroup file) are for tests.
    Never raises.
    """
    environ = os.environ if environ is None else environ
    nice = nice or _renice_thread
    policy = policy or _batch_thread
    text = environ.get(NICE_ENV, str(BACKGROUND_NICE)).strip()
    try:
        value = int(text)
    except ValueError:
        return f'priority left as is ({NICE_ENV}={text!r} is not an integer)'
    if not 0 <= value <= 19:
        return f'priority left as is ({NICE_ENV}={value} is not in 0..19)'
    if value == 0:
        return 'priority left as is'
    # A thread already under SCHED_BATCH was lowered before: not again (niceness only rises).
    tids = [tid for tid in (thread_ids() if threads is None else threads)
            if not _is_batch(tid)]
    if not tids:
        return 'priority left as is (every thread already lowered)'
    reniced = batched = 0
    error = ''
    for tid in tids:
        try:
            nice(tid, value)
            reniced += 1
        except OSError as exc:  # the thread ended meanwhile, or not allowed
            error = str(exc)
        batched += bool(policy(tid))
    if not reniced:
        return f'priority left as is (nice failed: {error or "no thread"})'
    done = f'niceness +{value}'
    if batched:
        done += ', SCHED_BATCH'
    done += f' (background node, {reniced} thread{"s" if reniced != 1 else ""})'
    if autogroup is None:
        if os.getsid(0) != os.getpid():
            return done
        autogroup = AUTOGROUP_FILE
    try:
        with open(autogroup, 'w') as stream:
            stream.write(str(value))
    except OSError:  # no autogroup in this kernel, or not allowed: niceness alone
        return done
    return done + f', session autogroup +{value}'


def thread_ids() -> List[int]:
    """Return the ids of this process's threads (Linux), else ``[0]`` (the caller)."""
    try:
        return sorted(int(tid) for tid in os.listdir('/proc/self/task'))
    except (OSError, ValueError):
        return [0]


def _renice_thread(tid: int, increment: int) -> None:
    """Add ``increment`` to thread ``tid``'s niceness (at most 19); OSError if refused."""
    current = os.getpriority(os.PRIO_PROCESS, tid)
    os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))


def _is_batch(tid: int) -> bool:
    """Return True if thread ``tid`` runs under ``SCHED_BATCH`` (False if unknown)."""
    try:
        return os.sched_getscheduler(tid) == os.SCHED_BATCH
    except (AttributeError, OSError):
        return False


def _batch_thread(tid: int) -> bool:
    """Put thread ``tid`` under ``SCHED_BATCH`` (niceness kept); False where not possible."""
    batch = getattr(os, 'SCHED_BATCH', None)
    if batch is None or not hasattr(os, 'sched_setscheduler'):
        return False
    try:
        os.sched_setscheduler(tid, batch, os.sched_param(0))
    except OSError:
        return False
    return True


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


def spin_in_thread(executor, slice_s: float = 0.1):
    """Spin ``executor`` in a daemon thread, in slices; return a function that stops it.

    Slices (``spin_once`` with a timeout) rather than ``spin()``: rclpy 9.1's
    EventsExecutor does not let other Python threads run while ``spin()`` waits,
    so the calling thread would stall; ``spin_once`` does.
    """
    import threading

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                executor.spin_once(timeout_sec=slice_s)
            except Exception:  # noqa: BLE001 - the context was shut down under it
                if stop.is_set():
                    return
                raise

    thread = threading.Thread(target=loop, name='spinner', daemon=True)
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=max(2.0, 10 * slice_s))
    return stopper
