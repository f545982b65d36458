# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of SerialLink on real pseudo-terminals and of the reconnect Backoff."""

import os
import time
import tty

import pytest

from face_tracker_ros.servo.link import Backoff, SerialLink


@pytest.fixture
def pty():
    """Yield ``(master_fd, slave_path)`` of a raw pseudo-terminal; close what is left."""
    master, slave = os.openpty()
    tty.setraw(slave)
    fds = {'master': master, 'slave': slave}
    yield fds, os.ttyname(slave)
    for fd in fds.values():
        try:
            os.close(fd)
        except OSError:
            pass


def read_master(master, count, deadline_s=5.0):
    """Read ``count`` bytes from the pty master, polling until a deadline."""
    os.set_blocking(master, False)
    data = b''
    deadline = time.monotonic() + deadline_s
    while len(data) < count and time.monotonic() < deadline:
        try:
            data += os.read(master, count - len(data))
        except BlockingIOError:
            time.sleep(0.002)
    return data


def read_link(link, count, deadline_s=5.0):
    """Collect ``count`` bytes from ``link.read_available``, polling until a deadline."""
    data = b''
    deadline = time.monotonic() + deadline_s
    while len(data) < count and time.monotonic() < deadline:
        chunk = link.read_available()
        if not chunk:
            time.sleep(0.002)
        data += chunk
    return data


def test_write_and_read_on_a_pty(pty):
    """Bytes go both ways through a real pseudo-terminal."""
    fds, path = pty
    link = SerialLink(path)
    assert link.open()
    assert link.is_open and link.counts.opens_total == 1
    assert link.read_available() == b''
    assert link.write(b'PING\n')
    assert read_master(fds['master'], 5) == b'PING\n'
    os.write(fds['master'], b'PONG\r\n')
    assert read_link(link, 6) == b'PONG\r\n'
    link.close()
    assert not link.is_open
    link.close()  # idempotent


def test_open_through_a_symlink_to_the_pty(pty, tmp_path):
    """A symlink to the pty (like a udev name) opens like the device."""
    fds, path = pty
    link_path = tmp_path / 'ttyServo'
    link_path.symlink_to(path)
    link = SerialLink(str(link_path))
    assert link.open(), link.last_error
    assert link.write(b'x')
    assert read_master(fds['master'], 1) == b'x'
    link.close()


def test_open_discards_stale_input(pty):
    """Bytes waiting from before the open are dropped."""
    fds, path = pty
    os.write(fds['master'], b'stale bytes\n')
    link = SerialLink(path)
    assert link.open()
    os.write(fds['master'], b'fresh\n')
    assert read_link(link, 6) == b'fresh\n'
    link.close()


def test_open_missing_path_returns_false_with_reason(tmp_path):
    """A missing device gives False and a reason naming the path."""
    missing = str(tmp_path / 'no' / 'such' / 'tty')
    link = SerialLink(missing)
    assert link.open() is False
    assert not link.is_open
    assert missing in link.last_error
    assert link.counts.opens_total == 0
    assert link.write(b'x') is False
    assert link.read_available() == b''
    assert link.counts.write_errors_total == 0 and link.counts.read_errors_total == 0


def test_unplug_during_write_is_reported_not_raised(pty):
    """Closing the pty master (an unplug) fails a write without raising."""
    fds, path = pty
    link = SerialLink(path)
    assert link.open()
    os.close(fds.pop('master'))
    assert link.write(b'MOVE 1500 1500\n') is False
    assert link.counts.write_errors_total == 1
    assert not link.is_open
    assert link.last_error.startswith('write ')
    assert link.write(b'again') is False  # closed: no new error counted
    assert link.counts.write_errors_total == 1


def test_unplug_during_read_is_reported_not_raised(pty):
    """Closing the pty master (an unplug) fails a read without raising."""
    fds, path = pty
    link = SerialLink(path)
    assert link.open()
    os.close(fds.pop('master'))
    assert link.read_available() == b''
    assert link.counts.read_errors_total == 1
    assert not link.is_open
    assert link.read_available() == b''
    assert link.counts.read_errors_total == 1


