# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of ServoConnection: reconnects, liveness, garbage and resume, on real pseudo-terminals.

Two kinds of peer are used: the simulated controller (SimServoController) with
its serial faults, and a scripted peer on a raw pty that answers through
SimFirmware and writes whatever bad bytes a test wants.  Every call into the
connection is timed: none may block the caller for more than a write timeout
plus a margin.
"""

import math
import os
import time
import tty

import pytest

from face_tracker_ros.servo import protocols
from face_tracker_ros.servo.connection import (
    REASON_GARBAGE,
    REASON_HANDSHAKE,
    ServoConnection,
)
from face_tracker_ros.servo.link import Backoff, SerialLink
from face_tracker_ros.sim.controller import SimServoController
from face_tracker_ros.sim.firmware import FirmwareConfig, SimFirmware
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel

US_PER_RAD = 2000.0 / math.pi
WRITE_TIMEOUT_S = 0.05
#: The longest any poll/send_move may take: a write timeout plus a generous margin.
MAX_CALL_S = 0.5
FAST = {'reply_timeout_s': 0.3, 'handshake_timeout_s': 0.6, 'keepalive_s': 0.2,
        'garbage_window_s': 1.0}
STAT_NAMES = {'state', 'connects_total', 'reconnects', 'write_errors_total', 'read_errors_total',
              'commands_sent', 'commands_dropped', 'replies_ok', 'error_replies',
              'garbage_replies', 'invalid_replies', 'last_reply_age_s', 'last_error',
              'disconnected_since'}


class Driver:
    """Calls a ServoConnection like the servo node's timer and target callback, timing calls."""

    def __init__(self, port, protocol, **kwargs):
        """Build a connection with fast test timings on ``port``."""
        options = dict(FAST)
        options.update(kwargs)
        self.conn = ServoConnection(SerialLink(port, write_timeout_s=WRITE_TIMEOUT_S),
                                    protocols.make_protocol(protocol),
                                    Backoff(initial_s=0.05, max_s=0.2), **options)
        self.max_call_s = 0.0
        self.events = []

    def _timed(self, call, *args):
        start = time.monotonic()
        result = call(*args, start)
        self.max_call_s = max(self.max_call_s, time.monotonic() - start)
        self.events += self.conn.drain_events()
        return result

    def poll(self):
        """Poll the connection once."""
        self._timed(self.conn.poll)

    def move(self, pan_us, tilt_us):
        """Call send_move once; return its result."""
        return self._timed(self.conn.send_move, pan_us, tilt_us)

    def run(self, until, timeout_s=5.0, move=None, serve=None):
        """Poll (and send ``move`` every cycle) until ``until()`` or the deadline; return it."""
        deadline = time.monotonic() + timeout_s
        while not until() and time.monotonic() < deadline:
            self.poll()
            if move is not None:
                self.move(*move)
            if serve is not None:
                serve()
            time.sleep(0.005)
        return until()

    def connected(self):
        """Return True while the connection is up."""
        return self.conn.state == 'connected'

    def messages(self, level=None):
        """Return the event messages seen so far (of one level, if given)."""
        return [m for lv, m in self.events if level is None or lv == level]


@pytest.fixture
def sim_factory(tmp_path):
    """Build started simulated controllers linked under tmp_path; stop them afterwards."""
    started = []

    def make(protocol, **kwargs):
        """Build and start a controller."""
        sim = SimServoController(protocol=protocol, link_path=str(tmp_path / 'ttyServo'),
                                 fault_seed=7, **kwargs)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def pulse_target(sim):
    """Return the (pan_us, tilt_us) the simulated servos are aiming at."""
    model = sim.model
    return (round(1500.0 + model.pan.target * US_PER_RAD),
            round(1500.0 + model.tilt.target * US_PER_RAD))


def connect(sim, protocol, **kwargs):
    """Return a Driver connected to ``sim``."""
    driver = Driver(sim.port_path, protocol, **kwargs)
    assert driver.run(driver.connected), driver.events
    return driver


