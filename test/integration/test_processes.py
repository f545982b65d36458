# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Processes and signals: start-up faults, SIGHUP, a dead parent, the run scope, watchdog stalls.

Real node processes wherever the point is a process: a node SIGHUPed parks
its servos; a node whose parent is SIGKILLed stops; a look-alike with
``__node:=detector`` of another run (or another namespace) is never
signalled; a diagnostics node stopped with SIGSTOP and continued kills
nothing.
"""

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, wait_for
import psutil
import pytest

from face_tracker_ros.bringup.plan import BringupArgs, make_plan, NodeSpec
from face_tracker_ros.bringup.standalone import CRASH_LOOP_STARTS, Supervisor, transport_env
from face_tracker_ros.common.runner import describe_start_error, die_with_parent
from face_tracker_ros.interface import PARENT_PID_ENV, RUN_ID_ENV
from face_tracker_ros.monitor.resources import cmdline_namespace, ProcessWatcher, RunScope
from face_tracker_ros.monitor.watchdog import ERROR, OK, WARN, Watchdog, WatchSpec

SLEEPER = 'import time; time.sleep(120)'
CONFIG = str(ROOT / 'config' / 'tracker.yaml')


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in (RUN_ID_ENV, PARENT_PID_ENV)}
    env.update(extra)
    return env


def _sleeper(name, env, *remaps):
    args = [sys.executable, '-c', SLEEPER, '--ros-args', '-r', f'__node:={name}']
    for remap in remaps:
        args += ['-r', remap]
    return subprocess.Popen(args, env=env)


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# ------------------------------------------------------------------ start-up faults
def test_a_start_error_is_one_line_without_source_locations():
    exc = RuntimeError(
        "failed to initialize rcl: Couldn't parse params file: '--params-file x.yaml'. Error: "
        'Sequences can only be values and not keys in params. Error at line 1\n, at '
        '/project/src/parse.c:835, at /project/src/rcl/arguments.c:415')
    text = describe_start_error(exc, {})
    assert '\n' not in text and '/project' not in text
    assert text.startswith("failed to initialize rcl: Couldn't parse params file")
    logging = RuntimeError('failed to initialize logging: Failed to get logging directory: '
                           'rcutils_expand_user failed, at /project/src/logging_dir.c:82')
    assert 'HOME is not set' in describe_start_error(logging, {})
    assert '/home/x/.ros/log must be a writable directory' in describe_start_error(
        logging, {'HOME': '/home/x'})
    assert '/var/log/ros' in describe_start_error(logging, {'ROS_LOG_DIR': '/var/log/ros'})


def _start_fault(case, tmp_path):
    env = _env()
    args = ['-p', 'source:=sim']
    if case == 'home_unset':
        for key in ('HOME', 'ROS_LOG_DIR', 'ROS_HOME'):
            env.pop(key, None)
    elif case in ('ros_dir_is_a_file', 'ros_dir_read_only'):
        for key in ('ROS_LOG_DIR', 'ROS_HOME'):
            env.pop(key, None)
        env['HOME'] = str(tmp_path)
        if case == 'ros_dir_is_a_file':
            (tmp_path / '.ros').write_text('not a directory')
        else:
            (tmp_path / '.ros').mkdir()
            (tmp_path / '.ros').chmod(0o555)
    elif case == 'yaml_error':
        (tmp_path / 'p.yaml').write_text('camera:\n  ros__parameters: {source: [sim\n')
        args += ['--params-file', str(tmp_path / 'p.yaml')]
    elif case == 'yaml_list':
        (tmp_path / 'p.yaml').write_text('- camera\n- detector\n')
        args += ['--params-file', str(tmp_path / 'p.yaml')]
    elif case == 'malformed_p':
        args += ['-p', 'fps']
    elif case == 'bad_log_level':
        args += ['--log-level', 'verbose']
    return env, args


@pytest.mark.parametrize('case', ['home_unset', 'ros_dir_is_a_file', 'ros_dir_read_only',
                                  'yaml_error', 'yaml_list', 'malformed_p', 'bad_log_level'])
def test_start_up_fault_is_one_line_and_exit_2(case, tmp_path):
    if case == 'ros_dir_read_only' and os.geteuid() == 0:
        pytest.skip('root writes into a read-only directory: the fault cannot happen')
    env, args = _start_fault(case, tmp_path)
    proc = subprocess.run([sys.executable, '-m', 'face_tracker_ros.sim.camera_node', '--ros-args',
                           '-r', '__node:=camera'] + args, env=env, capture_output=True,
                          text=True, timeout=60, cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert 'Traceback' not in out and 'RCLError' not in out, out
    fatal = [line for line in out.splitlines() if 'invalid configuration' in line]
    assert len(fatal) == 1, out
    assert fatal[0].startswith('[FATAL] [camera]: invalid configuration: ')
    assert len(out.splitlines()) <= 3, out  # at most rcl's own line and a warning besides


def test_standalone_stops_at_once_on_a_start_up_fault(tmp_path):
    env = _env()
    for key in ('HOME', 'ROS_LOG_DIR', 'ROS_HOME'):
        env.pop(key, None)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, '-m', 'face_tracker_ros.bringup.standalone', '--use-sim',
         '--sim-port', str(tmp_path / 'servo'), '--log-dir', str(tmp_path / 'logs'),
         '--duration', '60'], env=env, capture_output=True, text=True, timeout=90,
        cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert time.monotonic() - started < 60
    assert 'not restarting' in out and 'HOME is not set' in out
    assert out.count('INFO: started ') == len(make_plan(BringupArgs(use_sim=True))), out
    assert 'Traceback' not in out


def test_runner_gives_up_on_a_node_failing_at_start(tmp_path):
    spec = NodeSpec('ghost', 'ghost', 'face_tracker_ros.no_such_module')
    log = open(tmp_path / 'nodes.log', 'w')
    sup = Supervisor([spec], CONFIG, respawn_delay=0.05, stdout=log)
    sup.start()
    try:
        def given_up():
            sup.poll()
            return sup.fatal_status is not None
        assert wait_for(given_up, 60.0)
    finally:
        sup.stop()
        log.close()
    assert sup.fatal_status == 1
    assert sup.restarts['ghost'] == CRASH_LOOP_STARTS - 1


# ------------------------------------------------------------------ parent and signals
def test_die_with_parent_asks_for_sigterm_and_notices_a_parent_already_gone():
    calls = []
    assert die_with_parent({PARENT_PID_ENV: '1234'}, prctl=lambda *a: calls.append(a),
                           getppid=lambda: 1234) is None
    assert calls == [(1, signal.SIGTERM, 0, 0, 0)]
    why = die_with_parent({PARENT_PID_ENV: '1234'}, prctl=lambda *a: 0, getppid=lambda: 1)
    assert 'parent process 1234 is gone' in why


PARENT = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:])
print(child.pid, flush=True)
time.sleep(120)
"""