def test_reopen_after_the_device_returns(pty):
    """A closed link opens again and counts the opens."""
    fds, path = pty
    link = SerialLink(path)
    assert link.open()
    link.close()
    assert link.open()
    assert link.counts.opens_total == 2
    link.close()


def test_a_write_nobody_drains_times_out_and_closes(pty):
    """A write that cannot finish in time fails and closes the port."""
    fds, path = pty
    link = SerialLink(path, write_timeout_s=0.05)
    assert link.open()
    assert link.write(b'x' * (1 << 20)) is False
    assert link.counts.write_errors_total == 1
    assert not link.is_open


def test_a_hung_write_returns_within_the_write_timeout(pty):
    """However much is written, a write nobody drains gives up after about write_timeout_s."""
    fds, path = pty
    link = SerialLink(path, write_timeout_s=0.05)
    assert link.open()
    start = time.monotonic()
    assert link.write(b'MOVE 1500 1500\n' * 10000) is False
    assert time.monotonic() - start < 0.5
    assert 'timeout' in link.last_error.lower()


def test_the_port_is_locked_exclusively(pty):
    """A second exclusive open of the same device fails while the first holds it."""
    fds, path = pty
    first = SerialLink(path)
    second = SerialLink(path)
    assert first.open()
    assert second.open() is False
    assert 'lock' in second.last_error and path in second.last_error
    first.close()
    assert second.open(), second.last_error
    second.close()


def test_byte_counters_drain_and_a_close_that_keeps_output(pty):
    """Counters follow the traffic; drain() returns; close(discard_output=False) keeps bytes."""
    fds, path = pty
    link = SerialLink(path)
    assert link.drain(0.1) is False  # not open
    assert link.open()
    assert link.write(b'HOME\n')
    assert link.drain(0.5) is True
    link.close(discard_output=False)
    assert read_master(fds['master'], 5) == b'HOME\n'
    assert link.open()
    os.write(fds['master'], b'OK\r\n')
    assert read_link(link, 4) == b'OK\r\n'
    assert link.counts.bytes_written_total == 5 and link.counts.bytes_read_total == 4
    link.close()


def test_pyserial_url():
    """A pyserial URL such as loop:// works as a port."""
    link = SerialLink('loop://')
    assert link.open(), link.last_error
    assert link.write(b'POS?\n')
    assert read_link(link, 5) == b'POS?\n'
    link.close()


@pytest.mark.parametrize('kwargs, name', [
    ({'port': ''}, 'port'), ({'port': '/dev/x', 'baudrate': 0}, 'baudrate'),
    ({'port': '/dev/x', 'write_timeout_s': 0}, 'write_timeout_s')])
def test_link_validation(kwargs, name):
    """Bad constructor arguments raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        SerialLink(**kwargs)


def test_backoff_doubles_up_to_the_cap():
    """Delays double from initial_s and stop at max_s."""
    backoff = Backoff(initial_s=0.5, max_s=5.0, factor=2.0)
    assert backoff.ready(0.0) and backoff.attempts == 0
    now = 100.0
    delays = []
    for _ in range(7):
        backoff.failed(now)
        delays.append(backoff.delay_s)
        assert not backoff.ready(now + backoff.delay_s - 1e-6)
        assert backoff.ready(now + backoff.delay_s)
        now += backoff.delay_s
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert backoff.attempts == 7


def test_backoff_reset_allows_an_attempt_at_once():
    """reset() clears the failures and the wait."""
    backoff = Backoff()
    backoff.failed(10.0)
    assert not backoff.ready(10.1)
    backoff.reset()
    assert backoff.ready(10.1) and backoff.attempts == 0
    backoff.failed(20.0)
    assert backoff.delay_s == 0.5


@pytest.mark.parametrize('kwargs, name', [
    ({'initial_s': 0}, 'initial_s'), ({'max_s': float('nan')}, 'max_s'),
    ({'factor': 0.5}, 'factor'), ({'initial_s': 6.0}, 'max_s')])
def test_backoff_validation(kwargs, name):
    """Bad backoff timings raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        Backoff(**kwargs)