# Against the simulated controller --------------------------------------------

@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_connects_moves_and_reports(sim_factory, protocol):
    """A handshake connects; moves reach the servos; stats carry every documented name."""
    sim = sim_factory(protocol)
    driver = Driver(sim.port_path, protocol, initial_us=(1500.0, 1500.0))
    assert driver.conn.state == 'disconnected'
    assert driver.run(driver.connected)
    assert driver.move(1700, 1300) is True
    assert driver.run(lambda: pulse_target(sim) == (1700, 1300), timeout_s=2.0)
    driver.run(lambda: False, timeout_s=0.5)  # keep-alives keep it up while idle
    stats = driver.conn.stats(time.monotonic())
    assert STAT_NAMES <= set(stats)
    assert stats['state'] == 'connected' and stats['connects_total'] == 1
    assert stats['reconnects'] == 0 and stats['commands_sent'] >= 1
    assert stats['replies_ok'] >= 2 and stats['last_reply_age_s'] < 1.0
    assert stats['disconnected_since'] is None
    assert any('connected on' in m for m in driver.messages('info'))
    assert driver.max_call_s < MAX_CALL_S


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_unplug_drops_commands_and_resumes_the_last_position(sim_factory, protocol):
    """While unplugged, moves are dropped; after the replug the latest one is sent again."""
    sim = sim_factory(protocol)
    driver = connect(sim, protocol)
    driver.move(1600, 1400)
    sim.inject('disconnect', 0.6)
    assert driver.run(lambda: not driver.connected(), timeout_s=2.0, move=(1600, 1400))
    dropped = driver.conn.counts.commands_dropped
    results = [driver.move(1750, 1250) for _ in range(5)]
    assert results == [False] * 5
    assert driver.conn.counts.commands_dropped == dropped + 5
    assert driver.conn.stats(time.monotonic())['disconnected_since'] is not None
    # Only poll from now on: the position must come back by itself.
    assert driver.run(driver.connected, timeout_s=3.0)
    assert driver.run(lambda: pulse_target(sim) == (1750, 1250), timeout_s=2.0)
    assert driver.conn.counts.connects_total == 2 and driver.conn.reconnects == 1
    assert sim.counts.disconnects_total == 1
    assert any('disconnected' in m for m in driver.messages('warning'))
    assert any('reconnected' in m for m in driver.messages('info'))
    assert driver.max_call_s < MAX_CALL_S


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_garbage_replies_force_a_reconnect(sim_factory, protocol):
    """A flood of garbage closes the port with the garbage reason; it reconnects afterwards."""
    sim = sim_factory(protocol)
    driver = connect(sim, protocol)
    sim.inject('garbage', 0.6)
    assert driver.run(lambda: not driver.connected(), timeout_s=2.0, move=(1550, 1450))
    assert driver.conn.last_disconnect_reason == REASON_GARBAGE
    assert driver.conn.replies.counts.garbage_replies > driver.conn.config.max_garbage
    assert driver.run(lambda: driver.connected() and not sim.active_faults(), timeout_s=3.0,
                      move=(1550, 1450))
    assert driver.conn.reconnects >= 1
    assert driver.max_call_s < MAX_CALL_S


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
@pytest.mark.parametrize('kind, value', [('silent', 0.0), ('stall', 0.0), ('slow', 0.6)])
def test_an_unresponsive_controller_is_reopened(sim_factory, protocol, kind, value):
    """No reply within reply_timeout_s closes the port; it comes back when the fault ends."""
    sim = sim_factory(protocol)
    driver = connect(sim, protocol)
    sim.inject(kind, 0.7, value)
    assert driver.run(lambda: not driver.connected(), timeout_s=2.0, move=(1520, 1480))
    assert driver.conn.last_disconnect_reason.startswith('no reply')
    assert driver.run(lambda: driver.connected() and not sim.active_faults(), timeout_s=4.0,
                      move=(1520, 1480))
    assert driver.run(lambda: pulse_target(sim) == (1520, 1480), timeout_s=2.0)
    assert driver.max_call_s < MAX_CALL_S


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_slow_replies_within_the_timeout_are_tolerated(sim_factory, protocol):
    """Replies late by less than reply_timeout_s keep the connection up."""
    sim = sim_factory(protocol)
    driver = connect(sim, protocol)
    replies = driver.conn.replies.counts.replies_ok
    sim.inject('slow', 0.8, 0.1)
    driver.run(lambda: False, timeout_s=1.0, move=(1480, 1520))
    assert driver.conn.counts.connects_total == 1 and driver.connected()
    assert driver.conn.replies.counts.replies_ok > replies
    assert sim.counts.replies_delayed_total > 0


