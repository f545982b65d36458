# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What FFmpeg and OpenCV write to standard error, passed on to the node's log.

FFmpeg (through OpenCV's video backend) and OpenCV's own logging write their
messages, such as ``[mov,mp4,m4a,3gp,3g2,mj2 @ 0x...] moov atom not found``
or ``[ WARN:0@0.1] global cap.cpp:212 open VIDEOIO(FFMPEG): ...``, straight to
the process's file descriptor 2, from C++; OpenCV offers no callback to catch
them (``cv2.utils.logging`` only sets OpenCV's own level, FFmpeg's level is
only an environment variable).  So they never reach ``/rosout`` and the
tracker's log file.

:class:`NativeStderr` puts a pipe in place of file descriptor 2 and reads it
in a thread: every byte still goes on to the original standard error at once
(the console and launch's output look as before), and each line that is not
the node's own console output (a ROS log line) is handed to ``emit``, at most
``max_lines`` per ``window_s`` with a count of those left out.  Python's fatal
error dumps (``faulthandler``) are pointed at the original standard error, so
a crash report never waits in the pipe.
"""

import faulthandler
import os
import re
import threading
import time
from typing import Callable, Optional

#: A line the ROS console wrote (rcutils' default format), after any colour codes.
_ROS_LINE = re.compile(r'^\[(DEBUG|INFO|WARN|ERROR|FATAL)\] \[\d+(\.\d+)?\] \[')
_ANSI = re.compile(r'\x1b\[[0-9;]*m')

#: Marks the lines this module logs, so they are never taken up again whatever the format.
PREFIX = 'native stderr: '

_MAX_LINE = 2000


class NativeStderr:
    """Forward native standard-error lines to ``emit(line)`` (see the module text)."""

    def __init__(self, emit: Callable[[str], None], max_lines: int = 20,
                 window_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        """Set the callback and the rate limit; nothing is redirected before :meth:`start`."""
        self._emit = emit
        self._max_lines = max_lines
        self._window_s = window_s
        self._clock = clock
        self._original: Optional[int] = None
        self._read_fd: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._window_start = 0.0
        self._in_window = 0
        self.lines_forwarded = 0
        self.lines_left_out = 0
        self._left_out_window = 0

    def start(self) -> bool:
        """Redirect file descriptor 2 through the pipe; False (and nothing changed) on error."""
        if self._thread is not None:
            return True
        try:
            original = os.dup(2)
            read_fd, write_fd = os.pipe()
        except OSError:
            return False
        try:
            os.dup2(write_fd, 2)
        except OSError:
            for fd in (original, read_fd, write_fd):
                os.close(fd)
            return False
        os.close(write_fd)
        self._original, self._read_fd = original, read_fd
        try:
            faulthandler.enable(file=os.fdopen(os.dup(original), 'w'), all_threads=True)
        except (OSError, RuntimeError, ValueError):
            pass
        self._thread = threading.Thread(target=self._run, name='native_stderr', daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Put the original standard error back; the thread ends when the pipe is drained."""
        if self._original is None:
            return
        try:
            os.dup2(self._original, 2)  # closes the pipe's last write end: the reader ends
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        os.close(self._original)
        self._original = None
        self._thread = None

    def _run(self) -> None:
        pending = b''
        while True:
            try:
                data = os.read(self._read_fd, 65536)
            except OSError:
                break
            if not data:
                break
            try:
                os.write(self._original, data)
            except (OSError, TypeError):
                pass
            pending += data
            *lines, pending = pending.split(b'\n')
            if len(pending) > _MAX_LINE:
                lines.append(pending)
                pending = b''
            for raw in lines:
                self._line(raw.decode('utf-8', 'replace'))
        os.close(self._read_fd)
        self._read_fd = None

    def _line(self, text: str) -> None:
        text = _ANSI.sub('', text).rstrip()[:_MAX_LINE]
        if not text.strip() or PREFIX in text or _ROS_LINE.match(text):
            return
        now = self._clock()
        if now - self._window_start >= self._window_s:
            if self._left_out_window:
                self._safe_emit(f'{PREFIX}({self._left_out_window} more lines left out of the '
                                f'log in {self._window_s:.0f} s)')
            self._window_start, self._in_window, self._left_out_window = now, 0, 0
        if self._in_window >= self._max_lines:
            self._left_out_window += 1
            self.lines_left_out += 1
            return
        self._in_window += 1
        self.lines_forwarded += 1
        self._safe_emit(PREFIX + text)

    def _safe_emit(self, text: str) -> None:
        try:
            self._emit(text)
        except Exception:  # noqa: BLE001 - a logging failure must not end the reader
            pass
