# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the ASCII and Maestro servo protocols: exact bytes and robust parsing."""

import random

import pytest

from face_tracker_ros.servo import protocols
from face_tracker_ros.servo.protocols import Ack, ErrorReply, Garbage, Pong, Positions, Version

make_protocol = protocols.make_protocol
PROTOCOLS = protocols.PROTOCOLS


def feed_in_chunks(protocol, data, sizes):
    """Feed ``data`` cut into chunks of the given sizes (cycled); return all replies."""
    replies, i, k = [], 0, 0
    while i < len(data):
        size = sizes[k % len(sizes)]
        replies += protocol.feed(data[i:i + size])
        i += size
        k += 1
    return replies


def every_split(data):
    """Yield (head, tail) for every cut of ``data``."""
    for cut in range(len(data) + 1):
        yield data[:cut], data[cut:]


# Maestro ---------------------------------------------------------------------

def test_maestro_set_target_bytes():
    """1500 us on channels 0 and 1 is exactly 84 00 70 2E, 84 01 70 2E."""
    proto = make_protocol('maestro')
    assert proto.encode_move(1500, 1500) == bytes.fromhex('84 00 70 2E 84 01 70 2E')
    assert proto.acks_moves is False
    assert proto.name == 'maestro'


def test_maestro_targets_are_quarter_microseconds_on_configured_channels():
    """Targets are 7-bit split quarter-microseconds on the configured channels."""
    proto = make_protocol('maestro', pan_channel=5, tilt_channel=17)
    # 1000.25 us = 4001 quarters = 0x0FA1 -> low7 0x21, high7 0x1F
    # 2000 us = 8000 quarters = 0x1F40 -> low7 0x40, high7 0x3E
    assert proto.encode_move(1000.25, 2000) == bytes.fromhex('84 05 21 1F 84 11 40 3E')


def test_maestro_home_moves_to_the_given_centres():
    """Home is a move to the configured centre pulses."""
    proto = make_protocol('maestro', pan_center_us=1400.0, tilt_center_us=1600.0)
    assert proto.encode_home() == proto.encode_move(1400.0, 1600.0)
    assert proto.feed(b'') == []


@pytest.mark.parametrize('pan, tilt, name', [
    (float('nan'), 1500, 'pan_us'), (1500, -1, 'tilt_us'), (5000, 1500, 'pan_us')])
def test_maestro_rejects_unencodable_pulses(pan, tilt, name):
    """Pulses the 14-bit target cannot carry raise ValueError naming the axis."""
    with pytest.raises(ValueError, match=name):
        make_protocol('maestro').encode_move(pan, tilt)


def test_maestro_query_positions_any_chunking():
    """Get Position answers become one Positions, however they are cut."""
    reply = bytes((6000 & 0xFF, 6000 >> 8, 4001 & 0xFF, 4001 >> 8))  # 1500 us, 1000.25 us
    for head, tail in every_split(reply):
        proto = make_protocol('maestro', pan_channel=2, tilt_channel=3)
        assert proto.encode_query_positions() == bytes.fromhex('90 02 90 03')
        assert proto.feed(head) + proto.feed(tail) == [Positions(1500.0, 1000.25)]
    proto = make_protocol('maestro')
    proto.encode_query_positions()
    assert feed_in_chunks(proto, reply, [1]) == [Positions(1500.0, 1000.25)]


def test_maestro_handshake_replies():
    """Get Errors answers 0 as Pong and other bits as ErrorReply."""
    proto = make_protocol('maestro')
    assert proto.encode_handshake() == b'\xa1'
    assert proto.feed(b'\x00\x00') == [Pong()]
    proto.encode_handshake()
    assert proto.feed(b'\x10') == []
    assert proto.feed(b'\x01') == [ErrorReply('MAESTRO', 'error bits 0x0110')]


def test_maestro_replies_match_requests_in_order_across_chunks():
    """Mixed answers are matched to the requests in order, in any chunking."""
    proto = make_protocol('maestro')
    proto.encode_handshake()
    proto.encode_query_positions()
    proto.encode_handshake()
    stream = b'\x00\x00' + bytes.fromhex('70 17 A0 0F') + b'\x10\x00'
    expected = [Pong(), Positions(1500.0, 1000.0), ErrorReply('MAESTRO', 'error bits 0x0010')]
    for sizes in ([1], [3], [5, 2], [len(stream)]):
        fresh = make_protocol('maestro')
        fresh.encode_handshake()
        fresh.encode_query_positions()
        fresh.encode_handshake()
        assert feed_in_chunks(fresh, stream, sizes) == expected
    assert proto.feed(stream) == expected
    assert proto.pending_replies == 0


def test_maestro_unsolicited_bytes_are_garbage():
    """Bytes nobody asked for are Garbage."""
    proto = make_protocol('maestro')
    assert proto.feed(b'\x01\x02\x03') == [Garbage(b'\x01\x02\x03')]
    proto.encode_handshake()
    assert proto.feed(b'\x00\x00\x99') == [Pong(), Garbage(b'\x99')]


def test_maestro_reset_forgets_outstanding_requests():
    """reset() drops partial answers and outstanding requests."""
    proto = make_protocol('maestro')
    proto.encode_query_positions()
    assert proto.feed(b'\x70') == []
    proto.reset()
    assert proto.pending_replies == 0
    assert proto.feed(b'\x17') == [Garbage(b'\x17')]


def test_maestro_pending_requests_are_bounded():
    """Unanswered requests never grow the queue without bound."""
    proto = make_protocol('maestro')
    for _ in range(10000):
        proto.encode_query_positions()
    assert proto.pending_replies <= 64


