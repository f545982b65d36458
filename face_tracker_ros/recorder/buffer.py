# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A ring buffer of serialized messages bounded by a time window and a byte budget.

Each entry is a :class:`Record`: topic, type name, timestamp in nanoseconds
and the serialized (CDR) bytes exactly as they came off the wire.  The buffer
keeps the records whose timestamp lies within ``window_s`` of the newest one
and, within that, at most ``max_bytes`` (payload plus a fixed per-record
overhead); it drops the oldest records first.  It is thread-safe: a node adds
from its executor while a writer thread takes snapshots.
"""

from collections import deque
import math
import threading
from typing import Deque, List, NamedTuple, Optional

from face_tracker_ros.common.checks import check_int, check_positive

#: Bytes of Python bookkeeping counted per record on top of its payload (the tuple, the
#: integer timestamp, the bytes object header and the deque slot; measured with tracemalloc).
RECORD_OVERHEAD_BYTES = 160


class Record(NamedTuple):
    """One serialized message as received."""

    topic: str
    type_name: str
    timestamp_ns: int
    data: bytes


class RingBuffer:
    """The most recent messages, at most ``window_s`` seconds and ``max_bytes`` bytes."""

    def __init__(self, window_s: float, max_bytes: int):
        """Create an empty buffer; raise ValueError for a non-positive window or budget."""
        self.window_ns = int(check_positive('window_s', window_s, unit='seconds') * 1e9)
        self.max_bytes = check_int('max_bytes', max_bytes, low=1)
        self._records: Deque[Record] = deque()
        self._bytes = 0
        self._newest_ns: Optional[int] = None
        self._lock = threading.Lock()
        #: Records dropped because they left the time window.
        self.dropped_window = 0
        #: Records dropped (oldest first) to stay within the byte budget.
        self.dropped_budget = 0
        #: Records refused: malformed, or larger than the whole budget on their own.
        self.rejected = 0
        #: Records discarded because the clock jumped backwards by more than the window.
        self.dropped_clock_jump = 0

    @staticmethod
    def cost(data_len: int) -> int:
        """Return the bytes a record with a payload of ``data_len`` bytes counts against."""
        return data_len + RECORD_OVERHEAD_BYTES

    def add(self, topic: str, type_name: str, timestamp_ns: int, data) -> bool:
        """Add a message; return False (and count it) when it is malformed or too large.

        Never raises on bad input.  ``data`` may be ``bytes``, ``bytearray`` or
        ``memoryview``.  A timestamp older than the window start means the clock
        went backwards (a restarted simulation clock): the buffer starts over.
        """
        if not isinstance(topic, str) or not isinstance(type_name, str) or not topic or \
                not type_name or not isinstance(timestamp_ns, int) or \
                isinstance(timestamp_ns, bool) or timestamp_ns < 0:
            self.rejected += 1
            return False
        if not isinstance(data, bytes):
            if not isinstance(data, (bytearray, memoryview)):
                self.rejected += 1
                return False
            data = bytes(data)
        cost = self.cost(len(data))
        if cost > self.max_bytes:
            self.rejected += 1
            return False
        with self._lock:
            if self._newest_ns is not None and timestamp_ns < self._newest_ns - self.window_ns:
                self.dropped_clock_jump += len(self._records)
                self._records.clear()
                self._bytes = 0
                self._newest_ns = None
            self._records.append(Record(topic, type_name, timestamp_ns, data))
            self._bytes += cost
            if self._newest_ns is None or timestamp_ns > self._newest_ns:
                self._newest_ns = timestamp_ns
            start = self._newest_ns - self.window_ns
            while self._records and self._records[0].timestamp_ns < start:
                self._pop_oldest()
                self.dropped_window += 1
            while self._bytes > self.max_bytes:
                self._pop_oldest()
                self.dropped_budget += 1
        return True

    def _pop_oldest(self) -> None:
        old = self._records.popleft()
        self._bytes -= self.cost(len(old.data))

    def snapshot(self, start_ns: Optional[int] = None,
                 end_ns: Optional[int] = None) -> List[Record]:
        """Return the records with ``start_ns <= timestamp_ns <= end_ns``, oldest first.

        Either bound may be None (open).  The buffer is not changed; the records
        are immutable, so the list can be written out while recording goes on.
        """
        with self._lock:
            records = list(self._records)
        if start_ns is not None or end_ns is not None:
            low = -1 if start_ns is None else start_ns
            high = math.inf if end_ns is None else end_ns
            records = [r for r in records if low <= r.timestamp_ns <= high]
        records.sort(key=lambda r: r.timestamp_ns)
        return records

    def clear(self) -> None:
        """Drop everything (the counters are kept)."""
        with self._lock:
            self._records.clear()
            self._bytes = 0
            self._newest_ns = None

    def __len__(self) -> int:
        """Return the number of records held."""
        return len(self._records)

    @property
    def bytes_used(self) -> int:
        """Bytes counted against the budget (payload plus per-record overhead)."""
        return self._bytes

    @property
    def span_s(self) -> float:
        """Seconds between the oldest and the newest record held (0 when empty)."""
        with self._lock:
            if not self._records:
                return 0.0
            oldest = min(self._records[0].timestamp_ns, self._records[-1].timestamp_ns)
            return max(0, self._newest_ns - oldest) / 1e9

    def topic_counts(self) -> dict:
        """Return ``{topic: number of records held}``."""
        with self._lock:
            records = list(self._records)
        counts: dict = {}
        for record in records:
            counts[record.topic] = counts.get(record.topic, 0) + 1
        return counts
