# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The watchdog's decisions (fake clock, recorded kills) and the systemd units.

The watchdog on real processes is in test/integration/test_watchdog_processes.py.
"""

import argparse
import ast
from datetime import datetime
import math
from pathlib import Path
import shlex
import shutil
import signal
import subprocess

from conftest import FakeClock, KillRecorder
import pytest

from face_tracker_ros.monitor.watchdog import (
    Action,
    default_specs,
    ERROR,
    OK,
    STATES,
    Watchdog,
    WatchSpec,
)

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / 'systemd'

STALE = 1.0
GRACE = 0.5


# ----------------------------------------------------------------- decisions alone
def fake_dog(specs, **kwargs):
    clock = FakeClock(1000.0)
    kill = KillRecorder(real=False)
    kwargs.setdefault('stale_timeout_s', 2.0)
    kwargs.setdefault('startup_grace_s', 5.0)
    dog = Watchdog(specs, clock=clock, kill=kill, is_alive=lambda pid: pid not in kill.dead,
                   identify=lambda pid: 1.0, **kwargs)
    return dog, clock, kill


def test_silent_input_excuses_a_silent_output():
    dog, clock, kill = fake_dog(default_specs(['camera', 'detector']))
    dog.process('camera', 100)
    dog.process('detector', 200)
    for node in ('camera', 'detector'):
        dog.heartbeat(node)
        dog.output(node)
    dog.check()
    assert dog.state('detector') == 'ok'
    for _ in range(10):  # images stop (camera unplugged): the detector has nothing to do
        clock.now += 1.0
        dog.heartbeat('detector')
        dog.heartbeat('camera')
        dog.check()
    assert dog.state('detector') == 'ok'
    assert kill.calls == [(100, signal.SIGTERM)]  # the camera itself produced nothing

    dog.process('camera', 101)  # the camera came back; images flow again
    clock.now += 0.5
    for _ in range(3):
        dog.output('camera')
        dog.heartbeat('camera')
        dog.heartbeat('detector')
        dog.check()
        assert dog.state('detector') == 'ok'  # given stale_timeout_s from the input's return
        clock.now += 0.9
    dog.output('camera')
    dog.heartbeat('detector')
    dog.check()
    assert dog.state('detector') == 'terminating'
    assert kill.calls[-1] == (200, signal.SIGTERM)
    assert 'no output on face/target' in dog.report('detector')[1]


def test_start_up_grace_and_healthy_once():
    dog, clock, kill = fake_dog([WatchSpec('servo', 'joint_states')])
    dog.process('servo', 300)
    dog.check()
    assert dog.state('servo') == 'starting'
    clock.now += 4.75
    dog.check()
    assert dog.state('servo') == 'starting'  # silent, but within its start-up grace
    dog.heartbeat('servo')
    dog.output('servo')  # seen healthy: from now on stale_timeout_s applies
    clock.now += 0.25
    dog.check()
    assert dog.state('servo') == 'ok'
    clock.now += 1.75
    dog.output('servo')
    dog.check()
    assert dog.state('servo') == 'ok'
    clock.now += 0.5  # the heartbeat is now 2.25 s old
    dog.check()
    assert dog.state('servo') == 'terminating'
    assert 'no status for 2.' in dog.report('servo')[1]
    assert kill.calls == [(300, signal.SIGTERM)]


def test_node_never_seen_and_heartbeat_only_node():
    dog, clock, kill = fake_dog([WatchSpec('worker')])
    dog.check()
    assert dog.report('worker')[:2] == (OK, 'waiting for the process')
    clock.now += 10.0
    dog.check()
    assert dog.report('worker')[0] == 1 and dog.state('worker') == 'not_running'
    dog.process('worker', 400)
    dog.heartbeat('worker')
    dog.check()
    level, message, figures = dog.report('worker')
    assert (level, figures['state']) == (OK, 'ok')
    assert figures['output_age_s'] == 'not watched'
    assert set(figures) >= {'state', 'heartbeat_age_s', 'output_age_s', 'actions_total',
                            'last_action', 'last_action_why', 'last_action_when',
                            'restarts_last_hour'}


def test_refused_signal_is_reported_not_raised():
    clock = FakeClock(1000.0)
    kill = KillRecorder(real=False, error=PermissionError(1, 'Operation not permitted'))
    dog = Watchdog(['servo'], stale_timeout_s=1.0, startup_grace_s=0.0, clock=clock,
                   kill=kill, is_alive=lambda pid: True, identify=lambda pid: 1.0)
    dog.process('servo', 500)
    dog.heartbeat('servo')
    dog.output('servo')
    clock.now += 2.0
    assert dog.check() == []
    level, message, _ = dog.report('servo')
    assert level == ERROR and 'SIGTERM to pid 500 failed (PermissionError' in message
    clock.now += 1.0
    dog.check()
    assert len([e for e in dog.drain_events() if 'failed' in e]) == 1
    assert dog.restarts_last_hour('servo') == 0


def test_bad_input_never_raises():
    dog, clock, kill = fake_dog(['camera'])
    assert dog.heartbeat('nope') is False
    assert dog.heartbeat(None) is False
    assert dog.heartbeat('camera', float('nan')) is False
    assert dog.heartbeat('camera', 'soon') is False
    assert dog.output('camera', math.inf) is False
    assert dog.process('nope', 1) is False
    assert dog.process('camera', 'abc') is False
    assert dog.process('camera', -5) is False
    assert dog.process('camera', 12.5) is False
    assert dog.process('camera', True) is False
    assert dog.process('camera', None, alive=False) is True
    assert dog.process('camera', '12.0') is True  # a whole number (as text too) is a pid
    assert dog.process('camera', 42, rss_mb='lots', zombie=[]) is True
    assert dog.check(float('nan')) == []
    dog.check()
    assert dog.report('camera')[2]['rss_mb'] == 'unknown'
    broken = Watchdog(['camera'], clock=lambda: float('nan'),
                      identify=lambda pid: 1 / 0, is_alive=lambda pid: 1 / 0)
    assert broken.heartbeat('camera') is False
    assert broken.process('camera', 42) is True
    assert broken.check(5.0) == []


@pytest.mark.parametrize('kwargs, name', [
    ({'stale_timeout_s': 0.0}, 'stale_timeout_s'),
    ({'stale_timeout_s': float('nan')}, 'stale_timeout_s'),
    ({'startup_grace_s': -1.0}, 'startup_grace_s'),
    ({'kill_grace_s': 'five'}, 'kill_grace_s'),
    ({'rss_limit_mb': -600}, 'rss_limit_mb'),
    ({'max_restarts_per_hour': -1}, 'max_restarts_per_hour'),
    ({'max_restarts_per_hour': 2.5}, 'max_restarts_per_hour'),
    ({'enabled': 'yes'}, 'enabled'),
    ({'kill': None}, 'kill'),
    ({'nodes': 'camera'}, 'nodes'),
    ({'nodes': ['camera', 'camera']}, 'nodes'),
    ({'nodes': ['bad-name']}, 'nodes'),
    ({'nodes': [WatchSpec('detector', 'face/target', upstream='camera')]}, 'upstream'),
])
def test_invalid_parameters_name_themselves(kwargs, name):
    kwargs = dict(kwargs)
    nodes = kwargs.pop('nodes', ['camera'])
    with pytest.raises(ValueError, match=name):
        Watchdog(nodes, **kwargs)


def test_report_of_an_unwatched_node_is_an_error():
    with pytest.raises(ValueError, match='watched nodes'):
        Watchdog(['camera']).report('servo')


def test_default_specs_name_each_nodes_output():
    specs = {s.name: s for s in default_specs(['sim_servo', 'camera', 'detector', 'servo',
                                               'diagnostics'])}
    assert specs['camera'] == WatchSpec('camera', 'camera/camera_info')
    assert specs['detector'] == WatchSpec('detector', 'face/target', 'camera')
    assert specs['servo'] == WatchSpec('servo', 'joint_states')
    assert specs['sim_servo'] == WatchSpec('sim_servo', 'sim/joint_states')
    assert specs['diagnostics'] == WatchSpec('diagnostics')
    assert default_specs(['detector'])[0].upstream == ''  # no camera watched: no upstream
    assert set(STATES) == {'ok', 'starting', 'starved', 'hung', 'bloated', 'zombie', 'terminating',
                           'budget_exhausted', 'not_running'}
    when = Action('camera', 'SIGTERM', 1, 'why', 0.0, 0.0, True).when
    assert datetime.fromisoformat(when).timestamp() == 0.0


# ------------------------------------------------------------------------ systemd
def parse_unit(path):
    """Parse a systemd unit: {section: [(key, value), ...]} (keys may repeat)."""
    sections = {}
    current = None
    pending = ''
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ''
        if line.endswith('\\'):
            pending = line[:-1] + ' '
            continue
        if not line or line[0] in '#;':
            continue
        if line.startswith('['):
            current = sections.setdefault(line.strip('[]'), [])
            continue
        key, sep, value = line.partition('=')
        assert sep and current is not None, f'{path.name}: bad line {raw!r}'
        current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def environment(unit):
    env = {}
    for value in values(unit, 'Service', 'Environment'):
        for item in shlex.split(value):
            name, _, text = item.partition('=')
            env[name] = text
    return env


@pytest.mark.parametrize('name', ['face-tracker.service', 'face-tracker-standalone.service'])
def test_units_have_the_required_settings(name):
    text = (UNITS / name).read_text()
    assert text.startswith('# Copyright 2026 The face_tracker_ros authors\n'
                           '# SPDX-License-Identifier: Apache-2.0\n')
    unit = parse_unit(UNITS / name)
    assert 'network-online.target' in values(unit, 'Unit', 'After')[0].split()
    assert values(unit, 'Service', 'Restart') == ['always']
    assert values(unit, 'Service', 'KillSignal') == ['SIGINT']
    stop = float(values(unit, 'Service', 'TimeoutStopSec')[0])
    assert 15.0 <= stop <= 90.0  # more than launch's SIGINT -> SIGKILL escalation (10 s)
    user = values(unit, 'Service', 'User')
    assert user and user[0] not in ('root', '0')
    assert {'video', 'dialout'} <= set(values(unit, 'Service', 'SupplementaryGroups')[0].split())
    assert values(unit, 'Install', 'WantedBy') == ['multi-user.target']
    exec_start = values(unit, 'Service', 'ExecStart')
    assert len(exec_start) == 1 and exec_start[0].startswith('/')


def test_launch_unit_sources_ros_and_execs_the_launch():
    unit = parse_unit(UNITS / 'face-tracker.service')
    argv = shlex.split(values(unit, 'Service', 'ExecStart')[0])
    assert argv[:2] == ['/bin/bash', '-lc']
    script = argv[2]
    assert script.startswith('source /opt/ros/${ROS_DISTRO}/setup.bash && '
                             'source ${FACE_TRACKER_WS}/install/setup.bash && ')
    assert 'exec ros2 launch face_tracker_ros tracker.launch.py ${FACE_TRACKER_ARGS}' in script
    env = environment(unit)
    assert env['ROS_DISTRO'] and env['FACE_TRACKER_WS'].startswith('/')
    # Every launch argument in the unit is one tracker.launch.py declares.
    tree = ast.parse((ROOT / 'launch' / 'tracker.launch.py').read_text())
    declared = next(node.value for node in tree.body
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == 'ARGUMENTS')
    # Only the names are literals: a description may be an f-string of a shared name.
    names = {ast.literal_eval(item.elts[0]) for item in declared.elts}
    for arg in env['FACE_TRACKER_ARGS'].split():
        assert arg.partition(':=')[0] in names, arg


def test_standalone_unit_runs_the_venv_runner_and_stops_on_bad_parameters():
    from face_tracker_ros.bringup.standalone import add_bringup_arguments

    unit = parse_unit(UNITS / 'face-tracker-standalone.service')
    argv = shlex.split(values(unit, 'Service', 'ExecStart')[0])
    assert argv[0].endswith('/.venv/bin/face_tracker_standalone')
    assert argv[1:] == ['$FACE_TRACKER_ARGS']
    assert argv[0].startswith(values(unit, 'Service', 'WorkingDirectory')[0] + '/')
    assert '2' in values(unit, 'Service', 'RestartPreventExitStatus')[0].split()
    parser = argparse.ArgumentParser()
    add_bringup_arguments(parser)
    args = parser.parse_args(environment(unit)['FACE_TRACKER_ARGS'].split())
    assert args.camera_source and args.serial_port


@pytest.mark.skipif(shutil.which('systemd-analyze') is None,
                    reason='systemd-analyze is not installed on this machine')
def test_units_pass_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart's program exists: point the standalone unit at this
    # checkout's virtualenv (the shipped file names a placeholder checkout).
    runner = ROOT / '.venv' / 'bin' / 'face_tracker_standalone'
    if not runner.exists():
        pytest.skip(f'{runner} is not installed (run make setup)')
    for name in ('face-tracker.service', 'face-tracker-standalone.service'):
        text = (UNITS / name).read_text().replace('/home/tracker/face_tracker_ros', str(ROOT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(['systemd-analyze', 'verify',
                             *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '' and result.stderr.strip() == '', result.stderr
