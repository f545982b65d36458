# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Per-process settings of the nodes: the allocator, the executor, a background priority.

Allocator (on in the camera and detector).  A 640x480 bgr8 frame is 900 KB; glibc's
``malloc`` serves blocks that large with a fresh ``mmap`` and hands them back when freed,
so every frame's buffers are new pages.  :func:`tune_allocator` raises ``M_MMAP_THRESHOLD``
to 16 MiB and ``M_TRIM_THRESHOLD`` to 32 MiB with ``mallopt`` so they are reused from the
heap.  Same run of the transport benchmark (``make bench``, the nodes' image path with and
without it, 300 frames at 30 Hz): 418 minor page faults per frame in the publisher and 644
in the subscriber without, under 1 with; latency p50 5.19 against 1.54 ms.  The cost is
memory that stays with the process after a burst, bounded by its peak.  Skipped where the
C library is not glibc, with ``FACE_TRACKER_TUNE_MALLOC=0``, and when the standard
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` variables are set.

Executor.  :func:`make_executor` picks rclpy's ``EventsExecutor`` where it exists
(``rclpy.experimental``, Kilted and later; ``auto``), else the ``SingleThreadedExecutor``;
``FACE_TRACKER_EXECUTOR=single`` chooses the latter.  Both run every callback of a node in
the one thread that spins, which the nodes rely on.  In the same transport run: p50 1.54
against 1.91 ms, p99 11.3 against 14.1 ms (a loaded machine: within the spread of repeated
runs, 1.54-1.75 against 1.54-3.41 ms).

Background priority (opt-in, :func:`background_priority`): see there for the figures.
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


#: Niceness of the threads :func:`lower_priority` lowers when no value is given.
BACKGROUND_NICE = 10
NICE_ENV = 'FACE_TRACKER_BACKGROUND_NICE'
AUTOGROUP_FILE = '/proc/self/autogroup'


def background_priority(environ: Optional[Mapping[str, str]] = None) -> str:
    """Lower a background node's priority if ``FACE_TRACKER_BACKGROUND_NICE`` asks; say what.

    Opt-in: unset (or 0), the node keeps the normal priority.  The figure behind it, from
    the pipeline benchmark (three alternating rounds each, in one run): with the session's
    autogroup niceness set the latency ratio was 1.48-1.61 (mean 1.53) against 1.59-1.69
    (mean 1.65) at normal priority; niceness alone made no measurable difference, and
    ``SCHED_BATCH`` on every thread changed the p50 by less than the spread between runs
    (so it is not used).  Lowered, the simulated controller also answered the servo node
    late beside other work (see bench/budget.py).
    """
    environ = os.environ if environ is None else environ
    if not environ.get(NICE_ENV, '').strip():
        return 'normal priority'
    return lower_priority(environ)


def lower_priority(environ: Optional[Mapping[str, str]] = None, nice=None,
                   autogroup: Optional[str] = None,
                   threads: Optional[Iterable[int]] = None) -> str:
    """Raise the niceness of this process's threads (a background node's); say what was done.

    The niceness is ``FACE_TRACKER_BACKGROUND_NICE`` (0 keeps the priority), else
    :data:`BACKGROUND_NICE`.  It is set on every thread: on Linux niceness belongs to a
    thread, and a node's middleware threads exist before this is called; threads started
    later inherit it.  A thread already lowered is left as it is, so a second call lowers
    only the threads started since.  Where the kernel groups processes by session for
    scheduling (autogroup), niceness only orders a thread against its own session, so a
    session leader (the standalone runner starts each node in a session of its own) also
    sets its session's autogroup niceness (``/proc/self/autogroup``); a process in a shared
    session leaves it alone, since that would lower the whole session.

    ``threads`` are the thread ids (default: every thread of this process);
    ``nice(tid, increment)`` and ``autogroup`` (the autogroup file) are for tests.
    Never raises.
    """
    environ = os.environ if environ is None else environ
    nice = nice or _renice_thread
    text = environ.get(NICE_ENV, str(BACKGROUND_NICE)).strip()
    try:
        value = int(text)
    except ValueError:
        return f'priority left as is ({NICE_ENV}={text!r} is not an integer)'
    if not 0 <= value <= 19:
        return f'priority left as is ({NICE_ENV}={value} is not in 0..19)'
    if value == 0:
        return 'priority left as is'
    lowered = min(19, _base_niceness() + value)
    own = thread_ids()
    tids = [tid for tid in (own if threads is None else threads)
            if tid not in own or _niceness(tid) < lowered]
    if not tids:
        return 'priority left as is (every thread already lowered)'
    reniced = 0
    error = ''
    for tid in tids:
        try:
            nice(tid, value)
            reniced += 1
        except OSError as exc:  # the thread ended meanwhile, or not allowed
            error = str(exc)
    if not reniced:
        return f'priority left as is (nice failed: {error or "no thread"})'
    done = f'niceness +{value} (background node, {reniced} thread{"s" if reniced != 1 else ""})'
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


_BASE_NICE: List[int] = []


def _base_niceness() -> int:
    """Return the niceness this process had when it first lowered a thread."""
    if not _BASE_NICE:
        _BASE_NICE.append(os.getpriority(os.PRIO_PROCESS, 0))
    return _BASE_NICE[0]


def _niceness(tid: int) -> int:
    """Return thread ``tid``'s niceness (-20 when unknown: not lowered)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return -20


def _renice_thread(tid: int, increment: int) -> None:
    """Add ``increment`` to thread ``tid``'s niceness (at most 19); OSError if refused."""
    current = os.getpriority(os.PRIO_PROCESS, tid)
    os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))


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