def test_node_stops_in_order_when_its_parent_is_killed(tmp_path):
    """Like ``ros2 launch`` SIGKILLed: the node's parent gives it no signal, the kernel does."""
    log = open(tmp_path / 'camera.log', 'w')
    parent = subprocess.Popen(
        [sys.executable, '-c', PARENT, sys.executable, '-m', 'face_tracker_ros.sim.camera_node',
         '--ros-args', '-r', '__node:=camera', '-p', 'source:=sim'],
        stdout=subprocess.PIPE, stderr=log, text=True, env=_env())
    try:
        node = int(parent.stdout.readline())
        assert wait_for(lambda: 'camera started' in (tmp_path / 'camera.log').read_text(), 30.0)
        parent.kill()
        parent.wait()
        assert wait_for(lambda: _gone(node), 15.0), 'the node outlived its parent'
    finally:
        if not _gone(node):
            os.kill(node, signal.SIGKILL)
        log.close()
    text = (tmp_path / 'camera.log').read_text()
    assert 'SIGTERM received: stopping' in text
    assert 'Traceback' not in text


def test_sighup_stops_a_node_in_order_and_the_servo_parks(tmp_path):
    plan = [s for s in make_plan(BringupArgs(use_sim=True, sim_port=str(tmp_path / 'servo')))
            if s.name in ('sim_servo', 'servo')]
    log = open(tmp_path / 'nodes.log', 'w')
    sup = Supervisor(plan, CONFIG, respawn_delay=60.0, env=transport_env(True), stdout=log)
    sup.start()
    try:
        nodes_log = tmp_path / 'nodes.log'
        assert wait_for(lambda: '[servo]: servo controller' in nodes_log.read_text(), 30.0), \
            nodes_log.read_text()
        servo = sup.procs['servo']
        servo.send_signal(signal.SIGHUP)
        assert servo.wait(timeout=20) == 0
    finally:
        sup.stop()
        log.close()
    text = (tmp_path / 'nodes.log').read_text()
    assert '[servo]: SIGHUP received: stopping' in text
    assert 'servos parked' in text
    assert 'Traceback' not in text


