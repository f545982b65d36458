# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""LogFileWriter: rotation without loss, line format, tracebacks, repeats and filtering."""

from datetime import datetime, timezone
import re
import traceback

from conftest import fill_disk
import pytest

from face_tracker_ros.monitor.logfile import LEVEL_NAMES, LogFileWriter

STAMP = datetime(2026, 3, 1, 12, 0, 5, 123000, tzinfo=timezone.utc).timestamp()
LINE = re.compile(r'^(\S+) (DEBUG|INFO|WARN|ERROR|FATAL) \[([^\]]+)\] (.*)$')


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.t = 50.0

    def __call__(self):
        return self.t


def read_lines(path):
    return path.read_text(encoding='utf-8').splitlines()


def test_rotation_keeps_backups_plus_current_and_loses_no_line(tmp_path):
    path = tmp_path / 'logs' / 'face_tracker.log'
    writer = LogFileWriter(str(path), max_bytes=2000, backups=3)
    for i in range(500):
        writer.write(STAMP + i, 20, 'camera', f'record {i:04d}')
    writer.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ['face_tracker.log', 'face_tracker.log.1', 'face_tracker.log.2',
                     'face_tracker.log.3']
    numbers = []
    for name in reversed(files[1:]):  # oldest generation first
        numbers += [int(line.rsplit(' ', 1)[1]) for line in read_lines(path.parent / name)]
    numbers += [int(line.rsplit(' ', 1)[1]) for line in read_lines(path)]
    # The oldest generations are discarded; what is left is the newest contiguous run,
    # in order, without duplicates.
    assert numbers == list(range(numbers[0], 500))
    assert numbers[0] > 0
    for name in files:
        assert (path.parent / name).stat().st_size <= 2000
    assert writer.counts.lines_written == 500


def test_line_format_and_iso_timestamps(tmp_path):
    path = tmp_path / 'a.log'
    with LogFileWriter(str(path)) as writer:
        writer.write(STAMP, 40, 'detector', 'model missing', file='x.py', function='f', line=3)
        writer.write(STAMP + 0.5, 10, 'servo', 'tick')
    lines = read_lines(path)
    assert lines[0] == '2026-03-01T12:00:05.123+00:00 ERROR [detector] model missing'
    for line in lines:
        stamp, level, node, message = LINE.match(line).groups()
        parsed = datetime.fromisoformat(stamp)
        assert parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0
    assert datetime.fromisoformat(LINE.match(lines[1]).group(1)).timestamp() == \
        pytest.approx(STAMP + 0.5, abs=1e-3)
    assert [LINE.match(line).group(2) for line in lines] == ['ERROR', 'DEBUG']


def test_traceback_lines_each_carry_the_prefix(tmp_path):
    path = tmp_path / 'tb.log'
    try:
        {}['missing']
    except KeyError:
        text = 'capture failed:\n' + traceback.format_exc()
    with LogFileWriter(str(path)) as writer:
        writer.write(STAMP, 40, 'camera', text)
        writer.write(STAMP, 20, 'camera', 'recovered')
    lines = read_lines(path)
    assert len(lines) == len(text.splitlines()) + 1
    errors = [line for line in lines if ' ERROR [camera] ' in line]
    assert len(errors) == len(text.splitlines())
    assert any('Traceback (most recent call last):' in line for line in errors)
    assert any("KeyError: 'missing'" in line for line in errors)
    assert all(LINE.match(line) for line in lines)


def test_repeats_are_collapsed_with_their_count(tmp_path):
    path = tmp_path / 'r.log'
    clock = FakeClock()
    writer = LogFileWriter(str(path), clock=clock)
    for _ in range(5):
        clock.t += 1.0
        writer.write(STAMP, 30, 'camera', 'frame late')
    writer.write(STAMP + 6, 30, 'servo', 'frame late')  # other node: a different record
    writer.write(STAMP + 7, 30, 'servo', 'frame late')
    writer.flush()
    writer.write(STAMP + 8, 30, 'servo', 'frame late')
    writer.close()
    messages = [LINE.match(line).group(3, 4) for line in read_lines(path)]
    assert messages == [
        ('camera', 'frame late'),
        ('camera', '(previous message repeated 4 times)'),
        ('servo', 'frame late'),
        ('servo', '(previous message repeated 1 time)'),
        ('servo', 'frame late'),
    ]
    assert writer.counts.records_dropped_repeats == 5


def test_a_stuck_message_is_written_again_each_window(tmp_path):
    path = tmp_path / 'w.log'
    clock = FakeClock()
    writer = LogFileWriter(str(path), repeat_window_s=60.0, clock=clock)
    for second in range(0, 125):  # once a second for a bit over two minutes
        clock.t = 1000.0 + second
        writer.write(STAMP + second, 40, 'camera', 'device gone')
    writer.close()
    messages = [LINE.match(line).group(4) for line in read_lines(path)]
    assert messages == [
        'device gone', '(previous message repeated 59 times)',
        'device gone', '(previous message repeated 59 times)',
        'device gone', '(previous message repeated 4 times)',
    ]


