# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated servo controller on a pseudo-terminal (the model and firmware alone: unit/)."""

import math
import os
import threading
import time

import pytest
import serial

from face_tracker_ros.servo import protocols
from face_tracker_ros.servo.link import SerialLink
from face_tracker_ros.servo.protocols import Ack, ErrorReply, Pong, Positions, Version
from face_tracker_ros.sim.controller import SimServoController

US_PER_RAD = 2000.0 / math.pi


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self):
        """Start at an arbitrary non-zero time."""
        self.t = 1000.0

    def __call__(self):
        """Return the current time."""
        return self.t


class Client:
    """A servo-node-like client: SerialLink plus protocol parser, polling with a deadline."""

    def __init__(self, port_path, protocol):
        """Open a link to ``port_path`` and make a parser for ``protocol``."""
        self.link = SerialLink(port_path)
        assert self.link.open(), self.link.last_error
        self.proto = protocols.make_protocol(protocol)

    def request(self, data, replies=1, deadline_s=5.0):
        """Send ``data`` and return the first ``replies`` parsed replies."""
        assert self.link.write(data)
        got = []
        deadline = time.monotonic() + deadline_s
        while len(got) < replies and time.monotonic() < deadline:
            chunk = self.link.read_available()
            if chunk:
                got += self.proto.feed(chunk)
            else:
                time.sleep(0.002)
        assert len(got) >= replies, 'no reply to {!r} within {} s'.format(data, deadline_s)
        return got

    def sync(self):
        """Return once everything sent before has been handled (a handshake round trip)."""
        assert self.request(self.proto.encode_handshake()) == [Pong()]

    def move(self, pan_us, tilt_us):
        """Command a move and wait until the controller handled it."""
        data = self.proto.encode_move(pan_us, tilt_us)
        if self.proto.acks_moves:
            assert self.request(data) == [Ack()]
        else:
            assert self.link.write(data)
            self.sync()

    def positions(self):
        """Return the controller's reported Positions."""
        (reply,) = self.request(self.proto.encode_query_positions())
        assert isinstance(reply, Positions)
        return reply


@pytest.fixture
def controller_factory(tmp_path):
    """Build started controllers whose links live under tmp_path; stop them afterwards."""
    started = []

    def make(**kwargs):
        """Build and start a controller."""
        kwargs.setdefault('link_path', str(tmp_path / 'dev' / 'ttyServo'))
        ctrl = SimServoController(**kwargs)
        ctrl.start()
        started.append(ctrl)
        return ctrl

    yield make
    for ctrl in started:
        ctrl.stop()


# The controller on a pseudo-terminal --------------------------------------------

@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_move_takes_time_and_reaches_the_target(controller_factory, protocol):
    """Over the pty a move slews at finite speed and ends on target."""
    clock = ManualClock()
    ctrl = controller_factory(protocol=protocol, clock=clock)
    client = Client(ctrl.port_path, protocol)
    client.move(2000, 1000)
    assert ctrl.angles() == (0.0, 0.0)  # no time has passed: not there instantly
    clock.t += 0.1
    pan, tilt = ctrl.angles()
    assert pan == pytest.approx(0.3) and tilt == pytest.approx(-0.3)
    reported = client.positions()
    assert reported.pan_us == pytest.approx(1500.0 + 0.3 * US_PER_RAD, abs=0.5)
    assert reported.tilt_us == pytest.approx(1500.0 - 0.3 * US_PER_RAD, abs=0.5)
    clock.t += 1.0
    assert ctrl.angles() == pytest.approx((math.pi / 4, -math.pi / 4))
    reported = client.positions()
    assert (reported.pan_us, reported.tilt_us) == pytest.approx((2000.0, 1000.0), abs=0.5)
    client.link.close()


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_travel_limits_hold(controller_factory, protocol):
    """Moves beyond the travel limits stop at the limits."""
    clock = ManualClock()
    ctrl = controller_factory(protocol=protocol, clock=clock)
    client = Client(ctrl.port_path, protocol)
    client.move(2500, 500)
    clock.t += 10.0
    assert ctrl.angles() == pytest.approx((1.4, -0.8))
    reported = client.positions()
    assert reported.pan_us == pytest.approx(1500.0 + 1.4 * US_PER_RAD, abs=0.5)
    assert reported.tilt_us == pytest.approx(1500.0 - 0.8 * US_PER_RAD, abs=0.5)
    client.link.close()


