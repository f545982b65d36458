# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Resource readings on real processes: leaks, zombies, vanishing processes, restarts."""

import itertools
import math
import os
import re
import subprocess
import sys
import time

from conftest import wait_for
import psutil
import pytest

from face_tracker_ros.monitor.resources import (
    process_summary_line,
    ProcessSample,
    ProcessWatcher,
    sample_system,
)
from face_tracker_ros.monitor.trend import LeakTrend

_counter = itertools.count()

SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(60)"
# Allocates and keeps 2 MB (pages written, so they count in RSS) every 0.2 s,
# stopping at 120 MB so a forgotten child cannot eat the machine.
LEAKER = """
import time
blocks = []
print('ready', flush=True)
while True:
    if len(blocks) < 60:
        blocks.append(b'\\x01' * (2 * 1024 * 1024))
    time.sleep(0.2)
"""
BUSY = 'import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass'


def unique_name(prefix='fake_node'):
    """Return a node name no other test run on this machine uses."""
    return f'{prefix}_{os.getpid()}_{next(_counter)}'


@pytest.fixture
def spawn():
    """Start ``python -c code --ros-args -r __node:=name`` processes; kill them at the end."""
    procs = []

    def start(name, code=SLEEPER):
        proc = subprocess.Popen([sys.executable, '-c', code, '--ros-args', '-r',
                                 f'__node:={name}'], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def wait_ready(proc):
    """Wait until the child's interpreter has started and printed its ready line."""
    assert proc.stdout.readline().strip() == 'ready'


def stop(proc):
    proc.kill()
    proc.wait(timeout=10)


def test_find_by_node_remap_only(spawn):
    name = unique_name()
    other = spawn(unique_name())
    # A decoy whose code merely mentions the remap text is not the node.
    decoy = spawn('x', code=f'import time  # __node:={name}\ntime.sleep(60)')
    watcher = ProcessWatcher(name)
    assert watcher.find() is None
    target = spawn(name)
    assert wait_for(watcher.find) == target.pid
    assert watcher.pid == target.pid
    assert watcher.find() not in (other.pid, decoy.pid)
    assert watcher.restarts == 0


def test_set_pid_is_preferred_but_checked(spawn):
    name = unique_name()
    first = spawn(name)
    wait_ready(first)
    second, unrelated = spawn(name), spawn(unique_name())
    wait_ready(second)
    wait_ready(unrelated)
    watcher = ProcessWatcher(name)
    assert watcher.find() == second.pid  # without a hint, the newest
    watcher.set_pid(first.pid)
    assert watcher.find() == first.pid
    # A stale pid of another program is ignored; the scan finds the node again.
    watcher.set_pid(unrelated.pid)
    assert watcher.find() == first.pid
    # The current process is never the answer.
    watcher.set_pid(os.getpid())
    assert watcher.find() == first.pid
    # Moving between two processes that both run is not a restart (it was counted as one
    # each time, so two restarts showed as four).
    assert watcher.restarts == 0
    stop(first)
    assert watcher.find() == second.pid
    assert watcher.restarts == 0


def test_restarts_are_counted_on_pid_change(spawn):
    name = unique_name()
    watcher = ProcessWatcher(name, trend=LeakTrend(window_s=60.0, min_span_s=0.0))
    first = spawn(name)
    assert wait_for(watcher.find) == first.pid
    assert wait_for(watcher.sample) is not None
    stop(first)
    assert watcher.sample() is None
    assert watcher.restarts == 0
    second = spawn(name)
    assert wait_for(watcher.sample) is not None
    assert watcher.pid == second.pid
    assert watcher.restarts == 1
    assert len(watcher.trend) == 1  # the new process's history starts afresh
    assert len(watcher.anon_trend) == 1
    stop(second)
    third = spawn(name)
    assert wait_for(watcher.find) == third.pid
    assert watcher.restarts == 2


def test_leaking_process_shows_a_large_slope_and_a_sleeping_one_none(spawn):
    # The leaker grows 2 MB per 0.2 s = 10 MB/s = 36000 MB/h.  Sampling every
    # 0.2 s for a bit over min_span_s (3 s) fits a line through about 16
    # readings; scheduling jitter on a busy machine can shift a reading by a
    # block or two, so accept anything above a quarter of the nominal rate.
    nominal_mb_per_h = 2.0 / 0.2 * 3600.0
    leak_name, idle_name = unique_name('leaky'), unique_name('idle')
    leaker = spawn(leak_name, code=LEAKER)
    sleeper = spawn(idle_name)
    # Start sampling once both interpreters have started, so start-up growth is not counted.
    wait_ready(leaker)
    wait_ready(sleeper)
    leaky = ProcessWatcher(leak_name, trend=LeakTrend(window_s=10.0, min_span_s=3.0))
    idle = ProcessWatcher(idle_name, trend=LeakTrend(window_s=10.0, min_span_s=3.0))
    assert leaky.find() == leaker.pid and idle.find() == sleeper.pid
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline and (leaky.trend.slope_mb_per_h() is None
                                           or idle.trend.slope_mb_per_h() is None):
        assert leaky.sample() is not None
        assert idle.sample() is not None
        time.sleep(0.2)
    for trend in ('trend', 'anon_trend'):  # a heap leak shows in RSS and in its anonymous part
        leak_slope = getattr(leaky, trend).slope_mb_per_h()
        idle_slope = getattr(idle, trend).slope_mb_per_h()
        assert leak_slope is not None and idle_slope is not None, trend
        assert leak_slope > nominal_mb_per_h / 4.0, trend
        assert abs(idle_slope) < nominal_mb_per_h / 100.0, trend


# Maps a 64 MB shared-memory file and reads it page by page, as a node takes in another
# process's Fast DDS segment: RSS grows, the anonymous memory does not.
SHM_READER = """
import mmap, os, sys, time
path = sys.argv[1]
with open(path, 'wb') as f:
    f.truncate(64 * 1024 * 1024)
fd = os.open(path, os.O_RDWR)
view = mmap.mmap(fd, 64 * 1024 * 1024)
print('ready', flush=True)
sys.stdin.readline()
total = sum(view[i] for i in range(0, len(view), 4096))
print('read', total, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith('linux') or not os.path.isdir('/dev/shm'),
                    reason='RssAnon and /dev/shm are Linux')
def test_shared_pages_grow_rss_but_not_the_anonymous_memory():
    name = unique_name('shm_reader')
    path = f'/dev/shm/{name}'
    proc = subprocess.Popen([sys.executable, '-c', SHM_READER, path, '--ros-args', '-r',
                             f'__node:={name}'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        wait_ready(proc)
        watcher = ProcessWatcher(name)
        before = wait_for(watcher.sample)
        proc.stdin.write('go\n')
        proc.stdin.flush()
        assert proc.stdout.readline().startswith('read')
        after = watcher.sample()
        assert after.rss_mb - before.rss_mb > 50.0
        assert abs(after.anon_mb - before.anon_mb) < 5.0
        assert 0.0 < after.anon_mb < after.rss_mb
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()
        os.unlink(path)


def test_zombie_is_reported_not_raised():
    child = subprocess.Popen(['true'])  # never waited for until the end: a zombie
    try:
        assert wait_for(lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE)
        watcher = ProcessWatcher(unique_name('zombie'))
        watcher.set_pid(child.pid)
        assert watcher.find() == child.pid
        sample = watcher.sample()
        assert sample is not None
        assert sample.pid == child.pid
        assert sample.zombie is True
        assert sample.state == 'zombie'
        assert sample.rss_mb == 0.0
        assert sample.uptime_s >= 0.0
        line = process_summary_line('zombie', sample, watcher.trend.slope_mb_per_h(), {})
        assert 'state=zombie' in line
    finally:
        child.wait(timeout=10)


def test_process_gone_between_find_and_sample_gives_none(spawn):
    name = unique_name()
    proc = spawn(name)
    watcher = ProcessWatcher(name)
    assert wait_for(watcher.find) == proc.pid
    stop(proc)  # killed and reaped: the pid no longer exists
    assert watcher.sample() is None
    assert watcher.sample() is None


def test_sample_reads_a_live_process(spawn):
    name = unique_name('busy')
    proc = spawn(name, code=BUSY)
    # Sampled before the interpreter has loaded (right after exec) the process holds under
    # 1 MB: wait until it is up and running its loop, as a node would be when watched.
    assert wait_for(lambda: psutil.Process(proc.pid).cpu_times().user > 0.05)
    watcher = ProcessWatcher(name)
    first = wait_for(watcher.sample)
    assert first.pid == proc.pid
    assert first.cpu_percent == 0.0  # the first sample primes the CPU figure
    assert first.rss_mb > 1.0
    assert first.num_threads >= 1
    assert first.num_fds >= 3
    assert first.zombie is False
    assert f'__node:={name}' in first.cmdline
    later = wait_for(lambda: (s := watcher.sample()) and s.cpu_percent > 5.0 and s,
                     timeout=10.0, interval=0.3)
    assert later, 'a busy loop should use a visible share of one core'
    assert later.uptime_s > 0.0


def test_sample_system_is_sane(tmp_path):
    sample_system(str(tmp_path))  # primes the CPU figures
    system = sample_system(str(tmp_path))
    for value in [system.cpu_percent, system.mem_used_percent, system.swap_used_percent,
                  system.disk_free_percent] + system.cpu_percent_per_core:
        assert 0.0 <= value <= 100.0
    assert len(system.cpu_percent_per_core) == psutil.cpu_count()
    assert system.disk_free_mb > 0.0
    assert system.mem_available_mb > 0.0
    assert min(system.load_1m, system.load_5m, system.load_15m) >= 0.0
    assert system.cpu_temp_c is None or -40.0 < system.cpu_temp_c < 150.0


def test_sample_system_on_a_missing_path_does_not_raise(tmp_path):
    system = sample_system(str(tmp_path / 'gone'))
    assert math.isnan(system.disk_free_mb) and math.isnan(system.disk_free_percent)
    assert system.mem_available_mb > 0.0


def test_summary_line_is_one_grepable_line():
    sample = ProcessSample(pid=1234, name='python3', rss_mb=84.24, cpu_percent=12.34,
                           num_threads=9, num_fds=23, state='sleeping', zombie=False,
                           uptime_s=3600.7, cmdline=['python3'])
    line = process_summary_line('camera', sample, 0.06,
                                {'frames_total': 108000, 'errors_total': 0})
    assert line == ('resource monitor: node=camera pid=1234 rss_mb=84.2 '
                    'rss_growth_mb_per_h=+0.1 anon_mb=nan anon_growth_mb_per_h=na '
                    'cpu_percent=12.3 num_fds=23 num_threads=9 '
                    'state=sleeping uptime_s=3600 frames_total=108000 errors_total=0')
    sample.anon_mb = 40.06
    assert 'anon_mb=40.1 anon_growth_mb_per_h=-0.2 ' in process_summary_line(
        'camera', sample, 0.06, {}, anon_slope=-0.24)
    assert re.findall(r'rss_mb=[0-9.]*', line) == ['rss_mb=84.2']
    odd = process_summary_line('camera', sample, None,
                               {'last error': 'device\nunplugged now', 'ratio': 0.25})
    assert '\n' not in odd
    assert 'rss_growth_mb_per_h=na' in odd
    assert odd.endswith('last_error=device_unplugged_now ratio=0.25')
    pairs = odd.split(' ', 2)[2].split(' ')
    assert all(re.fullmatch(r'[A-Za-z0-9_.]+=\S+', pair) for pair in pairs)
    assert 'rss_growth_mb_per_h=-3.5' in process_summary_line('camera', sample, -3.5, {})


@pytest.mark.parametrize('name', ['', 'two words', '9lives', '/ns/camera', None])
def test_bad_node_name_is_a_clear_error(name):
    with pytest.raises(ValueError, match='node_name'):
        ProcessWatcher(name)


def test_a_live_process_of_the_node_wins_over_a_zombie_hint(spawn):
    child = subprocess.Popen(['true'])
    try:
        assert wait_for(lambda: psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE)
        name = unique_name()
        live = spawn(name)
        wait_ready(live)
        watcher = ProcessWatcher(name)
        watcher.set_pid(child.pid)
        assert watcher.find() == live.pid
        assert watcher.sample().zombie is False
    finally:
        child.wait(timeout=10)
