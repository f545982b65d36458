# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Running one probe in a thread with a timeout: its failures and hangs become its result."""

from dataclasses import dataclass, field
import threading
import time
import traceback
from typing import Any, Callable, Dict


@dataclass
class SectionResult:
    """The outcome of one probe: ``status`` is ok, error, timeout or skipped."""

    name: str
    title: str
    status: str
    duration_s: float
    data: dict = field(default_factory=dict)
    error: str = ''

    def as_dict(self) -> dict:
        """Return the JSON form of this section."""
        return {'title': self.title, 'status': self.status, 'duration_s': self.duration_s,
                'error': self.error or None, 'data': self.data}


class ProbeRun:
    """One probe running in a daemon thread, so a hung probe can be abandoned."""

    def __init__(self, name: str, title: str, probe: Callable[[], dict]):
        """Prepare (not start) the probe."""
        self.name = name
        self.title = title
        self._probe = probe
        self._box: Dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name=f'diagnose-{name}',
                                        daemon=True)
        self._start = 0.0

    def _run(self) -> None:
        try:
            self._box['data'] = self._probe()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes the section's error
            self._box['error'] = f'{type(exc).__name__}: {exc}'
            self._box['traceback'] = traceback.format_exc(limit=6).splitlines()

    def start(self) -> 'ProbeRun':
        """Start the probe's thread."""
        self._start = time.monotonic()
        self._thread.start()
        return self

    def result(self, timeout_s: float) -> SectionResult:
        """Wait up to ``timeout_s`` for the probe; a probe still running is a timeout."""
        self._thread.join(max(0.0, timeout_s))
        elapsed = round(time.monotonic() - self._start, 2)
        if self._thread.is_alive():
            return SectionResult(self.name, self.title, 'timeout', elapsed,
                                 error=f'probe did not finish within {elapsed:.1f} s')
        if 'error' in self._box:
            return SectionResult(self.name, self.title, 'error', elapsed,
                                 data={'traceback': self._box.get('traceback', [])},
                                 error=self._box['error'])
        data = self._box.get('data')
        if not isinstance(data, dict):
            data = {'value': data}
        return SectionResult(self.name, self.title, 'ok', elapsed, data=data)


def run_probe(name: str, probe: Callable[[], dict], timeout_s: float,
              title: str = '') -> SectionResult:
    """Run ``probe`` with a timeout; its exceptions and hangs become the result's error."""
    return ProbeRun(name, title or name, probe).start().result(timeout_s)