def test_ascii_bad_commands_get_errors(controller_factory):
    """Bad ASCII commands over the pty get ERR replies and do not move."""
    ctrl = controller_factory(protocol='ascii')
    client = Client(ctrl.port_path, 'ascii')
    assert client.request(b'FLY\n') == [ErrorReply('UNKNOWN', 'FLY')]
    assert client.request(b'MOVE 3000 1500\n') == [
        ErrorReply('RANGE', 'pan_us not in 500..2500')]
    assert client.request(b'MOVE 1500\n')[0].code == 'SYNTAX'
    assert client.request(b'\x00\x01\x02\n')[0].code == 'SYNTAX'
    assert client.request(b'VERSION\n') == [Version('face_tracker_ros sim-firmware 1.0')]
    assert ctrl.angles() == (0.0, 0.0)
    assert ctrl.firmware.counts.errors_total == 4
    client.link.close()


def test_maestro_bad_bytes_show_up_in_the_error_register(controller_factory):
    """Malformed Maestro bytes set the protocol error bit read by Get Errors."""
    ctrl = controller_factory(protocol='maestro')
    client = Client(ctrl.port_path, 'maestro')
    client.sync()
    assert client.link.write(b'\x7f\xee')
    assert client.request(client.proto.encode_handshake()) == [
        ErrorReply('MAESTRO', 'error bits 0x0010')]
    client.sync()
    client.link.close()


def test_real_clock_move_reaches_the_target(controller_factory):
    """With the wall clock a move reaches its target."""
    ctrl = controller_factory(protocol='ascii')
    client = Client(ctrl.port_path, 'ascii')
    client.move(1700, 1300)
    target = (200.0 / US_PER_RAD, -200.0 / US_PER_RAD)
    deadline = time.monotonic() + 5.0
    while ctrl.angles() != pytest.approx(target) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ctrl.angles() == pytest.approx(target)
    client.link.close()


def test_angles_can_be_read_from_another_thread(controller_factory):
    """angles() is safe to call while the reader thread handles commands."""
    ctrl = controller_factory(protocol='ascii')
    client = Client(ctrl.port_path, 'ascii')
    stop = threading.Event()
    samples = []

    def reader():
        """Sample the angles until told to stop."""
        while not stop.is_set():
            samples.append(ctrl.angles())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for us in (1600, 1400, 1550, 1450):
            client.move(us, us)
    finally:
        stop.set()
        thread.join()
    assert samples and all(abs(p) <= 1.4 and abs(t) <= 0.8 for p, t in samples)
    client.link.close()


def test_link_is_replaced_and_removed(tmp_path):
    """A stale link is replaced, stop() removes it and the client sees an unplug."""
    link_path = tmp_path / 'a' / 'b' / 'ttyServo'
    link_path.parent.mkdir(parents=True)
    link_path.symlink_to('/dev/pts/no-such-pty')  # stale link from a crashed run
    ctrl = SimServoController(link_path=str(link_path))
    assert ctrl.start() == str(link_path)
    try:
        assert os.path.realpath(link_path).startswith('/dev/pts/')
        client = Client(str(link_path), 'ascii')
        client.sync()
    finally:
        ctrl.stop()
    assert not os.path.lexists(link_path)
    # The client sees an unplugged device, and nothing raises.
    assert client.link.read_available() == b'' or client.link.write(b'PING\n') is False
    assert client.link.counts.read_errors_total + client.link.counts.write_errors_total >= 1
    ctrl.stop()  # idempotent


def test_parent_directories_are_created_and_a_file_is_not_replaced(tmp_path):
    """Missing parents are created; a regular file is never replaced."""
    ctrl = SimServoController(link_path=str(tmp_path / 'x' / 'y' / 'servo'))
    ctrl.start()
    assert os.path.islink(tmp_path / 'x' / 'y' / 'servo')
    ctrl.stop()
    regular = tmp_path / 'regular'
    regular.write_text('keep me')
    with pytest.raises(FileExistsError, match='link_path'):
        SimServoController(link_path=str(regular)).start()
    assert regular.read_text() == 'keep me'