# Against a scripted peer on a raw pty -----------------------------------------

class Peer:
    """The master side of a raw pty, answering through SimFirmware unless told otherwise."""

    def __init__(self, protocol):
        """Open the pty and build the firmware."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        model = PanTiltModel(ServoAxisModel(-1.4, 1.4, 3.0), ServoAxisModel(-0.8, 0.8, 3.0))
        self.firmware = SimFirmware(FirmwareConfig(protocol), model)
        self.received = b''
        self.answer = True

    def serve(self):
        """Read what the host sent and answer it (when ``answer`` is set)."""
        try:
            data = os.read(self.master, 65536)
        except (BlockingIOError, OSError):
            return
        self.received += data
        reply = self.firmware.handle(data)
        if reply and self.answer:
            self.send(reply)

    def wait_for(self, expected, timeout_s=2.0):
        """Serve until exactly ``expected`` was received or the deadline; return whether it was."""
        deadline = time.monotonic() + timeout_s
        while self.received != expected and time.monotonic() < deadline:
            self.serve()
            time.sleep(0.001)
        return self.received == expected

    def send(self, data):
        """Write raw bytes to the host."""
        os.write(self.master, data)

    def close(self):
        """Close both ends."""
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def peer_factory():
    """Build scripted peers; close them afterwards."""
    peers = []

    def make(protocol):
        """Build a peer."""
        peer = Peer(protocol)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()


def connect_peer(peer, protocol, **kwargs):
    """Return a Driver connected to a scripted peer."""
    driver = Driver(peer.path, protocol, **kwargs)
    assert driver.run(driver.connected, serve=peer.serve), driver.events
    return driver


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_random_bytes_are_counted_and_survived(peer_factory, protocol):
    """Random bytes from the port never raise; they are counted and the link recovers."""
    peer = peer_factory(protocol)
    driver = connect_peer(peer, protocol)
    for _ in range(20):
        peer.send(os.urandom(200))
        driver.poll()
        driver.move(1500, 1500)
        peer.serve()
    replies = driver.conn.replies.counts
    assert replies.garbage_replies + replies.invalid_replies + replies.error_replies > 0
    assert driver.run(lambda: driver.connected() and replies.replies_ok > 2, timeout_s=3.0,
                      move=(1500, 1500), serve=peer.serve)
    assert driver.max_call_s < MAX_CALL_S


def test_out_of_range_and_error_replies_are_counted_not_fatal(peer_factory):
    """POS out of range is invalid, unparsable lines are garbage, ERR is an error reply."""
    peer = peer_factory('ascii')
    driver = connect_peer(peer, 'ascii')
    peer.send(b'POS 99999 -1\r\nPOS nan 1500\r\nERR RANGE pan_us not in 500..2500\r\n'
              b'BOGUS\r\nPOS 1510 1490\r\n')
    conn = driver.conn
    assert driver.run(lambda: conn.last_positions is not None, timeout_s=2.0)
    assert conn.replies.counts.invalid_replies == 1 and conn.replies.counts.garbage_replies == 2
    assert conn.replies.counts.error_replies == 1
    assert (conn.last_positions.pan_us, conn.last_positions.tilt_us) == (1510.0, 1490.0)
    assert driver.connected() and conn.counts.connects_total == 1
    warnings = ' '.join(driver.messages('warning'))
    assert '99999' in warnings and 'RANGE' in warnings and 'nan' in warnings
    assert 'BOGUS' not in warnings  # a second garbage warning within event_throttle_s


def test_maestro_error_bits_resend_the_targets(peer_factory):
    """Non-zero Maestro error bits make the host send its targets again; undefined bits don't."""
    peer = peer_factory('maestro')
    proto = protocols.make_protocol('maestro')
    driver = connect_peer(peer, 'maestro')
    assert driver.move(1650, 1350)
    move = proto.encode_move(1650, 1350)
    peer.answer = False
    # The next keep-alive (Get Errors) is answered with an error register by hand.
    assert driver.run(lambda: peer.serve() or peer.received.endswith(b'\xa1'), timeout_s=2.0)
    peer.received = b''
    peer.send(b'\x10\x00')
    assert driver.run(lambda: peer.serve() or move in peer.received, timeout_s=2.0)
    assert driver.conn.replies.counts.error_replies == 1 and driver.conn.counts.resends == 1
    assert driver.run(lambda: peer.serve() or peer.received.endswith(b'\xa1'), timeout_s=2.0)
    peer.received = b''
    peer.send(b'\xff\xff')  # bits 9..15 are not defined: a corrupt answer
    replies = driver.conn.replies.counts
    driver.run(lambda: replies.invalid_replies == 1, timeout_s=2.0)
    assert replies.invalid_replies == 1 and replies.error_replies == 1
    assert not peer.wait_for(b'never', timeout_s=0.05) and move not in peer.received


