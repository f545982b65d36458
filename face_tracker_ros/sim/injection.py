# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Run-time fault injection: the commands ``<target>:<kind>:<duration_s>[:<value>]``.

The simulated camera takes ``camera:...`` and the simulated controller
``serial:...`` from ``sim/inject_fault`` (``std_msgs/String``); each node hands
the text to :func:`inject_from_text` with its own target and injection function.
"""

from typing import Callable, Optional


def inject_from_text(text: str, target: str,
                     inject: Callable[[str, float, Optional[float]], object], logger) -> None:
    """Start the fault ``text`` names if it is for ``target``; other targets are ignored.

    ``inject(kind, duration_s, value or None)`` starts it; a command that is
    malformed or refused is one WARN line on ``logger``, an accepted one too.
    """
    prefix, _, rest = text.partition(':')
    if prefix != target:
        return
    try:
        parts = rest.split(':')
        value = float(parts[2]) if len(parts) > 2 else None
        inject(parts[0], float(parts[1]), value)
    except (ValueError, IndexError) as exc:
        logger.warning(f"fault injection '{text}' ignored: {exc}")
        return
    logger.warning(f'injected {target} fault {rest}')
