# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Pipeline benchmark: the node pipeline against the single-script loop, and what nodes cost.

:func:`run_pipeline` starts every node of the simulated tracker as its own
process through the standalone runner's :class:`Supervisor` (as ``make demo``
does, with the shipped Fast DDS profile), listens to ``servo/command_latency``
(capture stamp -> serial write of the command it caused), ``sim/true_target``
and the detector's status on ``/diagnostics`` (frames processed, faces found)
from a monitor node in this process (not to ``face/target``, whose every
subscriber slows the hop being measured), and samples every
node process once a second with psutil: CPU percent of one core and RSS.
Node processes are found by ``__node:=<name>`` in the command line among the
runner's children and their descendants, never among other processes.

:func:`run` measures the pipeline and then :class:`bench.baseline.RealtimeLoop`
for the same time and returns the ``pipeline`` and ``resources`` sections;
:mod:`bench.soak` uses :func:`run_pipeline` for its long run.
"""

import os
from pathlib import Path
import tempfile
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from bench.common import log, percentile, ros_env, rounded, summarize, target
from face_tracker_ros import interface

#: Latencies of frames captured in the first seconds are left out (start-up).
SETTLE_S = 3.0
#: The face this near the centre (distance over the half-width) counts as tracked.
TRACKED_ERROR = 0.1
#: Resource samples of the first seconds are left out (imports, discovery, first frames).
RESOURCE_WARMUP_S = 5.0
#: Targets.
LATENCY_RATIO_TARGET = 1.5
CPU_SUM_TARGET = 100.0
NODE_NAMES = ('sim_servo', 'camera', 'detector', 'servo')
MB = 1024.0 * 1024.0
#: Nodes that exist only in simulation (stand-ins for hardware).
SIM_ONLY = ('sim_servo',)


class NodeSampler:
    """Samples CPU percent and RSS of the node processes under given root pids, in a thread."""

    def __init__(self, roots, names: Sequence[str] = NODE_NAMES, period_s: float = 1.0) -> None:
        """``roots()`` returns the pids to search under (the runner's children)."""
        self.roots = roots
        self.names = tuple(names)
        self.period_s = float(period_s)
        self.samples: Dict[str, List[Tuple[float, float, float, float]]] = {
            n: [] for n in self.names}
        self.pids_seen: Dict[str, set] = {n: set() for n in self.names}
        self._procs: Dict[int, object] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.started = time.monotonic()

    def find(self) -> Dict[str, object]:
        """Return ``{node name: psutil.Process}`` of the running nodes under the roots."""
        import psutil

        found: Dict[str, object] = {}
        try:
            roots = list(self.roots())
        except RuntimeError:  # the runner changed its process table meanwhile: next time
            return found
        for pid in roots:
            try:
                root = psutil.Process(pid)
                candidates = [root] + root.children(recursive=True)
            except psutil.Error:
                continue
            for proc in candidates:
                try:
                    cmdline = proc.cmdline()
                except psutil.Error:
                    continue
                for name in self.names:
                    if f'__node:={name}' in cmdline:
                        found[name] = self._procs.setdefault(proc.pid, proc)
        return found

    def sample(self) -> None:
        """Take one sample of every node found (the first sample of a process primes its CPU).

        A sample is ``(t, cpu %, RSS MB, private MB)``.  Private memory is the
        unique set size (pages of this process no other maps: its heap, its
        stacks, its own allocations), read from ``/proc/<pid>/smaps_rollup``.
        RSS also counts the pages of other nodes' shared-memory segments (Fast
        DDS's transport) that the process has read so far and library pages run
        for the first time; both grow by first touch up to a bound, so a leak
        shows in the private figure (see :mod:`bench.soak`).
        """
        import psutil

        now = time.monotonic() - self.started
        for name, proc in self.find().items():
            try:
                first = proc.pid not in self.pids_seen[name]
                cpu = proc.cpu_percent(None)
                memory = proc.memory_full_info()
            except psutil.Error:
                continue
            self.pids_seen[name].add(proc.pid)
            if not first:
                self.samples[name].append((now, cpu, memory.rss / MB, memory.uss / MB))

    def start(self) -> None:
        """Start sampling every ``period_s`` seconds."""
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name='bench-sampler', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        next_time = time.monotonic()
        while not self._stop.is_set():
            self.sample()
            next_time += self.period_s
            self._stop.wait(max(0.0, next_time - time.monotonic()))


class Monitor:
    """Counts and capture-to-command latencies from the pipeline's topics (ROS-free state)."""

    def __init__(self) -> None:
        """Start empty."""
        self.lock = threading.Lock()
        self.commands: List[Tuple[float, float]] = []  # (capture stamp, latency ms)
        self.truths: List[Tuple[float, float]] = []  # (stamp, error or -1)
        self._detector = {'frames_processed': [0, 0], 'detections_total': [0, 0]}
        #: After each detector status: (its stamp, frames processed, faces found) so far.
        self.detector_counts: List[Tuple[float, int, int]] = []
        #: The last status of the servo node, as {key: value} (the budget section reports it).
        self.servo_status: Dict[str, str] = {}

    def on_command(self, capture: float, written: float) -> None:
        """Record a command written at ``written`` for a frame captured at ``capture``."""
        with self.lock:
            self.commands.append((capture, (written - capture) * 1000.0))

    def on_truth(self, stamp: float, error: float) -> None:
        """Record a published frame and the true error in it."""
        with self.lock:
            self.truths.append((stamp, error))

    def on_detector_status(self, processed: str, detections: str,
                           stamp: Optional[float] = None) -> None:
        """Record the detector's counters from its status (a restart starts them again at 0).

        ``stamp`` is the status's own stamp (when the detector sent it); with it the
        counts are kept for :meth:`counted_until`.
        """
        with self.lock:
            for key, text in (('frames_processed', processed), ('detections_total', detections)):
                if not str(text).isdigit():
                    continue
                value, entry = int(text), self._detector[key]
                if value < entry[1]:  # restarted: keep what the old process counted
                    entry[0] += entry[1]
                entry[1] = value
            if stamp is not None:
                self.detector_counts.append((stamp, sum(self._detector['frames_processed']),
                                             sum(self._detector['detections_total'])))

    def counted_until(self, end: float) -> Optional[Dict[str, float]]:
        """Return the counts up to the detector's last status stamped before ``end``.

        ``{'until': that status's stamp, 'frames_processed', 'detections',
        'servo_commands'}``, the commands being those written by then; None without
        such a status.  The pipeline's stop ends the servo node before the detector
        (reverse start order, so the head is parked while its controller listens):
        frames the detector processes meanwhile can give no command, so processed
        frames and commands are counted up to the same moment before the stop.  A
        command for a frame processed just before that status but written after it
        is not counted (at most the one or two frames in flight: a conservative count).
        """
        with self.lock:
            before = [entry for entry in self.detector_counts if entry[0] < end]
            if not before:
                return None
            until, processed, detections = max(before)
            commands = sum(1 for capture, latency_ms in self.commands
                           if capture + latency_ms / 1000.0 <= until)
        return {'until': until, 'frames_processed': processed, 'detections': detections,
                'servo_commands': commands}

    @property
    def targets(self) -> int:
        """Frames the detector processed (from its status)."""
        with self.lock:
            return sum(self._detector['frames_processed'])

    @property
    def detections(self) -> int:
        """Frames in which the detector found a face (from its status)."""
        with self.lock:
            return sum(self._detector['detections_total'])

    def latencies(self, settle_s: float) -> List[float]:
        """Return the command latencies of frames captured after ``settle_s``.

        Time counts from the first frame seen on any topic.
        """
        with self.lock:
            stamps = [s for s, _ in self.truths] + [c for c, _ in self.commands]
            if not stamps:
                return []
            first = min(stamps)
            return [lat for cap, lat in self.commands if cap - first >= settle_s]


def _make_monitor_node(context, monitor: Monitor):
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PointStamped
    import rclpy
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import TimeReference

    from face_tracker_ros.common.image_wire import read_point_stamped
    from face_tracker_ros.common.qos import TRACE_PUB

    node = rclpy.create_node('bench_monitor', context=context)

    def seconds(stamp) -> float:
        return stamp.sec + stamp.nanosec * 1e-9

    node.create_subscription(
        TimeReference, interface.COMMAND_LATENCY_TOPIC,
        lambda m: monitor.on_command(seconds(m.time_ref), seconds(m.header.stamp)), TRACE_PUB)

    # Taken serialized and read without message objects (image_wire), like the nodes do:
    # the monitor shares the cores with what it measures.
    def on_truth(data: bytes) -> None:
        truth = read_point_stamped(data)
        monitor.on_truth(truth.stamp_sec + truth.stamp_nanosec * 1e-9, truth.z)
    node.create_subscription(PointStamped, interface.SIM_TRUE_TARGET_TOPIC, on_truth, TRACE_PUB,
                             raw=True)
    # Frames processed and faces found come from the detector's own status: a subscriber of
    # face/target in this process would make every publish on the measured hop slower.
    # Only the arrays that hold the detector's status are deserialized.
    wanted = interface.DETECTOR_STATUS.encode()
    servo = interface.SERVO_STATUS.encode()

    def on_diagnostics(data: bytes) -> None:
        if wanted not in data and servo not in data:
            return
        array = deserialize_message(data, DiagnosticArray)
        stamp = seconds(array.header.stamp) if array.header.stamp.sec else None
        for status in array.status:
            if status.name == interface.DETECTOR_STATUS:
                values = {kv.key: kv.value for kv in status.values}
                monitor.on_detector_status(values.get('frames_processed', ''),
                                           values.get('detections_total', ''), stamp)
            elif status.name == interface.SERVO_STATUS:
                with monitor.lock:
                    monitor.servo_status = {kv.key: kv.value for kv in status.values}

    node.create_subscription(DiagnosticArray, interface.DIAGNOSTICS_TOPIC, on_diagnostics, 50,
                             raw=True)
    return node


def _observe_in_the_background() -> None:
    """Run this process's observing threads (the monitor, the sampler, DDS) like a background node.

    The monitor is not part of the system being measured; like the diagnostics
    node and the flight recorder it should not compete with the frames going
    through the pipeline.  Every thread but the main one is lowered (those
    lowered in an earlier round are left as they are): the main thread starts the nodes, which
    inherit its priority and policy and must start as they would in use, and
    it runs the single-script baseline.
    """
    from face_tracker_ros.common.process import lower_priority, thread_ids

    main = threading.main_thread().native_id
    others = [tid for tid in thread_ids() if tid != main]
    log(f'pipeline: observing threads now run at {lower_priority(threads=others)}')


def run_pipeline(duration: float, domain_id: int, sim_port: str = '', camera_fps: float = 30.0,
                 sample_period: float = 1.0, log_path: Optional[str] = None,
                 profile: Optional[str] = None, progress_every: float = 0.0,
                 on_poll: Optional[Callable[[Dict[str, int]], None]] = None,
                 settle_from_command: bool = False) -> Dict[str, object]:
    """Run the node pipeline in simulation for ``duration`` seconds and measure it.

    Returns the monitor's counts and latency samples, the nodes' resource
    samples ``{node: [(t, cpu %, rss MB), ...]}`` (``t`` from the start) and
    the runner's restart counts.  ``sim_port`` is the simulated controller's
    link path (a private temporary one when empty); ``camera_fps`` sets the
    camera's rate; ``log_path`` receives the nodes' output.  ``on_poll`` is
    called with the runner's ``{node: pid}`` right after the start and every
    0.1 s (the budget section moves the processes into a CPU quota with it).
    ``settle_from_command`` counts the error and latency figures from the
    first frame, after the first servo command, in which the face was within
    :data:`TRACKED_ERROR` of the centre (the approach from the start pose
    done), instead of from :data:`SETTLE_S` after the first frame: on a small
    or busy CPU the start-up alone takes seconds and the first commands come
    while the nodes still start.  ``start_to_first_command_s`` and
    ``start_to_tracked_s`` say how long that took.

    Frames processed, faces found and servo commands are counted up to the
    detector's last status before the nodes are stopped (``counted_until_s``
    from the start; see :meth:`Monitor.counted_until`); ``*_with_stop`` count
    everything, the stop included.
    """
    import rclpy

    from bench.transport import shipped_profile
    from face_tracker_ros.bringup.plan import BringupArgs, make_plan
    from face_tracker_ros.bringup.standalone import Supervisor
    from face_tracker_ros.common.paths import default_params_file
    from face_tracker_ros.common.process import make_executor, spin_in_thread

    if not duration > 0:
        raise ValueError(f'duration must be > 0 s, got {duration!r}')
    profile = profile or str(shipped_profile())
    tmp = tempfile.TemporaryDirectory(prefix='bench-pipeline-')
    sim_port = sim_port or os.path.join(tmp.name, 'sim_servo')
    specs = make_plan(BringupArgs(use_sim=True, sim_port=sim_port))
    for spec in specs:
        if spec.name == 'camera':
            spec.parameters['fps'] = float(camera_fps)
    env = ros_env(domain_id, profile)
    # The monitor in this process joins the same domain with the same transport profile.
    for key in ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'FASTDDS_DEFAULT_PROFILES_FILE'):
        os.environ[key] = env[key]
    node_log = open(log_path or os.path.join(tmp.name, 'nodes.log'), 'w')
    supervisor = Supervisor(specs, str(default_params_file()), log_level='warn', env=env,
                            stdout=node_log)
    sampler = NodeSampler(lambda: list(supervisor.pids().values()),
                          names=[spec.name for spec in specs], period_s=sample_period)
    monitor = Monitor()
    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    node = _make_monitor_node(context, monitor)
    # The nodes' executor: the monitor shares the two cores with the pipeline it measures.
    executor = make_executor('auto', context=context)[0]
    executor.add_node(node)
    stop_spinning = spin_in_thread(executor)
    started = time.monotonic()
    wall_start = time.time()
    next_progress = started + progress_every if progress_every > 0 else None
    try:
        supervisor.start()
        if on_poll is not None:
            on_poll(supervisor.pids())
        sampler.start()
        _observe_in_the_background()
        while time.monotonic() - started < duration and supervisor.fatal_status is None:
            supervisor.poll()
            if on_poll is not None:
                on_poll(supervisor.pids())
            if next_progress is not None and time.monotonic() >= next_progress:
                next_progress += progress_every
                log(f'  t={time.monotonic() - started:.0f}s frames {len(monitor.truths)} '
                    f'commands {len(monitor.commands)}')
            time.sleep(0.1)
    finally:
        elapsed = time.monotonic() - started
        # Frames captured from here on show the nodes stopping (the servo parks the head
        # while the camera still publishes): they are not counted.
        stopping = time.time()
        sampler.stop()
        supervisor.stop()
        stop_spinning()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        node_log.close()
        tail = Path(node_log.name).read_text(errors='replace')[-1500:]
        tmp.cleanup()
    if supervisor.fatal_status is not None or not monitor.commands:
        why = (f'a node stopped with status {supervisor.fatal_status}'
               if supervisor.fatal_status is not None else 'no servo command was seen')
        raise RuntimeError(f"the node pipeline failed: {why}; end of the nodes' output:\n{tail}")
    first = min((s for s, _ in monitor.truths), default=0.0)
    first_command = min(c for c, _ in monitor.commands)
    settle = SETTLE_S
    tracked = min((s for s, e in monitor.truths if 0.0 <= e <= TRACKED_ERROR
                   and s >= first_command), default=None)
    if settle_from_command:
        first, settle = (tracked if tracked is not None else stopping), 0.0
    errors = [e for s, e in monitor.truths if e >= 0.0 and s - first >= settle and s < stopping]
    latencies = [lat for cap, lat in monitor.commands if cap - first >= settle] \
        if settle_from_command else monitor.latencies(SETTLE_S)
    counted = monitor.counted_until(stopping) or {
        'until': None, 'frames_processed': monitor.targets, 'detections': monitor.detections,
        'servo_commands': len(monitor.commands)}
    return {
        'duration_s': round(elapsed, 2),
        'camera_fps': camera_fps,
        'frames_published': len(monitor.truths),
        'frames_processed': counted['frames_processed'],
        'detections': counted['detections'],
        'servo_commands': counted['servo_commands'],
        'counted_until_s': rounded(counted['until'] - wall_start, 2)
        if counted['until'] is not None else None,
        'frames_processed_with_stop': monitor.targets,
        'servo_commands_with_stop': len(monitor.commands),
        'latencies_ms': latencies,
        'start_to_first_command_s': rounded(first_command - wall_start, 2),
        'start_to_tracked_s': rounded(tracked - wall_start, 2) if tracked is not None else None,
        'target_error_rms': rounded((sum(e * e for e in errors) / len(errors)) ** 0.5, 4)
        if errors else None,
        'target_error_max': rounded(max(errors), 4) if errors else None,
        'samples': sampler.samples,
        'pids': {n: sorted(p) for n, p in sampler.pids_seen.items()},
        'restarts': dict(supervisor.restarts),
        'servo_status': dict(monitor.servo_status),
        'fatal_status': supervisor.fatal_status,
    }