def test_unanswered_handshake_closes_and_backs_off(peer_factory):
    """No handshake reply: it is repeated, then the port closes and reopens after the backoff."""
    peer = peer_factory('ascii')
    peer.answer = False
    conn = ServoConnection(SerialLink(peer.path, write_timeout_s=WRITE_TIMEOUT_S),
                           protocols.make_protocol('ascii'),
                           Backoff(initial_s=1.0, max_s=4.0), **FAST)
    conn.poll(100.0)
    assert conn.state == 'handshaking' and conn.counts.open_attempts == 1
    assert peer.wait_for(b'PING\n')
    conn.poll(100.35)  # reply_timeout_s passed: the handshake is repeated
    assert peer.wait_for(b'PING\n' * 2)
    conn.poll(100.7)  # handshake_timeout_s passed: give up
    assert conn.state == 'disconnected'
    assert conn.last_disconnect_reason == REASON_HANDSHAKE
    conn.poll(101.5)
    assert conn.counts.open_attempts == 1  # still backing off
    conn.poll(101.7)
    assert conn.state == 'handshaking' and conn.counts.open_attempts == 2
    assert peer.wait_for(b'PING\n' * 3)
    assert conn.counts.connects_total == 0
    conn.close()


def test_missing_port_retries_with_backoff_forever_and_throttles_events(tmp_path):
    """An absent device is retried at growing intervals; its warning is not repeated each time."""
    conn = ServoConnection(SerialLink(str(tmp_path / 'ttyNone')),
                           protocols.make_protocol('ascii'),
                           Backoff(initial_s=0.5, max_s=2.0), event_throttle_s=10.0)
    for step in range(1200):
        t = step * 0.05
        conn.poll(t)
        assert conn.send_move(1500, 1500, t) is False
    assert conn.state == 'disconnected'
    # 0.5 + 1 + 2 + 2 + ... within 60 s: about 30 attempts, not 1200.
    counts = conn.counts
    assert 25 <= counts.open_attempts <= 35 and counts.open_failures == counts.open_attempts
    assert counts.commands_dropped == 1200 and counts.commands_sent == 0
    events = conn.drain_events()
    assert 1 <= len(events) <= 7
    assert all(level == 'warning' and 'ttyNone' in m for level, m in events)
    assert 'similar' in events[-1][1]
    assert conn.drain_events() == []


