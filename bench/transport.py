# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Transport benchmark: camera-sized images between two processes over real DDS.

A publisher process sends ``width`` x ``height`` bgr8 ``sensor_msgs/Image``
messages at ``rate`` Hz with the camera's QoS (reliable, depth 1); a
subscriber process receives them with the consumers' sensor-data QoS
(best-effort, depth 1) and measures, per frame, the time from the header
stamp to the moment it holds the pixels as an array.  The stamp is taken
while the frame is still an array, before it is turned into what is
published, as in the camera node.  Two image paths:

* ``messages``: what a plain rclpy node does: an ``Image`` message built from
  the array, a message in the callback, the single-threaded executor;
* ``nodes``: what the camera and detector nodes do: the frame serialized
  straight from the array and published as bytes, taken serialized and
  read as a view (:mod:`face_tracker_ros.common.image_wire`), the executor
  and allocator set-up of :mod:`face_tracker_ros.common.process`.  Both wait until they
are matched, then the publisher sends a second of warm-up frames and
``frames`` measured ones, each numbered in ``header.frame_id``.

:func:`measure` runs one such pair with a given Fast DDS profile (None:
Fast DDS's defaults, in a directory with no ``DEFAULT_FASTDDS_PROFILES.xml``)
and image path; :func:`run` measures the defaults and the shipped
``config/fastdds.xml`` with messages, and the shipped profile with the
nodes' path, also without its allocator thresholds and with the single-threaded
executor (:data:`VARIANTS`), side by side; each side counts its minor page faults
per frame.  ``python -m bench.transport pub|sub ...`` is the child process.
"""

import argparse
import json
import os
from pathlib import Path
import select
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

from bench.common import log, ros_env, summarize, target, wait_for
from face_tracker_ros.common.checks import check_choice, check_int, check_positive

TOPIC = 'bench/image'
#: How the image is turned into what is published, and back (see the module's text).
PATHS = ('messages', 'nodes')
WARMUP_S = 1.0
MATCH_TIMEOUT_S = 20.0

#: What :func:`run` measures, side by side: (name, shipped profile or not, image path).
VARIANTS = (('default', False, 'messages'),
            ('shipped_profile', True, 'messages'),
            ('shipped_profile_node_path', True, 'nodes'),
            ('node_path_glibc_malloc', True, 'nodes'),
            ('node_path_single_executor', True, 'nodes'))
#: The nodes' path without one of its process settings (common/process.py), to show what
#: each does in the same run: page faults per frame and latency.
VARIANT_ENV = {'node_path_glibc_malloc': {'FACE_TRACKER_TUNE_MALLOC': '0'},
               'node_path_single_executor': {'FACE_TRACKER_EXECUTOR': 'single'}}

#: The project's targets for the shipped profile.
DELIVERY_TARGET = 0.995
LATENCY_P50_TARGET_MS = 4.0


def shipped_profile() -> Path:
    """Return the path of the package's Fast DDS profile, ``config/fastdds.xml``."""
    from face_tracker_ros.common.paths import share_dir

    return share_dir() / 'config' / 'fastdds.xml'


# --- child processes --------------------------------------------------------------------------


def _qos(kind: str):
    from rclpy.qos import HistoryPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy

    if kind == 'pub':  # what the camera publishes with (REP-2003)
        return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                          history=HistoryPolicy.KEEP_LAST)
    return QoSProfile(depth=1, reliability=qos_profile_sensor_data.reliability,
                      history=HistoryPolicy.KEEP_LAST,
                      durability=qos_profile_sensor_data.durability)


def _setup(path: str):
    """Initialise rclpy for this process's image ``path``; return its executor."""
    import rclpy

    from face_tracker_ros.common.process import executor_choice, make_executor, tune_allocator

    if path == 'nodes':
        tune_allocator()
    rclpy.init(args=[])
    return make_executor(executor_choice() if path == 'nodes' else 'single')[0]


