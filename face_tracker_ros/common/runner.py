# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ``main()`` every node shares: spin, exit 0 on Ctrl-C, non-zero with a reason.

rclpy's own signal handlers shut the context down the moment Ctrl-C arrives,
before the node can stop its threads, park its servos or log a last line.  So
the runner's own handler for SIGINT and SIGTERM only sets a flag (an exception
raised at an arbitrary point could land inside rclpy's message conversion);
the main thread spins in short slices, sees the flag, and shuts the node down
in order while the context is still valid: node clean-up, node destruction,
context shutdown.  A second signal interrupts at once.
"""

import signal
import sys
import threading
import traceback
from typing import Callable, List, Optional

from face_tracker_ros.common.params import ParameterError

#: Exit status of a node stopped by a bad parameter (not worth respawning as is).
EXIT_BAD_PARAMETER = 2
#: Exit status of a node that hit a fatal error it cannot recover from.
EXIT_FATAL = 1


#: How often nodes without frame-sized buffers give free heap pages back to the kernel.
TRIM_PERIOD_S = 60.0

#: Longest time a signal waits to be noticed by the spinning main thread.
SPIN_SLICE_S = 0.2


_STOP = threading.Event()


def _interrupt(signum, frame):
    if _STOP.is_set():
        raise KeyboardInterrupt  # a second Ctrl-C: stop now
    _STOP.set()


class FatalError(RuntimeError):
    """An error the node cannot recover from; it exits non-zero so launch respawns it."""


def run(node_factory: Callable[[], object], args: Optional[List[str]] = None,
        name: str = 'node', tune_malloc: bool = False, background: bool = False) -> int:
    """Create the node, spin it until shutdown and return the process exit status.

    ``tune_malloc`` (nodes that move camera frames) raises glibc's allocator
    thresholds first (:func:`face_tracker_ros.common.process.tune_allocator`);
    ``background`` (nodes that watch rather than track) lowers the process's
    CPU priority (:func:`face_tracker_ros.common.process.lower_priority`) once
    the node has been created.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.signals import SignalHandlerOptions

    from face_tracker_ros.common.process import (
        executor_choice,
        lower_priority,
        make_executor,
        release_free_memory,
        tune_allocator,
    )

    # Before the first frame-sized buffer exists; other nodes keep glibc's defaults, which
    # hand memory back to the kernel sooner.
    allocator = tune_allocator() if tune_malloc else 'allocator left as is'
    priority = 'normal priority'
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node = None
    status = 0
    try:
        try:
            executor, executor_name = make_executor(executor_choice())
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        node = node_factory()
        if background:
            # Once the node exists: a background node still starts up at full speed, so the
            # parts others wait for (the simulated controller's port) appear as they did.
            priority = lower_priority()
        if not tune_malloc:
            node.create_timer(TRIM_PERIOD_S, release_free_memory)
        executor.add_node(node)
        node.get_logger().info(f'{executor_name} executor; {allocator}; {priority}')
        while rclpy.ok() and not _STOP.is_set():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
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
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if node is not None:
            try:
                getattr(node, 'shutdown', lambda: None)()
            except Exception:  # noqa: BLE001 - best effort while exiting
                node.get_logger().error('clean-up failed:\n' + traceback.format_exc())
            node.destroy_node()
        rclpy.try_shutdown()
    return status


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


def main_for(node_factory: Callable[[], object], name: str, tune_malloc: bool = False,
             background: bool = False) -> None:
    """Entry point helper: ``sys.exit(run(...))`` with the process arguments."""
    sys.exit(run(node_factory, sys.argv, name, tune_malloc=tune_malloc, background=background))