def test_commands_while_disconnected_are_not_queued(peer_factory, tmp_path):
    """After the port appears only the handshake and the latest move are sent."""
    peer = peer_factory('ascii')
    link_path = tmp_path / 'ttyLater'
    driver = Driver(str(link_path), 'ascii')
    for us in range(1400, 1600, 10):
        driver.poll()
        driver.move(us, 1500)
    assert driver.conn.counts.commands_dropped == 20 and driver.conn.counts.commands_sent == 0
    link_path.symlink_to(peer.path)
    assert driver.run(driver.connected, serve=peer.serve, timeout_s=3.0)
    assert peer.wait_for(b'PING\nMOVE 1590 1500\n')


def test_a_hung_port_times_out_writes_without_blocking(peer_factory):
    """When nobody drains the port, a write times out, closes the port and returns at once."""
    peer = peer_factory('ascii')
    driver = connect_peer(peer, 'ascii')
    for _ in range(5000):  # the pty buffer holds about 20 kB: this fills it
        if not driver.move(1500, 1500):
            break
    conn = driver.conn
    assert conn.state == 'disconnected' and conn.link.counts.write_errors_total == 1
    assert 'timeout' in conn.last_disconnect_reason.lower()
    assert driver.max_call_s < MAX_CALL_S


def test_park_sends_the_home_pulse_once_and_does_not_reconnect(peer_factory):
    """park() writes one move, closes the port, and does nothing when not connected."""
    peer = peer_factory('ascii')
    driver = connect_peer(peer, 'ascii')
    driver.run(lambda: False, timeout_s=0.1, serve=peer.serve)
    peer.received = b''
    assert driver.conn.park(1500.0, 1500.0) is True
    assert driver.conn.state == 'disconnected' and not driver.conn.link.is_open
    assert peer.wait_for(b'MOVE 1500 1500\n')
    attempts = driver.conn.counts.open_attempts
    assert driver.conn.park(1500.0, 1500.0) is False
    assert driver.conn.counts.open_attempts == attempts and not driver.conn.link.is_open
    events = driver.conn.drain_events()
    assert any('parked' in m for _, m in events)
    assert any('not parked' in m for _, m in events)


def test_a_second_exclusive_connection_cannot_take_the_port(peer_factory):
    """The port is opened exclusively: a second connection keeps failing to open it."""
    peer = peer_factory('ascii')
    first = connect_peer(peer, 'ascii')
    second = Driver(peer.path, 'ascii')
    second.run(lambda: second.conn.counts.open_failures >= 2, timeout_s=2.0)
    assert second.conn.counts.open_failures >= 2 and second.conn.state == 'disconnected'
    assert 'lock' in second.conn.last_error
    assert first.connected()


def test_invalid_moves_are_rejected_without_raising(peer_factory):
    """A NaN or out-of-range pulse is dropped with an error event, never raised."""
    peer = peer_factory('ascii')
    driver = connect_peer(peer, 'ascii')
    assert driver.move(math.nan, 1500) is False
    assert driver.move(1500, 1e9) is False
    assert driver.conn.last_commanded_us != (1500, 1e9)
    errors = driver.messages('error')
    assert errors and 'pan_us' in errors[0]
    assert driver.connected()


@pytest.mark.parametrize('kwargs, name', [
    ({'reply_timeout_s': 0}, 'reply_timeout_s'), ({'keepalive_s': math.nan}, 'keepalive_s'),
    ({'handshake_timeout_s': 0.1}, 'handshake_timeout_s'), ({'max_garbage': -1}, 'max_garbage'),
    ({'garbage_window_s': -2.0}, 'garbage_window_s'),
    ({'initial_us': (1500.0, math.inf)}, 'initial_us'), ({'backoff': 0.5}, 'backoff')])