def test_repeat_window_zero_writes_everything(tmp_path):
    path = tmp_path / 'z.log'
    with LogFileWriter(str(path), repeat_window_s=0.0) as writer:
        for _ in range(3):
            writer.write(STAMP, 20, 'camera', 'same')
    assert len(read_lines(path)) == 3


def test_min_level_filters(tmp_path):
    path = tmp_path / 'f.log'
    with LogFileWriter(str(path), min_level=30) as writer:
        for level in sorted(LEVEL_NAMES):
            writer.write(STAMP, level, 'camera', f'at {level}')
    assert [LINE.match(line).group(2) for line in read_lines(path)] == ['WARN', 'ERROR', 'FATAL']
    assert writer.counts.records_dropped_level == 2


def test_bad_input_never_raises(tmp_path):
    path = tmp_path / 'b.log'
    writer = LogFileWriter(str(path))
    writer.write(float('nan'), 20, 'camera', 'nan stamp')
    writer.write(1e30, 20, 'camera', 'huge stamp')
    writer.write(0.0, 20, 'camera', 'zero stamp')
    writer.write(STAMP, 'loud', 'camera', 'bad level')
    writer.write(STAMP, 25, 'odd\nnode', None)
    writer.write(STAMP, 20, 'camera', 'bad \udcff surrogate and \x00 nul')
    writer.write(STAMP, 20, 'camera', '')
    writer.close()
    writer.write(STAMP, 40, 'camera', 'after close')
    writer.flush()
    writer.close()
    lines = read_lines(path)
    assert len(lines) == 7
    for line in lines:
        datetime.fromisoformat(line.split(' ', 1)[0])
    assert '[odd node]' in lines[4]


def test_creates_the_directory_and_fails_clearly_when_it_cannot(tmp_path):
    path = tmp_path / 'deep' / 'er' / 'x.log'
    LogFileWriter(str(path)).close()
    assert path.exists()
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a directory')
    bad = blocker / 'x.log'
    with pytest.raises(OSError, match=re.escape(str(bad))):
        LogFileWriter(str(bad))