def resources_section(samples: Dict[str, List[Tuple[float, ...]]],
                      warmup_s: float = RESOURCE_WARMUP_S,
                      baseline_cpu: Optional[float] = None) -> Dict[str, object]:
    """Summarise per-node CPU and RSS samples: medians per node, their sums, the target.

    Samples taken before ``warmup_s`` (seconds from the start of their run)
    are left out.
    """
    nodes: Dict[str, object] = {}
    total = tracker_total = 0.0
    missing = []
    for name, rows in samples.items():
        rows = [r for r in rows if r[0] >= warmup_s] or rows
        if not rows:
            missing.append(name)
            continue
        cpu = percentile([r[1] for r in rows], 50)
        rss = percentile([r[2] for r in rows], 50)
        nodes[name] = {'cpu_percent_median': rounded(cpu, 1),
                       'cpu_percent_p90': rounded(percentile([r[1] for r in rows], 90), 1),
                       'rss_mb_median': rounded(rss, 1), 'samples': len(rows)}
        private = [r[3] for r in rows if len(r) > 3]
        if private:
            nodes[name]['private_mb_median'] = rounded(percentile(private, 50), 1)
        total += cpu
        if name not in SIM_ONLY:
            tracker_total += cpu
    section: Dict[str, object] = {
        'nodes': nodes,
        'cpu_percent_sum_all_nodes': rounded(total, 1),
        'cpu_percent_sum_tracker_nodes': rounded(tracker_total, 1),
        'rss_mb_sum': rounded(sum(n['rss_mb_median'] for n in nodes.values()), 1),
        'note': 'percent of one core (100 = one core busy); medians of 1 s samples; tracker '
                'nodes = all but the simulated controller',
    }
    if baseline_cpu is not None:
        section['single_script_cpu_percent'] = baseline_cpu
    if missing:
        section['missing_nodes'] = missing
    section['targets'] = [target('CPU of all nodes together at 30 fps (incl. sim_servo)',
                                 total if nodes and not missing else None, '<=',
                                 CPU_SUM_TARGET, '% of one core')]
    section['met'] = all(t['met'] for t in section['targets'])
    return section