def test_bad_settings_raise_value_error_naming_them(kwargs, name):
    """Bad settings raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        ServoConnection(SerialLink('/dev/null'), protocols.make_protocol('ascii'), **kwargs)


def test_protocol_must_be_a_servo_protocol():
    """A protocol name instead of a protocol object is refused with the allowed values."""
    with pytest.raises(ValueError, match='ascii, maestro'):
        ServoConnection(SerialLink('/dev/null'), 'ascii')


def test_an_error_reply_storm_on_an_ascii_link_writes_nothing_extra(peer_factory):
    """An ERR storm on an ASCII link is counted and logged (throttled), never answered.

    Issue 14: unsolicited ``ERR MAESTRO 0x0001`` lines made the host re-send its move for
    every line (17,584 moves in 5 s).
    """
    import threading

    peer = peer_factory('ascii')
    driver = connect_peer(peer, 'ascii')
    stop = threading.Event()
    sent = [0]

    def write_all(data):
        while data and not stop.is_set():
            try:
                data = data[os.write(peer.master, data):]
            except BlockingIOError:
                time.sleep(0.001)

    def flood():
        # The only writer to the pty: answers the host and floods about 10,000 ERR lines/s.
        burst = b'ERR MAESTRO 0x0001\n' * 100
        while not stop.is_set():
            try:
                data = os.read(peer.master, 65536)
            except (BlockingIOError, OSError):
                data = b''
            peer.received += data
            write_all(peer.firmware.handle(data) + burst if data else burst)
            sent[0] += 100
            time.sleep(0.01)

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    requested = 0
    try:
        deadline = time.monotonic() + 2.0
        next_move = 0.0
        while time.monotonic() < deadline:
            driver.poll()
            if time.monotonic() >= next_move:
                driver.move(1500 + requested % 50, 1500)
                requested += 1
                next_move = time.monotonic() + 1 / 30
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join(timeout=2.0)
    conn = driver.conn
    peer.serve()
    moves = peer.received.count(b'MOVE')
    error_replies = conn.replies.counts.error_replies
    assert sent[0] > 1000 and error_replies > 200, (sent[0], error_replies)
    assert conn.counts.resends == 0  # nothing is sent again for an ERR line
    assert moves <= requested + 1, (moves, requested)
    assert conn.counts.connects_total == 1 and driver.connected()
    assert conn.stats(time.monotonic())['recent_error_replies'] > 200
    # Logged throttled: one line for the errors (event_throttle_s is 10 s), no "again" lines.
    errors = [m for m in driver.messages() if 'servo controller error' in m]
    assert len(errors) == 1, driver.messages()
    assert not [m for m in driver.messages() if 'again (after' in m]
    assert driver.max_call_s < MAX_CALL_S


def test_maestro_error_bits_again_and_again_resend_with_backoff(peer_factory):
    """Maestro error bits again and again: the targets are re-sent with backoff.

    The re-sends back off (0.1 s doubling to 5 s) and the log line is throttled.
    """
    peer = peer_factory('maestro')
    driver = connect_peer(peer, 'maestro', keepalive_s=0.05)
    assert driver.move(1650, 1350)
    move = protocols.make_protocol('maestro').encode_move(1650, 1350)
    assert driver.run(lambda: peer.serve() or move in peer.received, timeout_s=2.0)
    peer.answer = False
    peer.received = b''

    def serve():
        before = peer.received.count(b'\xa1')
        peer.serve()
        for _ in range(peer.received.count(b'\xa1') - before):
            peer.send(b'\x10\x00')

    driver.run(lambda: False, timeout_s=2.0, serve=serve)
    conn = driver.conn
    resent = peer.received.count(move)
    errors, counts = conn.replies.counts.error_replies, conn.counts
    assert errors >= 10, errors
    assert 2 <= counts.resends <= 6 and resent == counts.resends, (counts.resends, resent)
    assert counts.resends_skipped >= errors - counts.resends - 1
    again = [m for m in driver.messages() if 'again (after Maestro' in m]
    assert len(again) == 1, again
    assert driver.connected()