def _minor_faults() -> int:
    """Return this process's minor page faults so far (a fresh page each, zero-filled)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _publisher(args: argparse.Namespace) -> Dict[str, object]:
    import numpy as np
    import rclpy
    from sensor_msgs.msg import Image

    from face_tracker_ros.common.compat import array_to_image
    from face_tracker_ros.common.image_wire import encode_image

    executor = _setup(args.path)
    node = rclpy.create_node('bench_image_publisher')
    executor.add_node(node)
    pub = node.create_publisher(Image, TOPIC, _qos('pub'))
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
    matched = wait_for(lambda: pub.get_subscription_count() > 0, MATCH_TIMEOUT_S, 0.05,
                       step=lambda s: executor.spin_once(timeout_sec=s))
    result: Dict[str, object] = {'matched': bool(matched), 'published': 0}
    if matched:
        period = 1.0 / args.rate
        warmup = int(round(WARMUP_S * args.rate))
        start = time.monotonic()
        publish_ms: List[float] = []
        late = 0
        for k in range(warmup + args.frames):
            due = start + k * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                late += 1
            frame_id = 'warmup' if k < warmup else str(k - warmup)
            if k == warmup:
                faults = _minor_faults()
            before = time.perf_counter()
            stamp = node.get_clock().now().to_msg()
            if args.path == 'nodes':
                pub.publish(encode_image(frame, stamp.sec, stamp.nanosec, frame_id))
            else:
                pub.publish(array_to_image(frame, stamp, frame_id))
            if k >= warmup:
                publish_ms.append((time.perf_counter() - before) * 1000.0)
                result['published'] = int(result['published']) + 1
        result['publish_call_ms'] = summarize(publish_ms)
        result['minor_faults_per_frame'] = round(
            (_minor_faults() - faults) / max(1, args.frames), 1)
        result['late_frames'] = late
        # Let a reliable publisher finish sending before the participant goes away.
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
    node.destroy_node()
    rclpy.try_shutdown()
    return result


def _subscriber(args: argparse.Namespace) -> Dict[str, object]:
    import rclpy
    from sensor_msgs.msg import Image

    from face_tracker_ros.common.compat import image_to_array
    from face_tracker_ros.common.image_wire import decode_image, wire_to_array

    executor = _setup(args.path)
    node = rclpy.create_node('bench_image_subscriber')
    latencies: Dict[int, float] = {}
    state = {'warmup': 0, 'other': 0, 'wrong_size': 0, 'faults_at_first': None}

    def on_image(msg) -> None:
        if args.path == 'nodes':
            image = decode_image(msg)
            pixels = wire_to_array(image)
            sec, nanosec, frame_id = image.stamp_sec, image.stamp_nanosec, image.frame_id
        else:
            pixels = image_to_array(msg)
            sec, nanosec = msg.header.stamp.sec, msg.header.stamp.nanosec
            frame_id = msg.header.frame_id
        now = node.get_clock().now().nanoseconds
        stamp = sec * 1_000_000_000 + nanosec
        if frame_id == 'warmup':
            state['warmup'] += 1
            return
        try:
            seq = int(frame_id)
        except ValueError:
            state['other'] += 1
            return
        if state['faults_at_first'] is None:
            state['faults_at_first'] = _minor_faults()
        if pixels.size != args.width * args.height * 3:
            state['wrong_size'] += 1
            return
        latencies.setdefault(seq, (now - stamp) / 1e6)

    node.create_subscription(Image, TOPIC, on_image, _qos('sub'), raw=args.path == 'nodes')
    executor.add_node(node)
    print('ready', flush=True)
    deadline = time.monotonic() + args.timeout
    done_at: Optional[float] = None
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.01)
        if done_at is None and select.select([sys.stdin], [], [], 0)[0]:
            sys.stdin.readline()  # the parent's "publisher finished"
            done_at = time.monotonic() + 0.5
        if done_at is not None and time.monotonic() >= done_at:
            break
    first = state['faults_at_first']
    faults = None if first is None else _minor_faults() - first
    node.destroy_node()
    rclpy.try_shutdown()
    received = sorted(latencies)
    return {'received': len(received), 'warmup_received': state['warmup'],
            'wrong_size': state['wrong_size'],
            'minor_faults_per_frame': None if faults is None or len(received) < 2 else
            round(faults / (len(received) - 1), 1),
            'latencies_ms': [round(latencies[k], 3) for k in received],
            'sequence': received}


def child_main(argv: Optional[List[str]] = None) -> int:
    """Run the publisher or subscriber side and print its result as one JSON line."""
    parser = argparse.ArgumentParser(description='one side of the transport benchmark')
    parser.add_argument('role', choices=('pub', 'sub'))
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--timeout', type=float, default=120.0)
    parser.add_argument('--path', choices=PATHS, default='messages')
    args = parser.parse_args(argv)
    result = _publisher(args) if args.role == 'pub' else _subscriber(args)
    print('RESULT ' + json.dumps(result), flush=True)
    return 0


# --- the parent ---------------------------------------------------------------------------------


def _result_line(text: str) -> Optional[dict]:
    for line in reversed(text.splitlines()):
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    return None


def measure(profile: Optional[str], domain_id: int, frames: int = 300, rate: float = 30.0,
            width: int = 640, height: int = 480, path: str = 'messages',
            environ: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """Measure one publisher/subscriber pair with the Fast DDS ``profile`` (None: defaults).

    ``path`` is one of :data:`PATHS`; ``environ`` is added to both processes' environment
    (``FACE_TRACKER_TUNE_MALLOC=0``, ``FACE_TRACKER_EXECUTOR=single``: the nodes' path
    without one of its process settings).

    Returns delivery (received / published), latency statistics in ms and the
    raw per-frame latencies; ``error`` says what went wrong when a side failed.
    """
    check_int('frames', frames, 1)
    check_positive('rate', rate)
    check_int('width', width, 1)
    check_int('height', height, 1)
    check_choice('path', path, PATHS)
    env = ros_env(domain_id, profile)
    env.update(environ or {})
    common = ['--frames', str(frames), '--rate', str(rate), '--width', str(width),
              '--height', str(height), '--path', path]
    timeout = frames / rate + 60.0
    root = str(Path(__file__).resolve().parents[1])
    env['PYTHONPATH'] = root + os.pathsep + env.get('PYTHONPATH', '')
    with tempfile.TemporaryDirectory(prefix='bench-transport-') as cwd:
        # cwd has no DEFAULT_FASTDDS_PROFILES.xml, so only ``profile`` (if any) applies.
        sub = subprocess.Popen(
            [sys.executable, '-m', 'bench.transport', 'sub', '--timeout', str(timeout)]
            + common, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        # Both start at once; the publisher sends nothing until it has matched the subscriber.
        pub = subprocess.Popen([sys.executable, '-m', 'bench.transport', 'pub'] + common,
                               cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            ready = sub.stdout.readline().strip()
            if ready != 'ready':
                sub.kill()
                _, err = sub.communicate()
                return {'error': f'subscriber did not start: {ready} {err[-500:]}'}
            pub_out, pub_err = pub.communicate(timeout=timeout)
            sub.stdin.write('done\n')
            sub.stdin.flush()
            sub_out, sub_err = sub.communicate(timeout=30.0)
        finally:
            for proc in (pub, sub):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    pub_result = _result_line(pub_out)
    sub_result = _result_line(sub_out)
    if pub_result is None or sub_result is None:
        return {'error': 'a side failed: publisher ' + pub_err[-500:] + ' subscriber '
                + sub_err[-500:]}
    if not pub_result.get('matched'):
        return {'error': f'publisher and subscriber did not match within {MATCH_TIMEOUT_S} s'}
    published = int(pub_result['published'])
    received = int(sub_result['received'])
    latencies = sub_result['latencies_ms']
    return {
        'profile': profile or '(Fast DDS defaults)',
        'path': path,
        'published': published,
        'received': received,
        'delivery': round(received / published, 4) if published else None,
        'latency_ms': summarize(latencies),
        'publish_call_ms': pub_result.get('publish_call_ms'),
        'publisher_late_frames': pub_result.get('late_frames'),
        'minor_faults_per_frame': {'publisher': pub_result.get('minor_faults_per_frame'),
                                   'subscriber': sub_result.get('minor_faults_per_frame')},
        'latencies_ms': latencies,
    }


def run(domain_id: int, frames: int = 300, rate: float = 30.0, width: int = 640,
        height: int = 480, profile: Optional[str] = None) -> Dict[str, object]:
    """Measure Fast DDS's defaults and the shipped profile; return the section with targets."""
    profile = profile or str(shipped_profile())
    section: Dict[str, object] = {
        'setup': {'frames': frames, 'rate_hz': rate, 'image': f'{width}x{height} bgr8',
                  'bytes_per_frame': width * height * 3,
                  'publisher_qos': 'reliable, keep last 1',
                  'subscriber_qos': 'sensor data (best effort), keep last 1',
                  'processes': 2},
    }
    for name, shipped, path in VARIANTS:
        log(f'transport: {name} ({frames} frames at {rate:g} Hz)')
        result = measure(profile if shipped else None, domain_id, frames, rate, width, height,
                         path, VARIANT_ENV.get(name))
        result.pop('latencies_ms', None)  # the raw samples stay out of the results file
        section[name] = result
    shipped = section['shipped_profile_node_path']
    delivery = shipped.get('delivery') if isinstance(shipped, dict) else None
    p50 = shipped.get('latency_ms', {}).get('p50') if isinstance(shipped, dict) else None
    section['targets'] = [
        target("delivery with sensor-data QoS at 30 Hz (shipped profile, nodes' path)",
               delivery, '>=', DELIVERY_TARGET),
        target("latency p50 (shipped profile, nodes' path)", p50, '<=', LATENCY_P50_TARGET_MS,
               'ms'),
    ]
    section['met'] = all(t['met'] for t in section['targets'])
    return section


if __name__ == '__main__':
    sys.exit(child_main())
