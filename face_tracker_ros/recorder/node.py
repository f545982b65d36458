# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ``flight_recorder`` node: the last seconds of chosen topics, saved when something fails.

Subscribes raw to ``topics`` (typed by ``topic_types`` or, once published, the graph;
reliable unless a publisher is best-effort, volatile, depth 100, 5 for images) and feeds a
:class:`~.capture.Recorder`; a :class:`~.policy.TriggerPolicy` decides from ``/diagnostics``
and the ``~/trigger`` service (``std_srvs/Trigger``) when a bag is written to ``output_dir``.
Statuses: ``flight_recorder: flight recorder`` and ``flight_recorder: peer watch diagnostics``
(its :class:`~face_tracker_ros.monitor.peerwatch.PeerWatch` ends a hung diagnostics node).
"""

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from std_srvs.srv import Trigger

from face_tracker_ros.common.health import NodeHealth
from face_tracker_ros.common.params import declare, ParameterError
from face_tracker_ros.common.runner import log_at, main_for
from face_tracker_ros.interface import (
    DIAGNOSTICS_TOPIC,
    FLIGHT_RECORDER_NODE,
    FLIGHT_RECORDER_TASK,
    peer_watch_task,
    RECORDER_TRIGGER_SERVICE,
    status_name,
)
from face_tracker_ros.monitor.peerwatch import PeerWatch
from face_tracker_ros.monitor.resources import RunScope
from face_tracker_ros.recorder.capture import import_message, Recorder, StatusFeed
from face_tracker_ros.recorder.params import IMAGE_TYPES, PARAMS, RecorderConfig, RULES
from face_tracker_ros.recorder.policy import TriggerPolicy

#: How often topics without a known type are looked up in the graph.
DISCOVERY_PERIOD_S = 1.0
#: How often a pending capture is checked for completion.
TICK_S = 0.1
#: Longest wait at shutdown for a bag being written.
SHUTDOWN_WRITE_TIMEOUT_S = 20.0
#: How often the peer watch judges the diagnostics node.
PEER_CHECK_S = 1.0


class FlightRecorderNode(Node):
    """Keeps recent messages in memory and writes them to a bag around failures."""

    def __init__(self, **kwargs):
        """Declare parameters, subscribe to the topics and start the threads."""
        super().__init__(FLIGHT_RECORDER_NODE, **kwargs)
        self.params = declare(self, PARAMS, RULES, apply=self._apply_params)
        self.config = c = RecorderConfig.from_params(self.params)
        log = self.get_logger()
        self.recorder = rec = Recorder(c, c.backend, log)
        known = {self._resolve(topic, 'topic_types'): type_name
                 for topic, type_name in c.topic_types.items()}
        self.policy = TriggerPolicy(c.trigger, self._now, rec.new_bag, log.warning,
                                    ignore_prefix=status_name(self.get_name(), ''))
        # Nothing else would end a diagnostics node that hangs alive (its watchdog included).
        self.peer = PeerWatch.from_config(c.peer_watch,
                                          scope=RunScope(namespace=self.get_namespace()))
        self._subs = []
        for topic, type_name in rec.plan((self._resolve(t) for t in c.topics), known):
            try:
                self._subscribe(topic, type_name)
            except ImportError as exc:
                raise ParameterError(f"parameter 'topic_types': type {type_name} of {topic} "
                                     f'cannot be imported: {exc}') from None
        self._discovery_timer = None
        if rec.waiting:
            self._discover()
            self._discovery_timer = self.create_timer(DISCOVERY_PERIOD_S, self._discover)
        # /diagnostics is taken raw too and deserialized in the feed's own thread.
        self.feed = StatusFeed(lambda data: deserialize_message(data, DiagnosticArray),
                               self._on_diagnostics, log)
        if DIAGNOSTICS_TOPIC not in rec.recorded:
            self._subs.append(self.create_subscription(
                DiagnosticArray, DIAGNOSTICS_TOPIC, self.feed.put, 100, raw=True))
        self.feed.start()
        self.create_service(Trigger, RECORDER_TRIGGER_SERVICE, self._on_trigger)
        self.create_timer(TICK_S, self._tick)
        self.create_timer(PEER_CHECK_S, self._check_peer)
        rec.start()
        self.health = NodeHealth(self, hardware_id='none')
        self.health.add(FLIGHT_RECORDER_TASK, lambda: rec.report(self.policy, self.feed))
        self.health.add(peer_watch_task(self.peer.node_name), self.peer.report)
        log.info(f'flight recorder started: {len(rec.recorded)} topics '
                 f"({', '.join(rec.recorded)}), waiting for {len(rec.waiting)}; "
                 f'{c.buffer_s:g} s / {c.max_buffer_mb:g} MB in memory; bags '
                 f'({c.backend}) in {rec.output_dir}')

    def _now(self) -> int:
        return self.get_clock().now().nanoseconds

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
        try:
            publishers = self.get_publishers_info_by_topic(topic)
        except Exception:  # noqa: BLE001 - graph queries are best effort
            publishers = []
        best_effort = any(info.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
                          for info in publishers)
        profile = QoSProfile(depth=5 if is_image else 100, reliability=(
            ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE),
            durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)

        def on_message(data, topic=topic, type_name=type_name, is_image=is_image):
            self.recorder.add(topic, type_name, is_image, self._now(), data)
            if topic == DIAGNOSTICS_TOPIC:
                self.feed.put(data)
        self._subs.append(self.create_subscription(msg_class, topic, on_message, profile,
                                                   raw=True))
        self.recorder.recorded[topic] = type_name

    def _discover(self) -> None:
        if not self.recorder.waiting:
            return
        try:
            graph = dict(self.get_topic_names_and_types())
        except Exception:  # noqa: BLE001 - graph queries are best effort
            return
        log = self.get_logger()
        for topic, types in self.recorder.discovered(graph):
            if len(types) > 1:
                log.warning(f'{topic} has several types {types}; recording {types[0]}')
            try:
                self._subscribe(topic, types[0])
            except ImportError as exc:
                log.error(f'cannot record {topic}: type {types[0]} is not installed ({exc})')
                continue
            log.info(f'recording {topic} ({types[0]}, from the graph)')
        if not self.recorder.waiting and self._discovery_timer is not None:
            self._discovery_timer.cancel()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.peer.status(status.name, status.message, status.values)
            self.policy.on_status(status.name, status.level, status.message, status.values)

    def _check_peer(self) -> None:
        for event in self.peer.check()[1]:  # (actions, events)
            log_at(self.get_logger(), event.level, str(event))

    def _apply_params(self, changed) -> None:
        self.config = RecorderConfig.from_params(self.params)
        self.peer.enabled = self.config.peer_watch.enabled

    def _on_trigger(self, request, response):
        response.success, response.message = self.policy.request()
        return response

    def _tick(self) -> None:
        capture = self.policy.due()
        if capture is not None:
            self.recorder.submit(capture)

    def shutdown(self) -> None:
        """Stop watching events, write a pending capture with what was received, stop."""
        self.feed.stop()
        capture = self.policy.flush()
        if capture is not None:
            self.get_logger().info(f'flight recorder: shutting down; writing {capture.path} '
                                   'now')
            self.recorder.submit(capture)
        self.recorder.stop(SHUTDOWN_WRITE_TIMEOUT_S)


def main(args=None):
    """Run the flight recorder node."""
    main_for(FlightRecorderNode, FLIGHT_RECORDER_NODE, background=True)


if __name__ == '__main__':
    main()