@pytest.mark.parametrize('kwargs, name', [
    ({'max_bytes': 0}, 'max_bytes'),
    ({'backups': 0}, 'backups'),
    ({'min_level': 25}, 'min_level'),
    ({'repeat_window_s': -1.0}, 'repeat_window_s'),
])
def test_bad_parameters_are_clear_errors(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        LogFileWriter(str(tmp_path / 'p.log'), **kwargs)


# -- losses said, not hidden (issue 14, finding 5) ------------------------------------------------

def _check_whole_lines(lines):
    for line in lines:
        assert LINE.match(line), line


def test_a_full_disk_holds_lines_back_and_writes_them_late_with_a_note(small_disk):
    path = small_disk / 'face_tracker.log'
    writer = LogFileWriter(str(path), repeat_window_s=0, clock=FakeClock())
    writer.write(STAMP, 20, 'servo', 'before the disk filled')
    filler = fill_disk(small_disk)
    for i in range(200):
        writer.write(STAMP + 1 + i, 30, 'camera', f'while full {i:03d} ' + 'x' * 40)
    assert writer.write_errors >= 1
    lines = read_lines(path)
    _check_whole_lines(lines)  # no half line was left behind
    # The file's last page may still take a few lines; the rest is held back.
    held = writer.lines_held_back
    assert held >= 100 and len(lines) - 1 + held == 200 and writer.counts.lines_lost == 0
    assert 'No space left' in writer.last_error
    filler.unlink()
    writer._clock.t += 1.0
    writer.write(STAMP + 300, 20, 'servo', 'after the disk was freed')
    writer.close()
    lines = read_lines(path)
    _check_whole_lines(lines)
    full = [line for line in lines if 'while full' in line]
    assert [int(line.split()[-2]) for line in full] == list(range(200))
    assert f'the {held} lines above were held back since' in lines[-2]
    assert 'No space left on device' in lines[-2] and ' WARN [diagnostics] ' in lines[-2]
    assert lines[-1].endswith('after the disk was freed')
    assert writer.counts.lines_late == held and writer.lines_held_back == 0


def test_lines_beyond_the_backlog_are_counted_lost_and_said(tmp_path, monkeypatch):
    import errno
    import os

    path = tmp_path / 'face_tracker.log'
    clock = FakeClock()
    writer = LogFileWriter(str(path), repeat_window_s=0, clock=clock, backlog_lines=10)
    real_write = os.write
    full = [True]

    def write(fd, data):
        if full[0] and fd > 2:
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_write(fd, data)

    monkeypatch.setattr(os, 'write', write)
    for i in range(25):
        writer.write(STAMP + i, 20, 'detector', f'record {i}')
    assert writer.lines_held_back == 10 and writer.counts.lines_lost == 15
    full[0] = False
    clock.t += 1.0
    writer.flush()
    lines = read_lines(path)
    assert [line.split()[-1] for line in lines[:10]] == [str(i) for i in range(15, 25)]
    assert '15 older ones did not fit in memory and are lost' in lines[10]
    writer.close()


def test_a_restarted_writer_skips_records_already_in_the_file(tmp_path):
    # /rosout is replayed to a new subscriber (transient local): a restarted diagnostics node
    # must not write those lines twice.
    path = tmp_path / 'face_tracker.log'
    records = [(STAMP + i * 0.25, 20 if i % 3 else 30, f'node{i % 4}', f'message {i}')
               for i in range(60)]
    records.append((STAMP + 20.0, 40, 'camera', 'failed:\nTraceback (most recent call last):'))
    with LogFileWriter(str(path)) as writer:
        for record in records:
            writer.write(*record)
    before = read_lines(path)
    with LogFileWriter(str(path)) as writer:
        for record in records[30:]:  # the replay
            writer.write(*record)
        writer.write(STAMP + 30.0, 20, 'servo', 'new after the restart')
        # Same text as an old record, but later: a new record, written.
        writer.write(STAMP + 31.0, 20, 'node1', 'message 1')
    lines = read_lines(path)
    assert lines[:len(before)] == before
    assert lines[len(before):] == [
        '2026-03-01T12:00:35.123+00:00 INFO [servo] new after the restart',
        '2026-03-01T12:00:36.123+00:00 INFO [node1] message 1']
    assert writer.counts.duplicates_skipped == 31


def test_node_log_files_are_read_back_and_recovered_once(tmp_path):
    from face_tracker_ros.monitor.logfile import read_node_log

    node_log = tmp_path / 'python_4242_1700000000000.log'
    node_log.write_text(
        '[INFO] [1700000000.100000000] [chatter]: line 0\n'
        '[WARN] [1700000001.250000123] [chatter]: line 1\n'
        '[ERROR] [1700000002.000000000] [chatter]: failed:\n'
        'Traceback (most recent call last):\n'
        '  File "x.py", line 1\n'
        '[INFO] [1700000003.000000000] [chatter]: line 3\n')
    records = read_node_log(str(node_log), 1700000001.0, 1700000002.5)
    assert records == [(1700000001.250000123, 30, 'chatter', 'line 1'),
                       (1700000002.0, 40, 'chatter',
                        'failed:\nTraceback (most recent call last):\n  File "x.py", line 1')]
    assert len(read_node_log(str(node_log))) == 4
    assert read_node_log(str(tmp_path / 'missing.log')) == []

    path = tmp_path / 'face_tracker.log'
    writer = LogFileWriter(str(path), repeat_window_s=0)
    # /rosout delivered line 0 and line 3; line 1 and the traceback expired unread.
    writer.write(1700000000.1, 20, 'chatter', 'line 0')
    writer.write(1700000003.0, 20, 'chatter', 'line 3')
    writer.write(1700000005.0, 20, 'chatter', 'line 5')
    assert writer.recover(read_node_log(str(node_log)), 1699999999.0, 1700000004.0) == 2
    # A late copy from /rosout after the recovery is skipped too.
    writer.write(1700000001.250000123, 30, 'chatter', 'line 1')
    writer.close()
    lines = read_lines(path)
    assert [line.split('] ', 1)[1] for line in lines] == [
        'line 0', 'line 3', 'line 5', 'line 1', 'failed:', 'Traceback (most recent call last):',
        '  File "x.py", line 1']
    assert writer.counts.lines_recovered == 2 and writer.counts.duplicates_skipped == 3


def test_a_removed_log_file_is_reopened_and_said(tmp_path):
    import shutil

    path = tmp_path / 'logs' / 'face_tracker.log'
    writer = LogFileWriter(str(path))
    writer.write(STAMP, 20, 'camera', 'before')
    shutil.rmtree(path.parent)  # someone cleans up the log directory
    writer.write(STAMP + 1, 20, 'camera', 'into the removed file')
    writer.flush()  # the diagnostics node flushes once a second
    writer.write(STAMP + 2, 20, 'camera', 'after')
    writer.close()
    lines = read_lines(path)
    assert 'was removed or replaced while it was written; reopened' in lines[0]
    assert lines[1].endswith('[camera] after') and len(lines) == 2
    assert writer.counts.reopened == 1
