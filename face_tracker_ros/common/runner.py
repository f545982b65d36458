# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ``main()`` every node shares: spin, exit 0 on Ctrl-C, non-zero with a reason.

rclpy's own signal handlers shut the context down the moment Ctrl-C arrives,
before the node can stop its threads, park its servos or log a last line.  So
the runner's own handler for SIGINT and SIGTERM only sets a flag (an exception
raised at an arbitrary point could land inside rclpy's message conversion);
the main thread spins in short slices, sees the flag, and shuts the node down
in order while the context is still valid: node clean-up, node destruction,
context shutdown.  SIGHUP (a closed terminal, an ssh session ending) gets the
same orderly stop.  A second signal within :data:`DUPLICATE_SIGNAL_S` of the
first is the same request delivered twice (under ``ros2 launch`` a Ctrl-C
reaches every node from the terminal and then again from launch) and is
ignored; a later one, while the node has still not begun to stop, interrupts
at once with one line.

Start-up.  ``rclpy.init`` parses the ``--ros-args`` (``-p``, ``--params-file``,
``--log-level``) and sets up logging in ``$ROS_LOG_DIR`` or ``~/.ros/log``:
each of its failures is a configuration error (exit 2, one line saying what is
wrong, no traceback, not restarted by the bring-up), as are invalid names and
parameter overrides found while the node is built.