def test_sighup_to_the_standalone_runner_stops_everything_in_order(tmp_path):
    out = tmp_path / 'runner.log'
    with open(out, 'w') as log:
        runner = subprocess.Popen(
            [sys.executable, '-m', 'face_tracker_ros.bringup.standalone', '--use-sim',
             '--no-flight-recorder', '--sim-port', str(tmp_path / 'servo'),
             '--log-dir', str(tmp_path / 'logs')],
            stdout=log, stderr=subprocess.STDOUT, env=_env(), cwd=str(tmp_path))
        try:
            assert wait_for(lambda: '[servo]: servo controller' in out.read_text(), 40.0), \
                out.read_text()
            children = [p.pid for p in psutil.Process(runner.pid).children()]
            assert len(children) == 5
            runner.send_signal(signal.SIGHUP)
            assert runner.wait(timeout=40) == 0
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
    text = out.read_text()
    assert 'SIGHUP received: stopping the nodes' in text
    assert 'servos parked' in text
    assert 'Traceback' not in text
    assert all(_gone(pid) for pid in children)


def test_a_second_ctrl_c_is_one_stop_and_no_traceback(tmp_path):
    """Under ros2 launch a Ctrl-C reaches a node twice: from the terminal and from launch."""
    log = open(tmp_path / 'camera.log', 'w')
    camera = subprocess.Popen(
        [sys.executable, '-m', 'face_tracker_ros.sim.camera_node', '--ros-args',
         '-r', '__node:=camera', '-p', 'source:=sim'], stdout=log, stderr=subprocess.STDOUT,
        env=_env())
    try:
        assert wait_for(lambda: 'executor' in (tmp_path / 'camera.log').read_text(), 30.0)
        camera.send_signal(signal.SIGINT)
        camera.send_signal(signal.SIGINT)
        assert camera.wait(timeout=20) == 0
    finally:
        if camera.poll() is None:
            camera.kill()
            camera.wait()
        log.close()
    text = (tmp_path / 'camera.log').read_text()
    assert text.count('SIGINT received: stopping') == 1, text
    assert 'Traceback' not in text and 'KeyboardInterrupt' not in text, text


# ------------------------------------------------------------------ run scope
def test_namespace_of_a_command_line():
    assert cmdline_namespace(['x', '--ros-args', '-r', '__node:=detector']) == '/'
    assert cmdline_namespace(['-r', '__ns:=/left']) == '/left'
    assert cmdline_namespace(['-r', 'detector:__ns:=left/']) == '/left'
    assert cmdline_namespace(['-c', 'print("x__ns:=/right")']) == '/'


def test_watchdog_never_signals_a_look_alike_of_another_run_or_namespace():
    """A real process with ``__node:=detector`` but another run id, or another namespace."""
    ours = _sleeper('detector', _env(**{RUN_ID_ENV: 'run-a'}))
    time.sleep(0.1)
    # Started later: a search by name alone would prefer them.
    stranger = _sleeper('detector', _env(**{RUN_ID_ENV: 'run-b'}))
    right = _sleeper('detector', _env(**{RUN_ID_ENV: 'run-a'}), '__ns:=/right')
    unmarked = _sleeper('detector', _env())
    try:
        scope = RunScope(environ={RUN_ID_ENV: 'run-a'})
        assert wait_for(lambda: scope.owns(ours.pid), 10.0)
        for other in (stranger, right, unmarked):
            assert not scope.owns(other.pid)
        assert RunScope('right', environ={RUN_ID_ENV: 'run-a'}).owns(right.pid)
        watcher = ProcessWatcher('detector', scope=scope)
        assert wait_for(watcher.find, 10.0) == ours.pid
        watcher.set_pid(stranger.pid)  # a status of another tracker's detector
        assert watcher.find() == ours.pid
        assert watcher.restarts == 0

        signals = []

        def kill(pid, sig):
            signals.append((pid, sig))
            os.kill(pid, sig)

        dog = Watchdog(['detector'], stale_timeout_s=0.2, startup_grace_s=0.0,
                       kill_grace_s=0.2, owned=scope.owns, kill=kill)
        dog.process('detector', stranger.pid)  # even handed its pid, hung by every measure
        time.sleep(0.5)
        dog.check()
        level, message, _ = dog.report('detector')
        assert signals == [] and stranger.poll() is None
        assert level == ERROR and 'not a process of this run' in message
    finally:
        for proc in (ours, stranger, right, unmarked):
            proc.kill()
            proc.wait()


