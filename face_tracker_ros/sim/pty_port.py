# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated controller's port: a raw pseudo-terminal linked at a stable path; a wake-up."""

import os
import select
import time
import tty
from typing import List, Optional, Tuple


def open_pty(link_path: Optional[str]) -> Tuple[int, int, str]:
    """Open a raw pty; return ``(master, slave, slave name)``, linked at ``link_path`` if given.

    The master is non-blocking.  Raises OSError when the pty or the link cannot be
    made, FileExistsError when ``link_path`` exists and is not a symlink.
    """
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        os.set_blocking(master, False)
        slave_name = os.ttyname(slave)
        if link_path:
            replace_link(link_path, slave_name)
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave, slave_name


def close_pty(master: Optional[int], slave: Optional[int], slave_name: str,
              link_path: Optional[str]) -> None:
    """Close the pty's descriptors and remove ``link_path`` if it still points at it."""
    if link_path and slave_name:
        try:
            if os.path.islink(link_path) and os.readlink(link_path) == slave_name:
                os.unlink(link_path)
        except OSError:
            pass
    for fd in (master, slave):
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def replace_link(link_path: str, target: str) -> None:
    """Point the symlink ``link_path`` at ``target``, replacing a stale link atomically."""
    if os.path.lexists(link_path) and not os.path.islink(link_path):
        raise FileExistsError('link_path {!r} exists and is not a symlink; '
                              'refusing to replace it'.format(link_path))
    parent = os.path.dirname(os.path.abspath(link_path))
    os.makedirs(parent, exist_ok=True)
    temporary = '{}.{}.tmp'.format(link_path, os.getpid())
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(target, temporary)
    os.replace(temporary, link_path)


class WakePipe:
    """A non-blocking pipe that ends a :meth:`wait` early from another thread (:meth:`wake`)."""

    def __init__(self) -> None:
        """Open the pipe (OSError when it cannot be made)."""
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def wake(self) -> None:
        """End the current or the next :meth:`wait` now."""
        try:
            os.write(self._write, b'x')
        except OSError:  # the pipe is full (already woken) or closed
            pass

    def wait(self, fds: List[int], until: float) -> Optional[bool]:
        """Wait until ``until`` (monotonic) or a wake-up; return whether an fd is readable.

        None when ``select`` failed (a descriptor closed meanwhile).
        """
        timeout = max(0.0, until - time.monotonic())
        try:
            ready, _, _ = select.select(fds + [self._read], [], [], timeout)
        except (OSError, ValueError):
            return None
        if self._read in ready:
            try:
                os.read(self._read, 4096)
            except OSError:
                pass
        return any(fd in ready for fd in fds)

    def close(self) -> None:
        """Close both ends (idempotent)."""
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