Parent.  A node started by ``ros2 launch`` or the standalone runner ends with
it: the runner asks Linux for SIGTERM when the parent dies
(``PR_SET_PDEATHSIG``) and then checks that the parent is still the original
one (it may have died before the request), so a killed launch leaves no node
behind driving the servos; the SIGTERM is the orderly stop (the servo parks).
A node can end itself with :func:`request_exit` (one line, no traceback).
"""

import ctypes
import os
import re
import signal
import sys
import threading
import time
import traceback
from typing import Callable, List, Optional

from face_tracker_ros.common.params import ParameterError
from face_tracker_ros.interface import PARENT_PID_ENV

#: Exit status of a node stopped by a bad parameter (not worth respawning as is).
EXIT_BAD_PARAMETER = 2
#: Exit status of a node that hit a fatal error it cannot recover from.
EXIT_FATAL = 1


#: How often nodes without frame-sized buffers give free heap pages back to the kernel.
TRIM_PERIOD_S = 60.0

#: Longest time a signal waits to be noticed by the spinning main thread.
SPIN_SLICE_S = 0.2


#: Signals that stop a node in order: Ctrl-C, a plain kill, a hang-up of its terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: A second stop signal this soon after the first is the same request delivered twice.
DUPLICATE_SIGNAL_S = 1.0

#: Longest time the release of the node and of the middleware may take once the node's own
#: clean-up (parking the servos, closing devices) is done.  A teardown that blocks (seen once
#: in the servo process under launch_testing, every node stopping at the same moment) would
#: otherwise hold the process until launch's SIGKILL: stop signals are ignored by then.
RELEASE_LIMIT_S = 3.0

#: ``prctl`` option that asks for a signal when the parent process dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1

_STOP = threading.Event()
_FIRST_SIGNAL: List[tuple] = []   # (signal number, monotonic time) of the first stop signal
_EXIT_REQUEST: List[tuple] = []   # (status, message) from request_exit()

#: The parent at import time: the fallback when the bring-up did not name it.
_PARENT_AT_IMPORT = os.getppid()


def _interrupt(signum, frame):
    now = time.monotonic()
    if not _FIRST_SIGNAL:
        _FIRST_SIGNAL.append((signum, now))
        _STOP.set()
        return
    if now - _FIRST_SIGNAL[0][1] < DUPLICATE_SIGNAL_S:
        return  # the same stop request delivered twice (terminal and launch)
    sys.stderr.write(f'[WARN] {signal.Signals(signum).name} again while the node had not yet '
                     'stopped: stopping at once\n')
    raise KeyboardInterrupt


def request_exit(message: str, status: int = 1) -> None:
    """End the node in order with ``status``; ``message`` becomes its one last line (FATAL).

    Safe from any thread: the spinning main thread notices within
    :data:`SPIN_SLICE_S` and shuts the node down as on SIGTERM.  Use it for an
    expected end (a camera giving up after ``max_recovery_s``) instead of
    raising from a callback, which the executor would log with a traceback.
    """
    if not _EXIT_REQUEST:
        _EXIT_REQUEST.append((int(status), str(message)))
    _STOP.set()


def die_with_parent(environ=None, prctl=None, getppid=os.getppid) -> Optional[str]:
    """Ask for SIGTERM when the parent dies; return why to exit now if it already has, else None.

    The expected parent is ``$FACE_TRACKER_PARENT_PID`` when the bring-up set
    it, else the parent this process had when the runner was imported.
    ``prctl`` is for tests; by default the C library's.  Where ``prctl`` is
    unavailable (not Linux) only the parent check is made.
    """
    environ = os.environ if environ is None else environ
    try:
        expected = int(environ.get(PARENT_PID_ENV, '') or _PARENT_AT_IMPORT)
    except ValueError:
        expected = _PARENT_AT_IMPORT
    if prctl is None:
        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    if prctl is not None:
        try:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except Exception:  # noqa: BLE001 - without it the parent check below still holds
            pass
    parent = getppid()
    if parent != expected:
        return (f'parent process {expected} is gone (now {parent}) before the node started; '
                'exiting')
    return None


def describe_start_error(exc: BaseException, environ=None) -> str:
    """Return one line for a failure of ``rclpy.init`` (arguments, parameters file, logging).

    rcl's text loses its source locations (``, at /path/file.c:123``) and line
    breaks; a logging failure says which directory to fix.
    """
    environ = os.environ if environ is None else environ
    text = re.sub(r',? at /\S+:\d+', '', str(exc))
    text = ' '.join(text.split()).rstrip(',. ')
    if 'logging' in text:
        where = environ.get('ROS_LOG_DIR') or (
            f"{environ['ROS_HOME']}/log" if environ.get('ROS_HOME') else
            f"{environ['HOME']}/.ros/log" if environ.get('HOME') else '')
        text += (f' (the ROS log directory {where} must be a writable directory, or set '
                 'ROS_LOG_DIR to one)' if where else
                 ' (HOME is not set: set HOME, or ROS_LOG_DIR to a writable directory)')
    return text or type(exc).__name__


class FatalError(RuntimeError):
    """An error the node cannot recover from; it exits non-zero so launch respawns it."""


def run(node_factory: Callable[[], object], args: Optional[List[str]] = None,
        name: str = 'node', tune_malloc: bool = False, background: bool = False) -> int:
    """Create the node, spin it until shutdown and return the process exit status.

    ``tune_malloc`` (nodes that move camera frames) raises glibc's allocator
    thresholds first (:func:`face_tracker_ros.common.process.tune_allocator`);
    ``background`` (nodes that watch rather than track) lowers the process's
    CPU priority once the node has been created, if the user opted in
    (:func:`face_tracker_ros.common.process.background_priority`).
    """
    import rclpy
    from rclpy.exceptions import NameValidationException, ParameterException
    from rclpy.executors import ExternalShutdownException
    from rclpy.signals import SignalHandlerOptions

    from face_tracker_ros.common.process import (
        background_priority,
        executor_choice,
        make_executor,
        release_free_memory,
        tune_allocator,
    )

    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    orphan = die_with_parent()
    if orphan is not None:
        _say('warn', name, orphan)
        return 0
    # Before the first frame-sized buffer exists; other nodes keep glibc's defaults, which
    # hand memory back to the kernel sooner.
    allocator = tune_allocator() if tune_malloc else 'allocator left as is'
    priority = 'normal priority'
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - every failure here is the arguments or environment
        _say('fatal', name, f'invalid configuration: {describe_start_error(exc)}')
        try:
            rclpy.try_shutdown()
        except Exception:  # noqa: BLE001 - nothing more to release
            pass
        return EXIT_BAD_PARAMETER
    node = None
    status = 0
    try:
        try:
            executor, executor_name = make_executor(executor_choice())
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        if _STOP.is_set():
            raise KeyboardInterrupt  # stopped before the node existed
        try:
            node = node_factory()
        except (NameValidationException, ParameterException) as exc:
            raise ParameterError(' '.join(str(exc).split())) from None
        if background:
            # Once the node exists: a background node still starts up at full speed, so the
            # parts others wait for (the simulated controller's port) appear as they did.
            priority = background_priority()
        if not tune_malloc:
            node.create_timer(TRIM_PERIOD_S, release_free_memory)
        executor.add_node(node)
        node.get_logger().info(f'{executor_name} executor; {allocator}; {priority}')
        while rclpy.ok() and not _STOP.is_set():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
        if _EXIT_REQUEST:
            status, message = _EXIT_REQUEST[0]
            _log_fatal(node, name, message)
    except (KeyboardInterrupt, ExternalShutdownException):
        status = 0
    except ParameterError as exc:
        _log_fatal(node, name, f'invalid parameter: {exc}')
        status = EXIT_BAD_PARAMETER
    except FatalError as exc:
        _log_fatal(node, name, f'fatal: {exc}')
        status = EXIT_FATAL
    except Exception as exc:  # noqa: BLE001 - the last line must say why the node ended
        if _STOP.is_set():
            status = 0  # an error while stopping on request is not a failure
        else:
            _log_fatal(node, name, f'fatal: unexpected {type(exc).__name__}: {exc}\n'
                       + traceback.format_exc())
            status = EXIT_FATAL
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        if node is not None and _FIRST_SIGNAL and not _EXIT_REQUEST:
            node.get_logger().info(
                f'{signal.Signals(_FIRST_SIGNAL[0][0]).name} received: stopping')
        if node is not None:
            try:
                getattr(node, 'shutdown', lambda: None)()
            except Exception:  # noqa: BLE001 - best effort while exiting
                node.get_logger().error('clean-up failed:\n' + traceback.format_exc())
        _limit_release(name, status)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return status


def _limit_release(name: str, status: int, limit_s: float = RELEASE_LIMIT_S) -> None:
    """End the process with ``status`` if releasing the node and rclpy outlasts ``limit_s``.

    A daemon timer: it dies with a process that exits in time.  What needed
    doing (parking, closing devices, the last log lines) is done before it
    starts; only the release of DDS resources can be cut short.
    """
    def give_up():
        _say('warn', name, f'releasing the node took longer than {limit_s:g} s: exiting now')
        os._exit(status)

    timer = threading.Timer(limit_s, give_up)
    timer.daemon = True
    timer.start()


def log_at(logger, level, message: str) -> None:
    """Log ``message`` at a level given by name ('info', 'warning', 'error') or number (0-2).

    rclpy refuses to log from one call site at different severities, so each
    severity has its own call here.
    """
    if level in ('error', 'fatal', 2, 3):
        logger.error(message)
    elif level in ('warning', 'warn', 1):
        logger.warning(message)
    elif level == 'debug':
        logger.debug(message)
    else:
        logger.info(message)


def publish_from_thread(node, publisher, msg) -> bool:
    """Publish from a worker thread; quietly skip once the node's context is shut down.

    Ctrl-C shuts the rclpy context down before the node's threads are stopped,
    so a frame in flight at that moment must not turn into an error report.
    """
    if not node.context.ok():
        return False
    try:
        publisher.publish(msg)
    except Exception:  # noqa: BLE001 - publishing races with shutdown
        if not node.context.ok():
            return False
        raise
    return True


def _log_fatal(node, name: str, message: str) -> None:
    if node is not None:
        node.get_logger().fatal(message)
    else:
        import rclpy.logging
        rclpy.logging.get_logger(name).fatal(message)
    sys.stderr.flush()


def _say(level: str, name: str, message: str) -> None:
    """Write one line to stderr, as ROS's console would, where rclpy logging is not set up."""
    sys.stderr.write(f'[{level.upper()}] [{name}]: {message}\n')
    sys.stderr.flush()


def main_for(node_factory: Callable[[], object], name: str, tune_malloc: bool = False,
             background: bool = False) -> None:
    """Entry point helper: ``sys.exit(run(...))`` with the process arguments."""
    sys.exit(run(node_factory, sys.argv, name, tune_malloc=tune_malloc, background=background))
