# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ``flight_recorder`` node: the last seconds of chosen topics, saved when something fails.

It subscribes to the configured topics with ``raw=True`` (no deserialization)
and keeps their serialized messages, stamped with the receive time, in a
:class:`~face_tracker_ros.recorder.buffer.RingBuffer` of ``buffer_s`` seconds
within ``max_buffer_mb``.  On an event it keeps recording ``post_event_s``
seconds more, then writes the messages received in
``[event - pre_event_s, event + post_event_s]`` to an MCAP rosbag2 in
``output_dir`` from a worker thread (the executor is never blocked) and prunes
the oldest bags beyond ``max_bags`` / ``max_total_mb``.

Events:

* a ``/diagnostics`` status whose level becomes ERROR (the transition, not
  every ERROR message; the recorder's own statuses are ignored);
* a node restart: the ``pid`` a status carries (its first ``pid`` value: the
  publishing process) changes;
* a request: ``std_srvs/srv/Trigger`` on ``~/trigger``
  (``/flight_recorder/trigger``); a request ignores the cool-down.

Events while a capture is pending join that capture (one bag); error and
restart events within ``cooldown_s`` of the last captured event are counted
but write nothing, so an error storm gives one bag.  A capture pending at
shutdown is written with what was received so far.

A topic's type comes from ``topic_types`` (``'<topic>:<pkg>/msg/<Type>'``) or,
for topics not listed there, from the ROS graph once a publisher appears.
Image topics (``sensor_msgs/msg/Image``, ``CompressedImage``) are recorded only
if listed in ``topics``, decimated to ``image_rate_hz``.  Subscriptions are
reliable (best-effort if a publisher offers only that when the topic is
subscribed), volatile, depth 100 (5 for images).  Messages are stamped with the
node clock's receive time, as ``ros2 bag record`` does.  The node reports on
``/diagnostics`` as ``flight_recorder: flight recorder`` (buffer seconds and
MB, bags written, last bag and its write time, triggers, state).

It also watches the watchdog: a :class:`~face_tracker_ros.monitor.peerwatch.PeerWatch`
ends the run's diagnostics node when its statuses stop for
``peer_watch.stale_timeout_s`` while its process lives (stopped, deadlocked),
so that launch or the standalone runner restarts it; reported as
``flight_recorder: peer watch diagnostics``.
"""

from dataclasses import dataclass, field
import importlib
from pathlib import Path
import queue
import threading
import time
import traceback
from typing import Dict, List, Optional, Tuple

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from std_srvs.srv import Trigger

from face_tracker_ros.common.health import ERROR, from_msg_level, NodeHealth, OK, WARN
from face_tracker_ros.common.params import COMMON, declare, Param, ParameterError, Rule
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.monitor.peerwatch import PeerWatch
from face_tracker_ros.monitor.resources import RunScope
from face_tracker_ros.recorder.bagwriter import (
    BACKENDS,
    BagWriteError,
    MB,
    prune_bags,
    resolve_backend,
    typestore,
    unique_bag_path,
    write_bag,
)
from face_tracker_ros.recorder.buffer import RingBuffer

IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
DIAGNOSTICS_TYPE = 'diagnostic_msgs/msg/DiagnosticArray'
DEFAULT_TOPICS = ['/diagnostics', '/rosout', 'face/target', 'joint_states',
                  'servo/command_latency', 'sim/true_target']
DEFAULT_TOPIC_TYPES = [
    '/diagnostics:diagnostic_msgs/msg/DiagnosticArray',
    '/rosout:rcl_interfaces/msg/Log',
    'face/target:geometry_msgs/msg/PointStamped',
    'joint_states:sensor_msgs/msg/JointState',
    'servo/command_latency:sensor_msgs/msg/TimeReference',
    'sim/true_target:geometry_msgs/msg/PointStamped',
    'sim/joint_states:sensor_msgs/msg/JointState',
    'camera/image_raw:sensor_msgs/msg/Image',
    'face/debug_image:sensor_msgs/msg/Image',
]
#: How often topics without a known type are looked up in the graph.
DISCOVERY_PERIOD_S = 1.0
#: How often a pending capture is checked for completion.
TICK_S = 0.1
#: /diagnostics messages waiting for the event check at most (more are dropped and counted).
EVENT_QUEUE = 1000
#: Longest wait at shutdown for a bag being written.
SHUTDOWN_WRITE_TIMEOUT_S = 20.0
#: How often the peer watch judges the diagnostics node.
PEER_CHECK_S = 1.0
#: Why the peer watch's timing parameters need a restart.
PEER_WHY = 'the peer watch is built with it at start, with its clocks and budget'

PARAMS = (
    Param('topics', DEFAULT_TOPICS, 'Topics recorded (relative names resolve in the node '
          'namespace); image topics only if listed here'),
    Param('topic_types', DEFAULT_TOPIC_TYPES, "Known types, '<topic>:<pkg>/msg/<Type>'; "
          'topics not listed are typed from the ROS graph once published'),
    Param('buffer_s', 30.0, 'Seconds of history kept in memory', min=1.0, max=3600.0,
          unit='s'),
    Param('max_buffer_mb', 64.0, 'Memory budget of the buffer (oldest messages dropped '
          'first)', min=1.0, max=100000.0, unit='MB'),
    Param('pre_event_s', 20.0, 'Seconds before the event written to the bag (pre_event_s '
          '+ post_event_s <= buffer_s)', min=0.0, max=3600.0, unit='s'),
    Param('post_event_s', 4.0, 'Seconds recorded after the event before the bag is written',
          min=0.0, max=600.0, unit='s'),
    Param('cooldown_s', 30.0, 'Error and restart events within this time of the last '
          'captured event write no new bag', min=0.0, max=86400.0, unit='s'),
    Param('image_rate_hz', 2.0, 'Rate image topics are decimated to', min=0.0,
          min_exclusive=True, max=1000.0, unit='Hz'),
    Param('trigger_on_error', True, 'Write a bag when a /diagnostics status becomes ERROR'),
    Param('trigger_on_restart', True, "Write a bag when a node's pid changes"),
    Param('output_dir', '', 'Directory of the bags; empty = <ROS log dir>/face_tracker_ros/'
          'flight_recorder'),
    Param('max_bags', 20, 'Bags kept in output_dir (oldest deleted first)', min=1,
          max=100000),
    Param('max_total_mb', 1000.0, 'Total size of the bags kept in output_dir', min=1.0,
          unit='MB'),
    Param('backend', 'auto', "Bag writer: 'rosbag2_py' (in a ROS 2 distribution), "
          "'rosbags' (pure Python) or 'auto' (rosbag2_py when importable)", choices=BACKENDS),
    Param('peer_watch.enabled', True, 'Watch the diagnostics node of this run (it holds the '
          'watchdog): end it when its statuses stop while its process lives, so that launch '
          '(or the standalone runner) restarts it; false = report only', live=True),
    Param('peer_watch.stale_timeout_s', 20.0, 'The diagnostics node with no status for this '
          'long, its process alive, is hung', min=2.0, max=3600.0, unit='s',
          why=PEER_WHY),
    Param('peer_watch.startup_grace_s', 30.0, 'Time a new diagnostics process gets before it '
          'is judged', min=0.0, max=3600.0, unit='s', why=PEER_WHY),
    Param('peer_watch.kill_grace_s', 3.0, 'Wait between SIGTERM and SIGKILL of a hung '
          'diagnostics node', min=0.1, max=120.0, unit='s', why=PEER_WHY),
    Param('peer_watch.max_restarts_per_hour', 3, 'Terminations of the diagnostics node per '
          'sliding hour; beyond it the peer watch stays in ERROR and acts no more', min=0,
          max=1000, why=PEER_WHY),
) + COMMON


def _window_problem(v):
    if v['pre_event_s'] + v['post_event_s'] <= v['buffer_s']:
        return None
    return (f"parameters 'pre_event_s' ({v['pre_event_s']:g}) + 'post_event_s' "
            f"({v['post_event_s']:g}) must be <= 'buffer_s' ({v['buffer_s']:g})")


#: Rules between the recorder's parameters, checked at start.
RULES = (Rule(('pre_event_s', 'post_event_s', 'buffer_s'), _window_problem),)


def parse_topic_types(entries: List[str]) -> Dict[str, str]:
    """Parse ``['face/target:geometry_msgs/msg/PointStamped', ...]`` into ``{topic: type}``.

    Raises :class:`ParameterError` naming ``topic_types`` for a malformed entry.
    """
    out = {}
    for entry in entries:
        topic, sep, type_name = str(entry).partition(':')
        parts = type_name.strip().split('/')
        if not sep or not topic.strip() or len(parts) != 3 or parts[1] != 'msg' or \
                not all(parts):
            raise ParameterError(
                f"parameter 'topic_types' entry {entry!r} is not '<topic>:<pkg>/msg/<Type>' "
                "(e.g. 'face/target:geometry_msgs/msg/PointStamped')")
        out[topic.strip()] = type_name.strip()
    return out


def import_message(type_name: str):
    """Return the Python class of ``'<pkg>/msg/<Type>'``; ImportError if it is not installed."""
    package, _, name = type_name.split('/')
    module = importlib.import_module(f'{package}.msg')
    try:
        return getattr(module, name)
    except AttributeError:
        raise ImportError(f'{package}.msg has no message {name}') from None


def default_output_dir() -> Path:
    """Return where bags go when ``output_dir`` is empty: beside the tracker's log file."""
    return default_log_dir() / 'flight_recorder'


class StatusWatch:
    """Turns ``/diagnostics`` statuses into events: ERROR transitions and pid changes."""

    def __init__(self, ignore_prefix: str = ''):
        """Ignore statuses whose name starts with ``ignore_prefix`` (the node's own)."""
        self.ignore_prefix = ignore_prefix
        self._levels: Dict[str, int] = {}
        self._pids: Dict[str, str] = {}

    def feed(self, name: str, level, values) -> List[Tuple[str, str]]:
        """Return the events of one status: ``[('error' | 'restart', detail), ...]``.

        ``level`` is a ``DiagnosticStatus.level`` (byte or int), ``values`` its
        key/value pairs (``KeyValue`` messages or ``(key, value)`` tuples).
        Never raises on malformed input.
        """
        if not isinstance(name, str) or (self.ignore_prefix and
                                         name.startswith(self.ignore_prefix)):
            return []
        events = []
        try:
            level = from_msg_level(level)
        except (TypeError, ValueError):
            return []
        previous = self._levels.get(name)
        self._levels[name] = level
        if level == ERROR and previous != ERROR:
            events.append(('error', name))
        pid = ''
        try:
            for item in values or ():
                key, value = (item.key, item.value) if hasattr(item, 'key') else tuple(item)[:2]
                if key == 'pid':
                    pid = str(value)
                    break
        except (TypeError, ValueError):
            pid = ''
        if pid.isdigit():
            old = self._pids.get(name)
            self._pids[name] = pid
            if old is not None and old != pid:
                events.append(('restart', f'{name}: pid {old} -> {pid}'))
        return events


@dataclass
class Capture:
    """An event being captured: the bag is written once ``end_ns`` is reached."""

    reason: str
    event_ns: int
    start_ns: int
    end_ns: int
    path: Path
    details: List[str] = field(default_factory=list)


class FlightRecorderNode(Node):
    """Keeps recent messages in memory and writes them to a bag around failures."""

    def __init__(self, **kwargs):
        """Declare parameters, subscribe to the topics and start the writer thread."""
        super().__init__('flight_recorder', **kwargs)
        self.params = p = declare(self, PARAMS, RULES, apply=self._apply_params)
        try:
            self.backend = resolve_backend(p['backend'])
        except ValueError as exc:
            raise ParameterError(f"parameter 'backend': {exc}") from None
        self.output_dir = Path(p['output_dir']).expanduser() if p['output_dir'] else \
            default_output_dir()
        self.output_error = ''
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.output_error = str(exc)
            self.get_logger().error(f'cannot create output_dir {self.output_dir}: {exc}')
        known = parse_topic_types(p['topic_types'])
        self.known_types = {self._resolve(topic, 'topic_types'): type_name
                            for topic, type_name in known.items()}
        self.known_types.setdefault('/diagnostics', DIAGNOSTICS_TYPE)
        self.known_types.setdefault('/rosout', 'rcl_interfaces/msg/Log')
        self.buffer = RingBuffer(p['buffer_s'], int(p['max_buffer_mb'] * MB))
        self.recorded: Dict[str, str] = {}  # topic -> type, subscribed
        self.waiting: List[str] = []  # topics whose type is not known yet
        self._recorder_subs = []
        self._image_period_ns = int(1e9 / p['image_rate_hz'])
        self._last_image_ns: Dict[str, int] = {}
        self.images_decimated = 0

        self._lock = threading.Lock()
        self._capture: Optional[Capture] = None
        self._last_event_ns: Optional[int] = None
        self._reserved: set = set()
        self._writing = False
        self.triggers = 0
        self.triggers_suppressed = 0
        self.bags_written = 0
        self.write_failures = 0
        self.last_bag = ''
        self.last_result = None
        self.last_error = ''
        self.pruned = 0
        self.malformed_diagnostics = 0
        self.watch = StatusWatch(ignore_prefix=f'{self.get_name()}: ')
        self._events = p['trigger_on_error'] or p['trigger_on_restart']
        # Nothing else would end a diagnostics node that hangs alive (its watchdog included).
        self.peer = PeerWatch(stale_timeout_s=p['peer_watch.stale_timeout_s'],
                              startup_grace_s=p['peer_watch.startup_grace_s'],
                              kill_grace_s=p['peer_watch.kill_grace_s'],
                              max_restarts_per_hour=p['peer_watch.max_restarts_per_hour'],
                              enabled=p['peer_watch.enabled'],
                              scope=RunScope(namespace=self.get_namespace()))

        for topic in dict.fromkeys(self._resolve(t) for t in p['topics']):
            type_name = self.known_types.get(topic)
            if type_name is None:
                self.waiting.append(topic)
                continue
            try:
                self._subscribe(topic, type_name)
            except ImportError as exc:
                raise ParameterError(f"parameter 'topic_types': type {type_name} of {topic} "
                                     f'cannot be imported: {exc}') from None
        self._discovery_timer = None
        if self.waiting:
            self._discover()
            self._discovery_timer = self.create_timer(DISCOVERY_PERIOD_S, self._discover)

        # /diagnostics is taken raw too and deserialized in a thread of its own: the main
        # thread then runs no message conversion that a Ctrl-C could turn into an error.
        self._diag_queue: queue.Queue = queue.Queue(maxsize=EVENT_QUEUE)
        self._stopping = threading.Event()
        self.diagnostics_dropped = 0
        if '/diagnostics' not in self.recorded:
            self._recorder_subs.append(self.create_subscription(
                DiagnosticArray, '/diagnostics', self._queue_diagnostics, 100, raw=True))
        self._events_thread = threading.Thread(target=self._watch_events,
                                               name='flight_recorder_events', daemon=True)
        self._events_thread.start()
        self.create_service(Trigger, '~/trigger', self._on_trigger)
        self.create_timer(TICK_S, self._tick)
        self.create_timer(PEER_CHECK_S, self._check_peer)

        self._jobs: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name='flight_recorder_writer',
                                        daemon=True)
        self._worker.start()

        self.health = NodeHealth(self, hardware_id='none')
        self.health.add('flight recorder', self._report)
        self.health.add(f'peer watch {self.peer.node_name}', self.peer.report)
        self.get_logger().info(
            f'flight recorder started: {len(self.recorded)} topics '
            f"({', '.join(self.recorded)}), waiting for {len(self.waiting)}; "
            f"{p['buffer_s']:g} s / {p['max_buffer_mb']:g} MB in memory; bags "
            f'({self.backend}) in {self.output_dir}')

    # ------------------------------------------------------------------ topics
    def _resolve(self, topic: str, parameter: str = 'topics') -> str:
        """Return the fully qualified name; ParameterError naming ``parameter`` if invalid."""
        try:
            return self.resolve_topic_name(topic)
        except AttributeError:  # an rclpy without resolve_topic_name
            return topic if topic.startswith('/') else '/' + topic
        except Exception as exc:  # noqa: BLE001 - rclpy raises several types here
            raise ParameterError(f"parameter '{parameter}': {topic!r} is not a valid topic "
                                 f'name ({exc})') from None

    def _subscribe(self, topic: str, type_name: str) -> None:
        msg_class = import_message(type_name)
        is_image = type_name in IMAGE_TYPES
        reliability = ReliabilityPolicy.RELIABLE
        try:
            publishers = self.get_publishers_info_by_topic(topic)
        except Exception:  # noqa: BLE001 - graph queries are best effort
            publishers = []
        if any(info.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
               for info in publishers):
            reliability = ReliabilityPolicy.BEST_EFFORT
        profile = QoSProfile(depth=5 if is_image else 100, reliability=reliability,
                             durability=DurabilityPolicy.VOLATILE,
                             history=HistoryPolicy.KEEP_LAST)

        def on_message(data, topic=topic, type_name=type_name, is_image=is_image):
            self._on_message(topic, type_name, is_image, data)
        self._recorder_subs.append(self.create_subscription(msg_class, topic, on_message,
                                                            profile, raw=True))
        self.recorded[topic] = type_name

    def _discover(self) -> None:
        if not self.waiting:
            return
        try:
            graph = dict(self.get_topic_names_and_types())
        except Exception:  # noqa: BLE001 - graph queries are best effort
            return
        for topic in list(self.waiting):
            types = graph.get(topic)
            if not types:
                continue
            self.waiting.remove(topic)
            if len(types) > 1:
                self.get_logger().warning(f'{topic} has several types {types}; recording '
                                          f'{types[0]}')
            try:
                self._subscribe(topic, types[0])
            except ImportError as exc:
                self.get_logger().error(f'cannot record {topic}: type {types[0]} is not '
                                        f'installed ({exc})')
                continue
            self.get_logger().info(f'recording {topic} ({types[0]}, from the graph)')
        if not self.waiting and self._discovery_timer is not None:
            self._discovery_timer.cancel()

    def _on_message(self, topic: str, type_name: str, is_image: bool, data) -> None:
        now = self.get_clock().now().nanoseconds
        if is_image:
            last = self._last_image_ns.get(topic)
            if last is not None and 0 <= now - last < self._image_period_ns:
                self.images_decimated += 1
                return
            self._last_image_ns[topic] = now
        self.buffer.add(topic, type_name, now, data)
        if topic == '/diagnostics':
            self._queue_diagnostics(data)

    # ----------------------------------------------------------------- events
    def _queue_diagnostics(self, data) -> None:
        try:
            self._diag_queue.put_nowait(data)
        except queue.Full:
            self.diagnostics_dropped += 1

    def _watch_events(self) -> None:
        while True:
            data = self._diag_queue.get()
            if data is None or self._stopping.is_set():
                return
            try:
                self._on_diagnostics_raw(data)
            except Exception:  # noqa: BLE001 - the watcher must outlive any one message
                self.get_logger().error('flight recorder: event check failed:\n'
                                        + traceback.format_exc())

    def _on_diagnostics_raw(self, data) -> None:
        try:
            msg = deserialize_message(data, DiagnosticArray)
        except Exception:  # noqa: BLE001 - a malformed message is counted, never fatal
            self.malformed_diagnostics += 1
            return
        self._on_diagnostics(msg)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.peer.status(status.name, status.message, status.values)
            for kind, detail in self.watch.feed(status.name, status.level, status.values):
                if kind == 'error' and self.params['trigger_on_error']:
                    self.trigger('error', f'{detail} is ERROR: {status.message}')
                elif kind == 'restart' and self.params['trigger_on_restart']:
                    self.trigger('restart', f'restart seen ({detail})')

    def _check_peer(self) -> None:
        _actions, events = self.peer.check()
        for event in events:
            log_at(self.get_logger(), event.level, str(event))

    def _apply_params(self, changed) -> None:
        if 'peer_watch.enabled' in changed:
            self.peer.enabled = changed['peer_watch.enabled']

    def _on_trigger(self, request, response):
        accepted, message = self.trigger('request', 'requested through ~/trigger', force=True)
        response.success = accepted
        response.message = message
        return response

    def trigger(self, reason: str, detail: str, force: bool = False) -> Tuple[bool, str]:
        """Start (or join) a capture; return (accepted, what happens) for logs and replies.

        ``force`` ignores the cool-down (requests through the service).
        """
        now = self.get_clock().now().nanoseconds
        p = self.params
        with self._lock:
            self.triggers += 1
            capture = self._capture
            if capture is not None:
                if len(capture.details) < 50:
                    capture.details.append(detail)
                return True, f'joined the capture in progress; bag {capture.path}'
            cooldown_ns = int(p['cooldown_s'] * 1e9)
            if not force and self._last_event_ns is not None and \
                    0 <= now - self._last_event_ns < cooldown_ns:
                self.triggers_suppressed += 1
                return False, f"within the {p['cooldown_s']:g} s cool-down: no new bag"
            path = unique_bag_path(self.output_dir, reason, time.time(),
                                   reserved=self._reserved)
            self._reserved.add(path.name)
            self._capture = Capture(reason=reason, event_ns=now,
                                    start_ns=now - int(p['pre_event_s'] * 1e9),
                                    end_ns=now + int(p['post_event_s'] * 1e9), path=path,
                                    details=[detail])
            self._last_event_ns = now
        self.get_logger().warning(f'flight recorder: {detail}; recording '
                                  f"{p['post_event_s']:g} s more, then writing {path}")
        return True, f"bag {path} in {p['post_event_s']:g} s"

    def _tick(self) -> None:
        now = self.get_clock().now().nanoseconds
        with self._lock:
            capture = self._capture
            if capture is None or now < capture.end_ns:
                return
            self._capture = None
            self._writing = True
        self._jobs.put(capture)

    # ---------------------------------------------------------------- writing
    def _work(self) -> None:
        if self.backend == 'rosbags':
            try:
                typestore()  # built once here, so the first bag is not slower than the rest
            except Exception as exc:  # noqa: BLE001 - reported again when a bag is written
                self.get_logger().error(f'flight recorder: rosbags is not usable: {exc}')
        while True:
            capture = self._jobs.get()
            if capture is None:
                return
            try:
                self._write(capture)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any one bag
                with self._lock:
                    self.write_failures += 1
                    self.last_error = f'{type(exc).__name__}: {exc}'
                self.get_logger().error(f'flight recorder: writing {capture.path} failed: '
                                        f'{exc}')
            finally:
                with self._lock:
                    self._reserved.discard(capture.path.name)
                    self._writing = not self._jobs.empty()

    def _write(self, capture: Capture) -> None:
        p = self.params
        records = self.buffer.snapshot(capture.start_ns, capture.end_ns)
        custom = {
            'face_tracker_ros.reason': capture.reason,
            'face_tracker_ros.event_ns': str(capture.event_ns),
            'face_tracker_ros.events': ' | '.join(capture.details),
            'face_tracker_ros.pre_event_s': f"{p['pre_event_s']:g}",
            'face_tracker_ros.post_event_s': f"{p['post_event_s']:g}",
        }
        try:
            result = write_bag(capture.path, records, dict(self.recorded),
                               backend=self.backend, custom_data=custom)
        except (BagWriteError, ValueError, OSError) as exc:
            with self._lock:
                self.write_failures += 1
                self.last_error = str(exc)
            self.get_logger().error(f'flight recorder: {exc}')
            return
        removed = []
        try:
            removed = prune_bags(self.output_dir, p['max_bags'], p['max_total_mb'],
                                 keep=[result.path])
        except OSError as exc:
            self.get_logger().warning(f'flight recorder: pruning {self.output_dir} failed: '
                                      f'{exc}')
        with self._lock:
            self.bags_written += 1
            self.last_bag = str(result.path)
            self.last_result = result
            self.last_error = ''
            self.pruned += len(removed)
        skipped = f'; skipped {result.skipped}' if result.skipped else ''
        pruned = f'; pruned {len(removed)} old bag(s)' if removed else ''
        self.get_logger().info(
            f'flight recorder: wrote {result.path} ({result.messages} messages on '
            f'{sum(1 for n in result.topics.values() if n)} topics, '
            f'{result.size_bytes / MB:.2f} MB, {result.write_s:.2f} s){skipped}{pruned}')

    # ----------------------------------------------------------------- health
    def _report(self):
        with self._lock:
            capture = self._capture
            result = self.last_result
            figures = {
                'buffer_s': self.buffer.span_s,
                'buffer_mb': self.buffer.bytes_used / MB,
                'buffer_limit_mb': self.params['max_buffer_mb'],
                'buffer_messages': len(self.buffer),
                'dropped_for_budget': self.buffer.dropped_budget,
                'topics_recorded': ' '.join(self.recorded),
                'topics_waiting': ' '.join(self.waiting),
                'images_decimated': self.images_decimated,
                'malformed_diagnostics': self.malformed_diagnostics,
                'diagnostics_dropped': self.diagnostics_dropped,
                'triggers': self.triggers,
                'triggers_suppressed': self.triggers_suppressed,
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
            left = (capture.end_ns - self.get_clock().now().nanoseconds) / 1e9
            summary = f'capturing {capture.reason}, bag in {max(0.0, left):.1f} s; ' + summary
        return OK, summary, figures

    # --------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop watching events, write a pending capture with what was received, stop."""
        self._stopping.set()
        try:
            self._diag_queue.put(None, timeout=0.5)
        except queue.Full:
            pass  # the thread sees _stopping after its current message
        self._events_thread.join(timeout=1.0)
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.end_ns = self.get_clock().now().nanoseconds
            self.get_logger().info(f'flight recorder: shutting down; writing {capture.path} '
                                   'now')
            self._jobs.put(capture)
        self._jobs.put(None)
        self._worker.join(timeout=SHUTDOWN_WRITE_TIMEOUT_S)


def main(args=None):
    """Run the flight recorder node."""
    main_for(FlightRecorderNode, 'flight_recorder', background=True)


if __name__ == '__main__':
    main()