# ASCII -----------------------------------------------------------------------

def test_ascii_command_bytes():
    """Each ASCII request has its exact documented bytes."""
    proto = make_protocol('ascii')
    assert proto.name == 'ascii'
    assert proto.acks_moves is True
    assert proto.encode_move(1500, 1200.4) == b'MOVE 1500 1200\n'
    assert proto.encode_move(999.6, 2500) == b'MOVE 1000 2500\n'
    assert proto.encode_query_positions() == b'POS?\n'
    assert proto.encode_handshake() == b'PING\n'
    assert proto.encode_home() == b'HOME\n'
    assert proto.encode_version() == b'VERSION\n'


def test_ascii_rejects_unencodable_pulses():
    """A non-finite pulse raises ValueError naming the axis."""
    with pytest.raises(ValueError, match='tilt_us'):
        make_protocol('ascii').encode_move(1500, float('inf'))


REPLIES = (
    b'PONG\n', b'READY\r\n', b'OK\n', b'VERSION face_tracker_servo 1.0\r\n',
    b'POS 1500 1234\n', b'POS 1499.5 -3\n', b'ERR RANGE pan_us not in 500..2500\n',
    b'ERR UNKNOWN FOO\n', b'ERR SYNTAX\n', b'\r\n', b'  OK  \n')
EXPECTED = [
    Pong(), Pong(), Ack(), Version('face_tracker_servo 1.0'), Positions(1500.0, 1234.0),
    Positions(1499.5, -3.0), ErrorReply('RANGE', 'pan_us not in 500..2500'),
    ErrorReply('UNKNOWN', 'FOO'), ErrorReply('SYNTAX', ''), Ack()]


def test_ascii_every_reply_kind():
    """Every documented reply line parses to its reply object."""
    proto = make_protocol('ascii')
    assert [r for line in REPLIES for r in proto.feed(line)] == EXPECTED


def test_ascii_split_and_merged_chunks():
    """Replies parse the same whole, split at any byte or in small chunks."""
    stream = b''.join(REPLIES)
    assert make_protocol('ascii').feed(stream) == EXPECTED
    for head, tail in every_split(stream):
        proto = make_protocol('ascii')
        assert proto.feed(head) + proto.feed(tail) == EXPECTED
    for sizes in ([1], [2, 7], [13]):
        assert feed_in_chunks(make_protocol('ascii'), stream, sizes) == EXPECTED


@pytest.mark.parametrize('line', [
    b'HELLO\n', b'POS 1500\n', b'POS 1500 abc\n', b'OK OK\n', b'PONG 1\n', b'ERR\n',
    b'pong\n', b'\xff\xfePONG\n', b'PO\x00NG\n', b'OK\rOK\n', b'OK\t\n'])
def test_ascii_unrecognised_lines_are_garbage(line):
    """Unknown, malformed and binary lines are Garbage; the next line parses."""
    proto = make_protocol('ascii')
    assert proto.feed(line + b'OK\n') == [Garbage(line.rstrip(b'\n')), Ack()]


def test_ascii_overlong_line_is_garbage_and_the_next_line_parses():
    """An overlong line is reported once and dropped up to its newline."""
    proto = make_protocol('ascii')
    replies = proto.feed(b'A' * 200)
    assert len(replies) == 1 and isinstance(replies[0], Garbage)
    assert proto.feed(b'B' * 5000) == []  # still the same overlong line: dropped
    assert proto.feed(b'\nPONG\n') == [Pong()]


def test_ascii_line_limit_is_64_characters():
    """Lines of 64 characters parse; 65 characters are Garbage."""
    proto = make_protocol('ascii')
    longest = b'VERSION ' + b'x' * 56
    assert proto.feed(longest + b'\r\n') == [Version('x' * 56)]
    assert isinstance(proto.feed(longest + b'y\n')[0], Garbage)
    assert proto.feed(b'OK\n') == [Ack()]


def test_ascii_binary_junk_never_raises():
    """Random binary junk never raises and parsing recovers afterwards."""
    rng = random.Random(1234)
    proto = make_protocol('ascii')
    for _ in range(200):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        for reply in proto.feed(junk):
            assert isinstance(reply, (Garbage, Ack, Pong, Version, Positions, ErrorReply))
    proto.feed(b'\n')
    assert proto.feed(b'OK\n') == [Ack()]


@pytest.mark.parametrize('name', PROTOCOLS)
def test_feed_of_a_non_bytes_object_does_not_raise(name):
    """Feeding a str is reported as Garbage instead of raising."""
    assert make_protocol(name).feed('PONG\n') == [Garbage(b'')]


# make_protocol ---------------------------------------------------------------

def test_unknown_protocol_names_the_allowed_values():
    """An unknown protocol name lists the allowed names."""
    with pytest.raises(ValueError) as info:
        make_protocol('x')
    assert str(info.value) == "protocol 'x' is not supported; allowed: ascii, maestro"


@pytest.mark.parametrize('kwargs, name', [
    ({'pan_channel': 24}, r'pan_channel \(24\) must be an integer channel in 0\.\.23'),
    ({'tilt_channel': -1}, 'tilt_channel'), ({'pan_channel': 1.0}, 'pan_channel'),
    ({'pan_channel': 1}, 'must differ'),
    ({'pan_center_us': float('nan')}, 'pan_center_us')])
def test_channel_and_centre_validation(kwargs, name):
    """Bad channels and centre pulses raise ValueError naming the parameter."""
    for protocol in PROTOCOLS:
        with pytest.raises(ValueError, match=name):
            make_protocol(protocol, **kwargs)
