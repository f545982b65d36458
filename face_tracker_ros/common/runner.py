# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ``main()`` every node shares: spin, exit 0 on Ctrl-C, non-zero with a reason."""

import sys
import traceback
from typing import Callable, List, Optional

from face_tracker_ros.common.params import ParameterError

#: Exit status of a node stopped by a bad parameter (not worth respawning as is).
EXIT_BAD_PARAMETER = 2
#: Exit status of a node that hit a fatal error it cannot recover from.
EXIT_FATAL = 1


class FatalError(RuntimeError):
    """An error the node cannot recover from; it exits non-zero so launch respawns it."""


def run(node_factory: Callable[[], object], args: Optional[List[str]] = None,
        name: str = 'node') -> int:
    """Create the node, spin it until shutdown and return the process exit status."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    status = 0
    try:
        node = node_factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        status = 0
    except ParameterError as exc:
        _log_fatal(node, name, f'invalid parameter: {exc}')
        status = EXIT_BAD_PARAMETER
    except FatalError as exc:
        _log_fatal(node, name, f'fatal: {exc}')
        status = EXIT_FATAL
    except Exception as exc:  # noqa: BLE001 - the last line must say why the node ended
        _log_fatal(node, name, f'fatal: unexpected {type(exc).__name__}: {exc}\n'
                   + traceback.format_exc())
        status = EXIT_FATAL
    finally:
        if node is not None:
            try:
                getattr(node, 'shutdown', lambda: None)()
            except Exception:  # noqa: BLE001 - best effort while exiting
                pass
            node.destroy_node()
        rclpy.try_shutdown()
    return status


def _log_fatal(node, name: str, message: str) -> None:
    if node is not None:
        node.get_logger().fatal(message)
    else:
        import rclpy.logging
        rclpy.logging.get_logger(name).fatal(message)
    sys.stderr.flush()


def main_for(node_factory: Callable[[], object], name: str) -> None:
    """Entry point helper: ``sys.exit(run(...))`` with the process arguments."""
    sys.exit(run(node_factory, sys.argv, name))