def test_without_link_path_the_pty_itself_is_the_port():
    """Without link_path the /dev/pts name is the port."""
    ctrl = SimServoController(protocol='maestro')
    try:
        port = ctrl.start()
        assert port.startswith('/dev/pts/') and ctrl.port_path == port
        Client(port, 'maestro').sync()
    finally:
        ctrl.stop()


# Serial faults -------------------------------------------------------------------


def test_error_storm_floods_err_lines_besides_the_replies(controller_factory):
    """error_storm: unsolicited ERR lines at about ``value`` per second; commands still work."""
    sim = controller_factory(protocol='ascii')
    sim.inject('error_storm', 0.5, 2000)
    port = serial.Serial(sim.port_path, timeout=0.05)
    try:
        port.write(b'PING\n')
        data = b''
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            data += port.read(65536)
        lines = [line.strip() for line in data.split(b'\n')]
        assert b'PONG' in lines
        storm = lines.count(b'ERR MAESTRO 0x0001')
        assert 100 <= storm <= 1200, storm
        assert sim.counts.storm_lines_total >= storm
    finally:
        port.close()


def collect(client, seconds):
    """Return every reply the client parses within ``seconds``."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        chunk = client.link.read_available()
        if chunk:
            got += client.proto.feed(chunk)
        else:
            time.sleep(0.002)
    return got


def test_scheduled_silence_acts_without_replying(controller_factory):
    """A scheduled 'silent' window: commands act, replies are withheld until it ends."""
    ctrl = controller_factory(protocol='ascii', faults=['silent:0:0.4'])
    client = Client(ctrl.port_path, 'ascii')
    assert ctrl.active_faults() == ['silent']
    assert client.link.write(b'MOVE 1700 1500\n')
    assert collect(client, 0.1) == []
    deadline = time.monotonic() + 2.0
    while ctrl.firmware.counts.commands_total < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert ctrl.model.pan.target == pytest.approx(200.0 / US_PER_RAD)
    while ctrl.active_faults() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.sync()
    assert ctrl.counts.replies_suppressed_total == 1
    client.link.close()


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_disconnect_unplugs_and_replugs_at_the_same_path(controller_factory, protocol):
    """The pty closes and the link vanishes; afterwards the same path leads to a new pty."""
    ctrl = controller_factory(protocol=protocol)
    client = Client(ctrl.port_path, protocol)
    client.sync()
    ctrl.inject('disconnect', 0.4)
    deadline = time.monotonic() + 2.0
    while os.path.lexists(ctrl.port_path) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not os.path.lexists(ctrl.port_path)
    while client.link.is_open and time.monotonic() < deadline:
        client.link.read_available()
        client.link.write(client.proto.encode_handshake())
        time.sleep(0.01)
    assert not client.link.is_open  # the old client saw an unplug, nothing raised
    assert client.link.open() is False  # nothing to open while unplugged
    while not os.path.lexists(ctrl.port_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert os.path.realpath(ctrl.port_path).startswith('/dev/pts/')
    again = Client(ctrl.port_path, protocol)
    again.move(1600, 1400)
    assert ctrl.counts.disconnects_total == 1 and ctrl.active_faults() == []
    again.link.close()


@pytest.mark.parametrize('protocol', protocols.PROTOCOLS)
def test_garbage_replaces_replies_and_adds_junk(controller_factory, protocol):
    """While 'garbage' is active every answer is junk and junk also arrives unasked."""
    ctrl = controller_factory(protocol=protocol, fault_seed=3)
    client = Client(ctrl.port_path, protocol)
    client.sync()
    ctrl.inject('garbage', 0.5, 4)
    junk = collect(client, 0.25)  # nothing asked: junk arrives anyway
    assert junk and all(not isinstance(r, (Ack, Pong, Positions)) for r in junk)
    assert client.link.write(client.proto.encode_move(1700, 1300))
    replies = collect(client, 0.1)
    assert replies and all(not isinstance(r, (Ack, Pong, Positions)) for r in replies)
    assert ctrl.model.pan.target == pytest.approx(200.0 / US_PER_RAD)  # the command acted
    assert ctrl.counts.garbage_bytes_total > 0
    deadline = time.monotonic() + 2.0
    while ctrl.active_faults() and time.monotonic() < deadline:
        time.sleep(0.01)
    collect(client, 0.05)
    client.proto.reset()
    client.sync()
    client.link.close()


def test_slow_delays_every_reply_in_order(controller_factory):
    """'slow' sends each reply ``value`` seconds late, in order."""
    ctrl = controller_factory(protocol='ascii')
    client = Client(ctrl.port_path, 'ascii')
    ctrl.inject('slow', 1.0, 0.3)
    start = time.monotonic()
    assert client.link.write(b'PING\nVERSION\n')
    assert collect(client, 0.15) == []
    replies = collect(client, 0.5)
    assert replies == [Pong(), Version('face_tracker_ros sim-firmware 1.0')]
    assert time.monotonic() - start >= 0.3
    assert ctrl.counts.replies_delayed_total >= 1
    ctrl.clear_faults()
    client.sync()
    client.link.close()


def test_stall_stops_reading_until_it_ends(controller_factory):
    """A stalled controller reads nothing: writes fill the pty and time out; then it catches up."""
    ctrl = controller_factory(protocol='ascii')
    client = Client(ctrl.port_path, 'ascii')
    client.sync()
    handled = ctrl.firmware.counts.commands_total
    ctrl.inject('stall', 0.6)
    time.sleep(0.02)  # let the reader thread see the stall before the bytes arrive
    assert client.link.write(b'MOVE 1600 1500\n')
    start = time.monotonic()
    assert client.link.write(b'\n' * 100000) is False  # blank lines fill the buffer
    assert time.monotonic() - start < 0.5
    assert client.link.counts.write_errors_total == 1
    assert ctrl.firmware.counts.commands_total == handled
    deadline = time.monotonic() + 3.0
    while ctrl.firmware.counts.commands_total == handled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ctrl.firmware.counts.commands_total == handled + 1  # the MOVE, read after the stall
    assert ctrl.model.pan.target == pytest.approx(100.0 / US_PER_RAD)


# Stopping while a client is connected ---------------------------------------------------


@pytest.mark.parametrize('protocol', ['ascii', 'maestro'])
def test_stop_serves_a_connected_client_until_it_closes_the_port(tmp_path, protocol):
    """The servo node's park, sent just after the controller's own stop began, is handled."""
    ctrl = SimServoController(protocol=protocol, link_path=str(tmp_path / 'servo'))
    ctrl.start()
    client = Client(ctrl.port_path, protocol)
    client.move(1800, 1200)
    stopper = threading.Thread(target=ctrl.stop, kwargs={'linger_s': 5.0})
    stopper.start()
    time.sleep(0.3)  # the controller is stopping; the client parks and closes the port
    client.move(1500, 1500)
    client.link.close()
    stopper.join(timeout=10.0)
    assert not stopper.is_alive()
    assert ctrl.linger_end == 'client closed the port'
    assert ctrl.linger_commands >= 1 and 0.3 <= ctrl.lingered_s < 4.0
    assert ctrl.model.pan.target == pytest.approx(0.0) and ctrl.model.tilt.target == \
        pytest.approx(0.0)
    assert not os.path.lexists(tmp_path / 'servo')


def test_stop_is_immediate_without_a_client_and_bounded_with_a_silent_one(tmp_path):
    ctrl = SimServoController(link_path=str(tmp_path / 'servo'))
    ctrl.start()
    started = time.monotonic()
    ctrl.stop(linger_s=5.0)
    assert time.monotonic() - started < 2.0 and ctrl.linger_end == 'no client'
    ctrl = SimServoController(link_path=str(tmp_path / 'servo'))
    ctrl.start()
    client = Client(ctrl.port_path, 'ascii')
    try:
        client.sync()
        ctrl.stop(linger_s=0.5)  # the client keeps the port open and sends nothing
        assert ctrl.linger_end == 'time limit' and ctrl.linger_commands == 0
        assert 0.4 <= ctrl.lingered_s < 2.0
    finally:
        client.link.close()
