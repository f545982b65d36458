# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder's ROS-free parts: typed config, trigger policy (fake clock), core."""

from pathlib import Path
import time

import pytest

from face_tracker_ros.common.params import ParameterError, validate_all
from face_tracker_ros.common.status import OK, WARN
from face_tracker_ros.monitor.params import PeerWatchConfig
from face_tracker_ros.recorder.bagwriter import list_bags
from face_tracker_ros.recorder.capture import Recorder, StatusFeed
from face_tracker_ros.recorder.params import (
    DEFAULT_TOPICS,
    PARAMS,
    RecorderConfig,
    RULES,
    TriggerConfig,
)
from face_tracker_ros.recorder.policy import TriggerPolicy

S = 1_000_000_000
T0 = 1_700_000_000 * S
POINT = 'geometry_msgs/msg/PointStamped'
IMAGE = 'sensor_msgs/msg/Image'


class Clock:
    """A node clock in nanoseconds that only moves when told."""

    def __init__(self, t: int = T0):
        self.t = t

    def __call__(self) -> int:
        return self.t


class Log:
    """Collects log lines by severity."""

    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(('info', line))

    def warning(self, line):
        self.lines.append(('warning', line))

    def error(self, line):
        self.lines.append(('error', line))


def _config(tmp_path=None, **values) -> RecorderConfig:
    if tmp_path is not None:
        values.setdefault('output_dir', str(tmp_path / 'bags'))
    return RecorderConfig.from_params(validate_all(PARAMS, values, RULES))


def _policy(clock, on_error=True, on_restart=True, cooldown_s=30.0):
    names = []

    def new_bag(reason):
        names.append(reason)
        return Path(f'/bags/flight_{reason}_{len(names)}')
    warned = []
    config = TriggerConfig(pre_event_s=20.0, post_event_s=4.0, cooldown_s=cooldown_s,
                           on_error=on_error, on_restart=on_restart)
    policy = TriggerPolicy(config, clock, new_bag, warned.append,
                           ignore_prefix='flight_recorder: ')
    return policy, warned


# ------------------------------------------------------------------------------ typed config
def test_config_from_the_defaults_is_typed_and_nested():
    config = _config()
    assert config.topics == tuple(DEFAULT_TOPICS)
    assert config.topic_types['face/target'] == POINT
    assert config.max_buffer_bytes == 64 * 1024 * 1024
    assert config.image_period_ns == S // 2
    assert config.output_dir.name == 'flight_recorder'
    assert config.trigger == TriggerConfig(pre_event_s=20.0, post_event_s=4.0, cooldown_s=30.0,
                                           on_error=True, on_restart=True)
    assert config.peer_watch == PeerWatchConfig(enabled=True, stale_timeout_s=20.0,
                                                startup_grace_s=30.0, kill_grace_s=3.0,
                                                max_restarts_per_hour=3)
    with pytest.raises(AttributeError):
        config.buffer_s = 1.0  # frozen
    with pytest.raises(TypeError):
        config.topic_types['x'] = POINT  # read-only


def test_config_rules_name_the_parameters(tmp_path):
    assert _config(tmp_path).output_dir == tmp_path / 'bags'
    with pytest.raises(ParameterError, match="'pre_event_s' .* must be <= 'buffer_s'"):
        _config(buffer_s=5.0, pre_event_s=4.0, post_event_s=2.0)
    with pytest.raises(ParameterError, match="'topic_types' entry 'x=y'"):
        _config(topic_types=['x=y'])


# ----------------------------------------------------------------------------- the policy
def test_an_error_starts_one_capture_over_the_pre_and_post_windows_that_others_join():
    clock = Clock()
    policy, warned = _policy(clock)
    assert policy.on_status('camera: camera', b'\x00', 'fine', [('pid', '7')]) == []
    [(accepted, message)] = policy.on_status('camera: camera', b'\x02', 'no frames', [])
    assert accepted and message == 'bag /bags/flight_error_1 in 4 s'
    assert warned == ['flight recorder: camera: camera is ERROR: no frames; recording 4 s '
                      'more, then writing /bags/flight_error_1']
    capture, left = policy.pending()
    assert (capture.start_ns, capture.event_ns, capture.end_ns) == (T0 - 20 * S, T0, T0 + 4 * S)
    assert left == 4.0
    clock.t += S
    assert policy.on_status('servo: link', 2, 'lost', []) == [
        (True, 'joined the capture in progress; bag /bags/flight_error_1')]
    assert policy.trigger('request', 'asked', force=True)[0]
    assert capture.details == ['camera: camera is ERROR: no frames', 'servo: link is ERROR: lost',
                               'asked']
    assert policy.due() is None  # 3 s to go
    clock.t = T0 + 4 * S
    assert policy.due() is capture and policy.due() is None
    assert policy.pending() == (None, 0.0)
    assert policy.triggers == 3 and policy.triggers_suppressed == 0
    assert len(warned) == 1


def test_the_cool_down_suppresses_errors_and_restarts_but_not_requests():
    clock = Clock()
    policy, warned = _policy(clock, cooldown_s=30.0)
    policy.trigger('error', 'first')
    clock.t += 5 * S
    policy.due()
    clock.t += 10 * S  # 15 s after the event
    assert policy.trigger('error', 'second') == (False, 'within the 30 s cool-down: no new bag')
    assert policy.on_status('camera: camera', 0, '', [('pid', '1')]) == []
    assert policy.on_status('camera: camera', 0, '', [('pid', '2')]) == [
        (False, 'within the 30 s cool-down: no new bag')]
    assert policy.triggers_suppressed == 2
    accepted, message = policy.request()
    assert accepted and 'flight_request_2' in message
    assert policy.pending()[0].details == ['requested through ~/trigger']
    clock.t += 5 * S
    policy.due()
    clock.t += 30 * S  # the cool-down runs from the last captured event (the request)
    assert policy.trigger('error', 'third')[0]
    assert len(warned) == 3


