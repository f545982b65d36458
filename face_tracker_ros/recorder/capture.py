# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder's ROS-free half: buffering, the event thread, bag writing, its status.

:class:`Recorder` keeps the serialized messages the node hands it in a
:class:`~face_tracker_ros.recorder.buffer.RingBuffer` (image topics decimated),
names the bags of new captures and writes each due capture from a worker
thread (the executor is never blocked), then prunes the oldest bags beyond
``max_bags`` / ``max_total_mb``; :meth:`Recorder.report` is the node's
``flight recorder`` status.  :class:`StatusFeed` decodes ``/diagnostics``
messages in a thread of its own (a Ctrl-C in the main thread then never
interrupts a message conversion).  ``logger`` is any object with ``info``,
``warning`` and ``error`` (the node's logger; one severity per call site).
"""

import importlib
from pathlib import Path
import queue
import threading
import time
import traceback
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Set, Tuple

from face_tracker_ros.common.status import OK, WARN
from face_tracker_ros.recorder.bagwriter import (
    BagWriteError,
    MB,
    prune_bags,
    typestore,
    unique_bag_path,
    write_bag,
)
from face_tracker_ros.recorder.buffer import RingBuffer
from face_tracker_ros.recorder.params import FIXED_TYPES, RecorderConfig
from face_tracker_ros.recorder.policy import Capture, TriggerPolicy

#: /diagnostics messages waiting for the event check at most (more are dropped and counted).
EVENT_QUEUE = 1000


def import_message(type_name: str):
    """Return the Python class of ``'<pkg>/msg/<Type>'``; ImportError if it is not installed."""
    package, _, name = type_name.split('/')
    module = importlib.import_module(f'{package}.msg')
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImportError(f'{package}.msg has no message {name}') from None


class StatusFeed:
    """Serialized ``/diagnostics`` messages, decoded and handled in a thread of their own."""

    def __init__(self, decode: Callable[[bytes], Any], handle: Callable[[Any], None], logger,
                 maxsize: int = EVENT_QUEUE):
        """``decode(data)`` deserializes (any exception: malformed), ``handle(msg)`` acts."""
        self.decode = decode
        self.handle = handle
        self.logger = logger
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._stopping = threading.Event()
        self.dropped = 0
        self.malformed = 0
        self._thread = threading.Thread(target=self._run, name='flight_recorder_events',
                                        daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def put(self, data) -> None:
        """Queue one message; count it as dropped when the queue is full."""
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if data is None or self._stopping.is_set():
                return
            try:
                self._one(data)
            except Exception:  # noqa: BLE001 - the watcher must outlive any one message
                self.logger.error('flight recorder: event check failed:\n'
                                  + traceback.format_exc())

    def _one(self, data) -> None:
        try:
            msg = self.decode(data)
        except Exception:  # noqa: BLE001 - a malformed message is counted, never fatal
            self.malformed += 1
            return
        self.handle(msg)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop after the current message (queued ones are not checked)."""
        self._stopping.set()
        try:
            self._queue.put(None, timeout=0.5)
        except queue.Full:
            pass  # the thread sees _stopping after its current message
        self._thread.join(timeout=timeout)


class Recorder:
    """The buffer of recent messages and the bags written from it."""

    def __init__(self, config: RecorderConfig, backend: str, logger,
                 wall_clock: Callable[[], float] = time.time):
        """Create the output directory (a failure is reported, not raised) and the buffer.

        ``backend`` is the resolved bag writer ('rosbags' or 'rosbag2_py');
        ``wall_clock`` dates the bag names.
        """
        self.config = config
        self.backend = backend
        self.logger = logger
        self.wall_clock = wall_clock
        self.output_dir = config.output_dir
        self.output_error = ''
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.output_error = str(exc)
            logger.error(f'cannot create output_dir {self.output_dir}: {exc}')
        self.buffer = RingBuffer(config.buffer_s, config.max_buffer_bytes)
        self.recorded: Dict[str, str] = {}  # topic -> type, subscribed
        self.waiting: List[str] = []  # topics whose type is not known yet
        self._last_image_ns: Dict[str, int] = {}
        self.images_decimated = 0
        self._lock = threading.Lock()
        self._reserved: Set[str] = set()
        self._writing = False
        self.bags_written = 0
        self.write_failures = 0
        self.last_bag = ''
        self.last_result = None
        self.last_error = ''
        self.pruned = 0
        self._jobs: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name='flight_recorder_writer',
                                        daemon=True)

    # ---------------------------------------------------------------- recording
    def add(self, topic: str, type_name: str, is_image: bool, now_ns: int, data) -> None:
        """Keep one serialized message received at ``now_ns`` (images decimated)."""
        if is_image:
            last = self._last_image_ns.get(topic)
            if last is not None and 0 <= now_ns - last < self.config.image_period_ns:
                self.images_decimated += 1
                return
            self._last_image_ns[topic] = now_ns
        self.buffer.add(topic, type_name, now_ns, data)

    def plan(self, topics: Iterable[str], known: Mapping[str, str]) -> List[Tuple[str, str]]:
        """Return ``[(topic, type)]`` of the ``topics`` typed in ``known``; the rest wait.

        :data:`~.params.FIXED_TYPES` (``/diagnostics``, ``/rosout``) are known anyway.
        """
        known = {**FIXED_TYPES, **known}
        typed = []
        for topic in dict.fromkeys(topics):
            if topic in known:
                typed.append((topic, known[topic]))
            else:
                self.waiting.append(topic)
        return typed

    def discovered(self, graph: Mapping[str, Sequence[str]]) -> List[Tuple[str, Sequence[str]]]:
        """Return ``[(topic, types)]`` of the waiting topics ``graph`` types; they wait no more."""
        found = [(topic, graph[topic]) for topic in self.waiting if graph.get(topic)]
        for topic, _ in found:
            self.waiting.remove(topic)
        return found

    def new_bag(self, reason: str) -> Path:
        """Return a fresh bag path for a capture of ``reason``, reserved until written."""
        with self._lock:
            path = unique_bag_path(self.output_dir, reason, self.wall_clock(),
                                   reserved=self._reserved)
            self._reserved.add(path.name)
        return path

    # ------------------------------------------------------------------ writing
    def start(self) -> None:
        """Start the writer thread."""
        self._worker.start()

    def submit(self, capture: Capture) -> None:
        """Have ``capture`` written by the writer thread."""
        with self._lock:
            self._writing = True
        self._jobs.put(capture)

    def stop(self, timeout: float) -> None:
        """Write what was submitted (waiting at most ``timeout`` seconds), then stop."""
        self._jobs.put(None)
        self._worker.join(timeout=timeout)

    def _work(self) -> None:
        if self.backend == 'rosbags':
            try:
                typestore()  # built once here, so the first bag is not slower than the rest
            except Exception as exc:  # noqa: BLE001 - reported again when a bag is written
                self.logger.error(f'flight recorder: rosbags is not usable: {exc}')
        while True:
            capture = self._jobs.get()
            if capture is None:
                return
            try:
                self.write(capture)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any one bag
                with self._lock:
                    self.write_failures += 1
                    self.last_error = f'{type(exc).__name__}: {exc}'
                self.logger.error(f'flight recorder: writing {capture.path} failed: {exc}')
            finally:
                with self._lock:
                    self._reserved.discard(capture.path.name)
                    self._writing = not self._jobs.empty()

    def write(self, capture: Capture) -> None:
        """Write the buffered messages of ``capture``'s interval to its bag, then prune."""
        c = self.config
        records = self.buffer.snapshot(capture.start_ns, capture.end_ns)
        custom = {
            'face_tracker_ros.reason': capture.reason,
            'face_tracker_ros.event_ns': str(capture.event_ns),
            'face_tracker_ros.events': ' | '.join(capture.details),
            'face_tracker_ros.pre_event_s': f'{c.trigger.pre_event_s:g}',
            'face_tracker_ros.post_event_s': f'{c.trigger.post_event_s:g}',
        }
        try:
            result = write_bag(capture.path, records, dict(self.recorded),
                               backend=self.backend, custom_data=custom)
        except (BagWriteError, ValueError, OSError) as exc:
            with self._lock:
                self.write_failures += 1
                self.last_error = str(exc)
            self.logger.error(f'flight recorder: {exc}')
            return
        removed = []
        try:
            removed = prune_bags(self.output_dir, c.max_bags, c.max_total_mb,
                                 keep=[result.path])
        except OSError as exc:
            self.logger.warning(f'flight recorder: pruning {self.output_dir} failed: {exc}')
        with self._lock:
            self.bags_written += 1
            self.last_bag = str(result.path)
            self.last_result = result
            self.last_error = ''
            self.pruned += len(removed)
        skipped = f'; skipped {result.skipped}' if result.skipped else ''
        pruned = f'; pruned {len(removed)} old bag(s)' if removed else ''
        self.logger.info(
            f'flight recorder: wrote {result.path} ({result.messages} messages on '
            f'{sum(1 for n in result.topics.values() if n)} topics, '
            f'{result.size_bytes / MB:.2f} MB, {result.write_s:.2f} s){skipped}{pruned}')

    # ------------------------------------------------------------------- status
    def report(self, policy: TriggerPolicy, feed: StatusFeed):
        """Return the ``flight recorder`` status: (level, message, figures)."""
        capture, left = policy.pending()
        with self._lock:
            result = self.last_result
            figures = {
                'buffer_s': self.buffer.span_s,
                'buffer_mb': self.buffer.bytes_used / MB,
                'buffer_limit_mb': self.config.max_buffer_mb,
                'buffer_messages': len(self.buffer),
                'dropped_for_budget': self.buffer.dropped_budget,
                'topics_recorded': ' '.join(self.recorded),
                'topics_waiting': ' '.join(self.waiting),
                'images_decimated': self.images_decimated,
                'malformed_diagnostics': feed.malformed,
                'diagnostics_dropped': feed.dropped,
                'triggers': policy.triggers,
                'triggers_suppressed': policy.triggers_suppressed,
                'bags_written': self.bags_written,
                'write_failures': self.write_failures,
                'bags_pruned': self.pruned,
                'last_bag': self.last_bag,
                'last_bag_messages': result.messages if result else 0,
                'last_bag_mb': result.size_bytes / MB if result else 0.0,
                'last_bag_write_s': result.write_s if result else 0.0,
                'output_dir': str(self.output_dir),
                'backend': self.backend,
                'state': 'capturing' if capture else 'writing' if self._writing
                else 'recording',
            }
            last_error = self.last_error
        if self.output_error:
            return WARN, f'cannot create {self.output_dir}: {self.output_error}', figures
        if last_error:
            return WARN, f'last bag failed: {last_error}', figures
        summary = (f"recording {len(self.recorded)} topics, {figures['buffer_s']:.0f} s, "
                   f"{figures['buffer_mb']:.1f} MB; {self.bags_written} bags written")
        if capture is not None:
            summary = f'capturing {capture.reason}, bag in {left:.1f} s; ' + summary
        return OK, summary, figures