def run(duration: float, domain_id: int, sim_port: str = '', rounds: int = 2,
        log_dir: Optional[str] = None) -> Tuple[Dict[str, object], Dict[str, object]]:
    """Measure the node pipeline and the in-process baseline; return (pipeline, resources).

    Each side runs ``duration`` seconds in all, split into ``rounds`` runs that
    alternate (pipeline, baseline, pipeline, ...), so a change in the
    machine's load during the benchmark affects both sides alike.
    """
    from bench.baseline import RealtimeLoop

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f'rounds must be an integer >= 1, got {rounds!r}')
    if not duration / rounds > SETTLE_S + 2.0:
        raise ValueError(f'duration / rounds must be > {SETTLE_S + 2.0:g} s, got '
                         f'{duration!r} / {rounds}')
    each = duration / rounds
    ros_runs: List[Dict[str, object]] = []
    base_runs: List[Dict[str, object]] = []
    loads: List[float] = []
    for index in range(rounds):
        log(f'pipeline: round {index + 1}/{rounds}: node pipeline (separate processes) '
            f'for {each:g} s')
        log_path = str(Path(log_dir) / f'bench-pipeline-nodes-{index + 1}.log') \
            if log_dir else None
        loads.append(os.getloadavg()[0])
        ros_runs.append(run_pipeline(each, domain_id, sim_port=sim_port, log_path=log_path))
        log(f'pipeline: round {index + 1}/{rounds}: single-script baseline (one process, '
            f'real time) for {each:g} s')
        loads.append(os.getloadavg()[0])
        base_runs.append(RealtimeLoop().run(each, settle=SETTLE_S))
    loads.append(os.getloadavg()[0])
    ros_latencies = [v for r in ros_runs for v in r['latencies_ms']]
    base_latencies = [v for r in base_runs for v in r['latencies_ms']]
    ros_lat = summarize(ros_latencies)
    base_lat = summarize(base_latencies)
    ratio = ratio99 = None
    if ros_lat['p50'] is not None and base_lat['p50']:
        ratio = ros_lat['p50'] / base_lat['p50']
    if ros_lat['p99'] is not None and base_lat['p99']:
        ratio99 = ros_lat['p99'] / base_lat['p99']
    ros_summary = _sum_runs(ros_runs, ('frames_published', 'frames_processed', 'detections',
                                       'servo_commands'))
    ros_summary['latency_ms'] = ros_lat
    ros_summary['latency_ms_p50_per_round'] = [
        summarize(r['latencies_ms'])['p50'] for r in ros_runs]
    ros_summary['target_error_rms_per_round'] = [r['target_error_rms'] for r in ros_runs]
    ros_summary['restarts'] = [r['restarts'] for r in ros_runs]
    base_summary = _sum_runs(base_runs, ('frames', 'detections', 'servo_commands',
                                         'write_failures'))
    base_summary['latency_ms'] = base_lat
    base_summary['latency_ms_p50_per_round'] = [r['latency_ms']['p50'] for r in base_runs]
    base_summary['stage_ms_p50_per_round'] = [r['stage_ms_p50'] for r in base_runs]
    base_summary['target_error_rms_per_round'] = [r['target_error_rms'] for r in base_runs]
    base_cpu = percentile([r['cpu_percent_of_one_core'] for r in base_runs], 50)
    base_summary['cpu_percent_of_one_core'] = rounded(base_cpu, 1)
    pipeline: Dict[str, object] = {
        'setup': {'seconds_per_side': duration, 'rounds': rounds, 'camera_fps': 30.0,
                  'path': 'drift',
                  'detector': 'FaceTracker: detector node defaults and sim plan settings',
                  'settle_s': SETTLE_S,
                  'latency': 'capture stamp -> end of the serial write of the command',
                  'load_average_1min_at_each_start': [round(v, 2) for v in loads]},
        'ros_pipeline': ros_summary,
        'single_script': base_summary,
        'latency_ms': {'ros_pipeline': ros_lat, 'single_script': base_lat},
        'ratio_p50': rounded(ratio, 3),
        'ratio_p99': rounded(ratio99, 3),
        'ratio_p50_per_round': [
            rounded(a / b, 3) if a is not None and b else None
            for a, b in zip(ros_summary['latency_ms_p50_per_round'],
                            base_summary['latency_ms_p50_per_round'])],
    }
    pipeline['targets'] = [target('pipeline p50 / single-script p50', ratio, '<=',
                                  LATENCY_RATIO_TARGET)]
    pipeline['met'] = all(t['met'] for t in pipeline['targets'])
    samples: Dict[str, List[Tuple[float, ...]]] = {}
    for r in ros_runs:  # each run's own warm-up is left out, then the runs are pooled
        for name, rows in r['samples'].items():
            samples.setdefault(name, []).extend(row for row in rows
                                                if row[0] >= RESOURCE_WARMUP_S)
    resources = resources_section(samples, warmup_s=0.0, baseline_cpu=rounded(base_cpu, 1))
    resources['setup'] = {'camera_fps': 30.0, 'sample_period_s': 1.0,
                          'warmup_s': RESOURCE_WARMUP_S,
                          'during': 'the node pipeline runs of the pipeline section'}
    return pipeline, resources


def _sum_runs(runs: List[Dict[str, object]], keys: Sequence[str]) -> Dict[str, object]:
    out: Dict[str, object] = {'duration_s': round(sum(float(r['duration_s']) for r in runs), 2)}
    for key in keys:
        out[key] = sum(int(r.get(key) or 0) for r in runs)
    return out