def test_without_a_run_id_only_siblings_without_one_are_in_scope():
    me = os.getpid()
    child = _sleeper('detector', _env())
    marked = _sleeper('detector', _env(**{RUN_ID_ENV: 'run-b'}))
    try:
        # As the diagnostics node sees its siblings: the same parent (here: this process).
        sibling_view = RunScope(environ={}, pid=1, ppid=me)
        assert wait_for(lambda: sibling_view.owns(child.pid), 10.0)
        assert not sibling_view.owns(marked.pid)
        # An orphan (parent init) has no siblings to trust.
        assert not RunScope(environ={}, pid=1, ppid=1).owns(child.pid)
        assert not RunScope(environ={}).owns(me)
    finally:
        for proc in (child, marked):
            proc.kill()
            proc.wait()


def test_diagnostics_node_ends_only_its_own_hung_node(ros_node, tmp_path):
    """The real diagnostics node in namespace left among look-alikes it must leave alone."""
    from rcl_interfaces.msg import Log
    from rclpy.qos import DurabilityPolicy, QoSProfile
    run = _env(**{RUN_ID_ENV: 'run-left'})
    ours = _sleeper('detector', run, '__ns:=/left')
    others = [_sleeper('detector', _env(**{RUN_ID_ENV: 'run-right'}), '__ns:=/left'),
              _sleeper('detector', run, '__ns:=/right'),
              _sleeper('detector', _env(), '__ns:=/left')]
    log = open(tmp_path / 'diagnostics.log', 'w')
    monitor = subprocess.Popen(
        [sys.executable, '-m', 'face_tracker_ros.monitor.node', '--ros-args',
         '-r', '__node:=diagnostics', '-r', '__ns:=/left', '-p', 'watched_nodes:=[detector]',
         '-p', 'sample_period_s:=0.2', '-p', 'watchdog.stale_timeout_s:=1.0',
         '-p', 'watchdog.startup_grace_s:=1.0', '-p', 'watchdog.kill_grace_s:=0.5',
         '-p', f'log_dir:={tmp_path / "logs"}'], env=run, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: ours.poll() is not None, 30.0), \
            (tmp_path / 'diagnostics.log').read_text()
        # /rosout is global: only this tracker's lines go into its log file.
        rosout = ros_node('line_source').create_publisher(Log, '/rosout', QoSProfile(
            depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        file_log = tmp_path / 'logs' / 'face_tracker.log'

        def written():
            for name in ('right.detector', 'left.detector'):
                rosout.publish(Log(name=name, level=Log.INFO, msg=f'a line of {name}'))
            return file_log.exists() and 'a line of left.detector' in file_log.read_text()
        assert wait_for(written, 10.0, interval=0.3, spin=ros_node.spin)
        assert 'a line of right.detector' not in file_log.read_text()
        assert all(other.poll() is None for other in others)
    finally:
        monitor.send_signal(signal.SIGINT)
        monitor.wait(timeout=20)
        log.close()
        for proc in [ours] + others:
            proc.kill()
            proc.wait()
    text = (tmp_path / 'diagnostics.log').read_text()
    assert f'SIGTERM to pid {ours.pid}' in text
    assert 'processes of run run-left in namespace /left' in text
    for other in others:
        assert f'pid {other.pid}' not in text


# ------------------------------------------------------------------ the watchdog's own stalls
class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_time_the_watchdog_did_not_run_is_unknown_not_silence():
    clock = _Clock()
    signals = []
    dog = Watchdog([WatchSpec('servo')], stale_timeout_s=10.0, startup_grace_s=0.0,
                   stall_gap_s=3.0, clock=clock, kill=lambda pid, sig: signals.append(sig),
                   is_alive=lambda pid: True, identify=lambda pid: 1.0)
    dog.process('servo', 4242, create_time=1.0)
    for _ in range(5):
        dog.heartbeat('servo')
        dog.check()
        clock.t += 1.0
    clock.t += 30.0  # the diagnostics node was stopped (SIGSTOP) for 30 s
    assert dog.check() == [] and signals == []
    level, message, figures = dog.report('servo')
    assert level == WARN and 'did not run for 31.0 s' in message
    assert figures['watchdog_stalls_total'] == 1 and figures['state'] == 'ok'
    assert any('not run for 31.0 s' in event for event in dog.drain_events())
    # Slow but regular checks (2.5 s apart) are not a stall; silence after the resume that
    # the watchdog did watch is still caught.
    while clock.t < 44.0:
        clock.t += 2.5
        assert dog.check() == []
    clock.t += 2.5
    actions = dog.check()
    assert [a.what for a in actions] == ['SIGTERM'] and signals == [signal.SIGTERM]
    assert dog.stalls_total == 1
    assert dog.report('servo')[0] != OK


def test_a_stopped_and_continued_diagnostics_node_kills_nothing(tmp_path):
    """The real diagnostics node SIGSTOPped for longer than the stale timeout, then SIGCONT."""
    run = _env(**{RUN_ID_ENV: 'run-stall'})
    sim_log = open(tmp_path / 'sim.log', 'w')
    sim = subprocess.Popen(
        [sys.executable, '-m', 'face_tracker_ros.sim.node', '--ros-args',
         '-r', '__node:=sim_servo', '-p', f'link_path:={tmp_path / "servo"}'],
        env=run, stdout=sim_log, stderr=subprocess.STDOUT)
    log_path = tmp_path / 'diagnostics.log'
    log = open(log_path, 'w')
    monitor = subprocess.Popen(
        [sys.executable, '-m', 'face_tracker_ros.monitor.node', '--ros-args',
         '-r', '__node:=diagnostics', '-p', 'watched_nodes:=[sim_servo]',
         '-p', 'sample_period_s:=0.5', '-p', 'watchdog.stale_timeout_s:=2.0',
         '-p', 'watchdog.startup_grace_s:=3.0', '-p', f'log_dir:={tmp_path / "logs"}'],
        env=run, stdout=log, stderr=subprocess.STDOUT)
    try:
        file_log = tmp_path / 'logs' / 'face_tracker.log'
        # Healthy first: the watchdog has seen the simulated controller's status and output.
        assert wait_for(lambda: file_log.exists() and '[sim_servo]' in file_log.read_text(),
                        30.0), log_path.read_text()
        time.sleep(4.0)
        os.kill(monitor.pid, signal.SIGSTOP)
        time.sleep(8.0)  # four stale timeouts
        os.kill(monitor.pid, signal.SIGCONT)
        time.sleep(5.0)  # more than a stale timeout after the resume
        assert sim.poll() is None, 'the watchdog ended a working node'
        assert monitor.poll() is None
    finally:
        os.kill(monitor.pid, signal.SIGCONT)
        monitor.send_signal(signal.SIGINT)
        monitor.wait(timeout=20)
        sim.send_signal(signal.SIGINT)
        sim.wait(timeout=20)
        log.close()
        sim_log.close()
    text = log_path.read_text()
    assert 'watchdog: not run for' in text, text
    assert 'SIGTERM to pid' not in text and 'watchdog: sim_servo hung' not in text, text


def test_the_scope_is_logged_for_people():
    assert 'processes of run abc in namespace /left' in RunScope(
        'left', environ={RUN_ID_ENV: 'abc'}).describe()
    assert 'no run id' in RunScope(environ={}).describe()


def test_unknown_ownership_is_never_signalled_and_settings_are_checked():
    clock = _Clock()
    signals = []

    def unreadable(pid):
        raise PermissionError('environ of another user')

    dog = Watchdog(['detector'], stale_timeout_s=1.0, startup_grace_s=0.0, clock=clock,
                   kill=lambda pid, sig: signals.append(sig), is_alive=lambda pid: True,
                   identify=lambda pid: 1.0, owned=unreadable)
    dog.process('detector', 4242, create_time=1.0)
    clock.t = 5.0
    assert dog.check() == [] and signals == []
    assert 'not a process of this run' in dog.report('detector')[1]
    with pytest.raises(ValueError, match='stall_gap_s'):
        Watchdog(['detector'], stall_gap_s=0.0)
    with pytest.raises(ValueError, match='owned'):
        Watchdog(['detector'], owned=3)


# ------------------------------------------------------------------ the park at a joint stop
def test_sim_controller_serves_the_park_when_both_are_stopped_at_once(tmp_path, ros_node):
    """Under ``ros2 launch`` SIGTERM reaches the simulated controller and the servo together.

    The simulated controller goes on serving the connected servo node until it closes the
    port: the park is answered and the simulated head's targets are home.
    """
    from geometry_msgs.msg import PointStamped
    from sensor_msgs.msg import JointState

    from face_tracker_ros.common.qos import TRACE_PUB
    plan = [s for s in make_plan(BringupArgs(use_sim=True, sim_port=str(tmp_path / 'servo')))
            if s.name in ('sim_servo', 'servo')]
    log = open(tmp_path / 'nodes.log', 'w')
    sup = Supervisor(plan, CONFIG, respawn_delay=60.0, env=transport_env(True), stdout=log)
    node = ros_node('face_source')
    targets = node.create_publisher(PointStamped, 'face/target', TRACE_PUB)
    pans = []
    node.create_subscription(JointState, 'sim/joint_states',
                             lambda msg: pans.append(msg.position[0]), 10)
    sup.start()
    try:
        nodes_log = tmp_path / 'nodes.log'
        assert wait_for(lambda: '[servo]: servo controller' in nodes_log.read_text(), 30.0), \
            nodes_log.read_text()

        def face_right():
            msg = PointStamped()
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.point.x, msg.point.y, msg.point.z = 0.4, 0.0, 0.2
            targets.publish(msg)
            return pans and abs(pans[-1]) > 0.1
        # The head turned away from home, following a face.
        assert wait_for(face_right, 20.0, interval=0.03, spin=ros_node.spin), pans[-3:]
        sim, servo = sup.procs['sim_servo'], sup.procs['servo']
        # The harder order of the two: the controller is already stopping when the servo
        # node's stop begins.
        sim.send_signal(signal.SIGTERM)
        assert wait_for(lambda: '[sim_servo]: SIGTERM received' in nodes_log.read_text(), 10.0)
        servo.send_signal(signal.SIGTERM)
        assert servo.wait(timeout=20) == 0
        assert sim.wait(timeout=20) == 0
    finally:
        sup.stop()
        log.close()
    text = (tmp_path / 'nodes.log').read_text()
    assert 'servos parked at pan' in text, text
    served = [line for line in text.splitlines() if 'simulated controller served' in line]
    assert len(served) == 1, text
    assert '(client closed the port)' in served[0], served
    assert 'targets pan 0.000 rad, tilt 0.000 rad' in served[0], served
    assert 'Traceback' not in text
    print(served[0])


def test_a_release_that_blocks_ends_the_process_with_its_status():
    """Once the node's own clean-up is done, a blocked teardown cannot hold the process.

    The child starts the release limit and then blocks exit with a thread that never ends
    (as a middleware teardown that hangs would): it exits with the status it was given,
    after one line, well before launch would escalate to SIGKILL.
    """
    code = (
        'import threading, time\n'
        'from face_tracker_ros.common.runner import _limit_release\n'
        '_limit_release("servo", 0, 0.5)\n'
        'threading.Thread(target=time.sleep, args=(60,)).start()\n'
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=30, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 20.0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ['[WARN] [servo]: releasing the node took longer than 0.5 s: exiting now'], \
        proc.stderr


def test_a_release_in_time_exits_normally():
    """The limit's timer does not delay or change a normal exit."""
    code = (
        'import sys\n'
        'from face_tracker_ros.common.runner import _limit_release\n'
        '_limit_release("servo", 0, 5.0)\n'
        'sys.exit(3)\n'
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=30, cwd=str(ROOT))
    assert proc.returncode == 3
    assert time.monotonic() - started < 4.5
    assert proc.stderr.strip() == ''