def test_disabled_events_and_the_own_statuses_start_nothing():
    clock = Clock()
    policy, _ = _policy(clock, on_error=False, on_restart=False)
    assert policy.on_status('camera: camera', 2, 'bad', [('pid', '1')]) == []
    assert policy.on_status('camera: camera', 0, 'ok', [('pid', '2')]) == []
    policy, _ = _policy(clock)
    assert policy.on_status('flight_recorder: flight recorder', 2, 'bad', []) == []
    assert policy.pending() == (None, 0.0) and policy.triggers == 0


def test_flush_ends_a_pending_capture_now_and_a_clock_behind_the_event_waits():
    clock = Clock()
    policy, _ = _policy(clock)
    assert policy.flush() is None
    policy.trigger('error', 'x')
    clock.t -= 10 * S  # a restarted simulation clock
    assert policy.due() is None
    assert policy.pending()[1] == 14.0
    clock.t += 11 * S
    capture = policy.flush()
    assert capture.end_ns == T0 + S and policy.pending() == (None, 0.0)


# ------------------------------------------------------------------------ the capture core
def test_recorder_plans_topics_decimates_images_and_writes_a_bag(tmp_path):
    log = Log()
    config = _config(tmp_path, post_event_s=1.0, pre_event_s=2.0, max_bags=1)
    rec = Recorder(config, 'rosbags', log, wall_clock=lambda: 1_772_000_000.0)
    typed = rec.plan(['/diagnostics', '/face/target', '/a', '/camera', '/a'],
                     {'/face/target': POINT, '/camera': IMAGE})
    assert typed == [('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray'),
                     ('/face/target', POINT), ('/camera', IMAGE)]
    assert rec.waiting == ['/a']
    assert rec.discovered({'/a': [POINT, IMAGE], '/b': [POINT]}) == [('/a', [POINT, IMAGE])]
    assert rec.waiting == [] and rec.discovered({'/a': [POINT]}) == []
    rec.recorded.update({'/face/target': POINT, '/camera': IMAGE})
    for i in range(40):  # 4 s at 10 Hz
        rec.add('/face/target', POINT, False, T0 + i * S // 10, b'\0\1\0\0' + bytes(28))
        rec.add('/camera', IMAGE, True, T0 + i * S // 10, b'\0\1\0\0')
    assert rec.images_decimated == 32  # 2 Hz: 8 of 40 kept
    first, second = rec.new_bag('error'), rec.new_bag('error')
    assert first != second and first.parent == tmp_path / 'bags'
    clock = Clock(T0 + 3 * S)
    policy = TriggerPolicy(config.trigger, clock, rec.new_bag, log.warning)
    feed = StatusFeed(lambda data: data, lambda msg: None, log)
    assert policy.trigger('error', 'camera: camera is ERROR')[0]
    level, message, figures = rec.report(policy, feed)
    assert level == OK and message.startswith('capturing error, bag in 1.0 s; recording 2')
    assert figures['state'] == 'capturing' and figures['images_decimated'] == 32
    clock.t += S
    rec.write(policy.due())
    [bag] = list_bags(tmp_path / 'bags')
    assert bag.name.startswith('flight_') and bag.name.endswith('_error_2')
    assert rec.bags_written == 1 and rec.last_result.messages == 30 + 6  # 1 s .. 4 s
    assert rec.last_result.topics == {'/face/target': 30, '/camera': 6}
    level, message, figures = rec.report(policy, feed)
    assert level == OK and figures['bags_written'] == 1 and figures['last_bag'] == str(bag)
    assert [kind for kind, _ in log.lines] == ['warning', 'info']


def test_recorder_reports_a_directory_it_cannot_create_and_a_failed_bag(tmp_path):
    (tmp_path / 'file').write_text('not a directory')
    log = Log()
    rec = Recorder(_config(output_dir=str(tmp_path / 'file' / 'bags')), 'rosbags', log)
    assert rec.output_error and log.lines[0][0] == 'error'
    policy = TriggerPolicy(rec.config.trigger, Clock(), rec.new_bag, log.warning)
    feed = StatusFeed(lambda data: data, lambda msg: None, log)
    level, message, _ = rec.report(policy, feed)
    assert level == WARN and message.startswith('cannot create ')
    rec.output_error = ''
    policy.trigger('error', 'x')
    rec.write(policy.flush())
    level, message, figures = rec.report(policy, feed)
    assert level == WARN and message.startswith('last bag failed: ')
    assert figures['write_failures'] == 1


def test_status_feed_counts_malformed_and_dropped_messages_and_survives_a_failing_handler():
    log = Log()
    handled = []

    def decode(data):
        if data == b'bad':
            raise ValueError('not CDR')
        return data.decode()

    def handle(msg):
        if msg == 'boom':
            raise RuntimeError('handler failed')
        handled.append(msg)
    feed = StatusFeed(decode, handle, log, maxsize=2)
    for data in (b'a', b'bad', b'c'):  # the thread is not running yet: two fit
        feed.put(data)
    assert feed.dropped == 1
    feed.start()
    deadline = time.monotonic() + 5.0
    while not (handled and feed.malformed) and time.monotonic() < deadline:
        time.sleep(0.01)
    feed.put(b'boom')
    feed.put(b'd')
    while len(handled) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    feed.stop()
    assert handled == ['a', 'd'] and feed.malformed == 1
    assert [kind for kind, _ in log.lines] == ['error']
    assert 'event check failed' in log.lines[0][1] and 'handler failed' in log.lines[0][1]
