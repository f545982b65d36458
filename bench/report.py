# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Turn the benchmark results into markdown tables (docs/benchmarks.md) and a terminal summary."""

from typing import Dict, List, Optional

SECTIONS = ('transport', 'detector', 'pipeline', 'resources', 'budget', 'soak')


def _fmt(value: object, digits: int = 1, suffix: str = '') -> str:
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, float):
        return f'{value:.{digits}f}{suffix}'
    return f'{value}{suffix}'


def _get(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def target_rows(results: Dict[str, object]) -> List[List[str]]:
    """Return one row per target: section, what, measured, target, met (with the margin)."""
    rows = []
    for section in SECTIONS:
        data = results.get(section)
        if not isinstance(data, dict):
            continue
        if 'error' in data:
            rows.append([section, 'section failed: ' + str(data['error'])[:80], '-', '-', 'no'])
            continue
        for record in data.get('targets', []):
            value = record.get('value')
            margin = record.get('margin')
            verdict = 'yes' if record.get('met') else (
                f'no ({_fmt(abs(margin), 3)} short)' if margin is not None else 'no')
            rows.append([section, str(record.get('description')),
                         _fmt(value, 3) if isinstance(value, float) else _fmt(value),
                         str(record.get('target')), verdict])
    return rows


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(cell.replace('|', '/') for cell in row) + ' |' for row in rows]
    return lines


def markdown(results: Dict[str, object]) -> str:
    """Return the benchmark tables for ``results`` (the bench-results.json content)."""
    machine = results.get('machine', {})
    lines = [f"Measured {results.get('started', '')} on {_get(machine, 'cpu_count')} cores "
             f"({_get(machine, 'cpu_model')}), Python {_get(machine, 'python')}, OpenCV "
             f"{_get(machine, 'opencv')}; load average at start "
             f"{_get(machine, 'load_average_at_start')}.", '']
    lines += ['**Targets**', '']
    lines += _table(['section', 'figure', 'measured', 'target', 'met'], target_rows(results))
    transport = results.get('transport')
    if isinstance(transport, dict) and 'default' in transport:
        rows = []
        for name, settings, path in (
                ('default', 'defaults', 'rclpy messages'),
                ('shipped_profile', 'shipped profile', 'rclpy messages'),
                ('shipped_profile_node_path', 'shipped profile', "the nodes' path"),
                ('node_path_glibc_malloc', 'shipped profile',
                 "the nodes' path, glibc's malloc thresholds"),
                ('node_path_single_executor', 'shipped profile',
                 "the nodes' path, SingleThreadedExecutor")):
            if name not in transport:
                continue
            entry = transport.get(name, {})
            rows.append([settings, path, _fmt(_get(entry, 'delivery'), 3),
                         _fmt(_get(entry, 'latency_ms', 'p50'), 2),
                         _fmt(_get(entry, 'latency_ms', 'p99'), 2),
                         _fmt(_get(entry, 'minor_faults_per_frame', 'publisher')),
                         _fmt(_get(entry, 'minor_faults_per_frame', 'subscriber')),
                         _fmt(_get(entry, 'error'))])
        lines += ['', '**Transport** (640x480 bgr8 at 30 Hz, reliable publisher, sensor-data '
                  'subscriber, two processes; from the frame as an array to the frame as an '
                  'array)', '']
        lines += _table(['Fast DDS settings', 'image path', 'delivery', 'p50 ms', 'p99 ms',
                         'page faults/frame (pub)', 'page faults/frame (sub)', 'error'], rows)
    detector = results.get('detector')
    if isinstance(detector, dict) and detector.get('configurations'):
        threads = _get(detector, 'setup', 'opencv_default_threads')
        rows = []
        for name, entry in detector['configurations'].items():
            many = entry.get(f'ms_per_frame_{threads}_threads', {})
            rows.append([name, _fmt(_get(entry, 'ms_per_frame_1_thread', 'p50')),
                         _fmt(_get(entry, 'ms_per_frame_1_thread', 'p99')),
                         _fmt(many.get('p50')), _fmt(_get(entry, 'roi_share'), 2),
                         _fmt(_get(entry, 'lfw', 'recall'), 2),
                         _fmt(_get(entry, 'lfw', 'false_positive_rate'), 2),
                         _fmt(_get(entry, 'sim', 'recall'), 2),
                         _fmt(_get(entry, 'sim', 'false_positive_frame_rate'), 2)])
        for name, reason in detector.get('skipped', {}).items():
            rows.append([name, 'skipped: ' + reason] + [''] * 7)
        lines += ['', '**Detector** (ms per 640x480 frame of the simulated sequence; LFW: 100 '
                  'faces / 100 non-faces)', '']
        lines += _table(['configuration', 'p50 1 thread', 'p99 1 thread',
                         f'p50 {threads} threads', 'ROI share', 'LFW recall', 'LFW FP',
                         'sim recall', 'sim FP frames'], rows)
    pipeline = results.get('pipeline')
    if isinstance(pipeline, dict) and 'latency_ms' in pipeline:
        rows = []
        for name, label in (('ros_pipeline', 'nodes (separate processes)'),
                            ('single_script', 'single script (one process)')):
            lat = pipeline['latency_ms'].get(name, {})
            rows.append([label, _fmt(lat.get('p50')), _fmt(lat.get('p99')),
                         _fmt(lat.get('n'))])
        rows.append(['ratio', _fmt(pipeline.get('ratio_p50'), 2),
                     _fmt(pipeline.get('ratio_p99'), 2), ''])
        lines += ['', '**Pipeline** (capture -> servo command written, closed-loop simulation '
                  'at 30 fps)', '']
        lines += _table(['design', 'p50 ms', 'p99 ms', 'commands'], rows)
    resources = results.get('resources')
    if isinstance(resources, dict) and resources.get('nodes'):
        soak_nodes = _get(results, 'soak', 'nodes') or {}
        rows = []
        for name, entry in resources['nodes'].items():
            soak = soak_nodes.get(name, {})
            rows.append([name, _fmt(entry.get('cpu_percent_median')),
                         _fmt(entry.get('rss_mb_median')),
                         _fmt(entry.get('private_mb_median')),
                         _slope(soak, ''), _slope(soak, 'private_')])
        rows.append(['all nodes', _fmt(resources.get('cpu_percent_sum_all_nodes')),
                     _fmt(resources.get('rss_mb_sum')), '', '', ''])
        if resources.get('single_script_cpu_percent') is not None:
            rows.append(['single script (for comparison)',
                         _fmt(resources.get('single_script_cpu_percent')), '', '', '', ''])
        lines += ['', '**Resources** (30 fps; CPU in % of one core, medians of 1 s samples) '
                  'and **soak** (memory slopes, least squares after the warm-up; the target '
                  'applies to private memory)', '']
        lines += _table(['node', 'CPU %', 'RSS MB', 'private MB', 'RSS slope MB/h',
                         'private slope MB/h'], rows)
    lines += budget_lines(results.get('budget'))
    return '\n'.join(lines) + '\n'


def budget_lines(budget: object) -> List[str]:
    """Return the budget section's table (one row per CPU quota or load), or nothing."""
    if not isinstance(budget, dict) or 'rows' not in budget:
        return []
    rows = []
    for name, row in budget['rows'].items():
        rows.append([name, _fmt(row.get('start_to_tracked_s')),
                     _fmt(row.get('frames_published')), _fmt(row.get('frames_processed')),
                     _fmt(row.get('servo_commands')),
                     _fmt(row.get('commands_per_processed_frame'), 3),
                     _fmt(row.get('target_error_rms'), 3), _fmt(row.get('target_error_max'), 3),
                     _fmt(_get(row, 'latency_ms', 'p50')), _fmt(_get(row, 'latency_ms', 'p99')),
                     _fmt(row.get('throttled_s')),
                     _fmt(row.get('watchdog_actions')), _fmt(row.get('restarts'))])
    setup = budget.get('setup', {})
    lines = ['', f"**Budget** (closed loop, {_fmt(setup.get('seconds_per_row'), 0)} s per row at "
             '30 fps; camera, detector, servo, diagnostics and flight recorder in a cgroup with '
             'the CPU quota, the simulated controller outside; hogs: two busy loops, no quota; '
             'errors and latencies from the first frame with the face tracked)',
             '']
    if budget.get('skipped'):
        lines += [f"Quota rows skipped: {budget['skipped']}", '']
    lines += _table(['row', 'tracked after s', 'frames', 'processed', 'commands',
                     'commands/processed', 'rms',
                     'max', 'p50 ms', 'p99 ms', 'throttled s', 'watchdog actions',
                     'restarts'], rows)
    return lines


def _slope(entry: Dict[str, object], prefix: str) -> str:
    """Format a soak slope with its standard error, '-' when there is none."""
    slope = entry.get(f'{prefix}slope_mb_per_h')
    if slope is None:
        return '-'
    return f'{slope:.2f} ± {_fmt(entry.get(f"{prefix}slope_stderr_mb_per_h"), 2)}'


def summary_lines(results: Dict[str, object]) -> List[str]:
    """Return a short terminal summary: one line per target."""
    out = []
    for section, what, value, limit, met in target_rows(results):
        out.append(f'{"OK  " if met == "yes" else "MISS"} {section:9s} {what}: {value} '
                   f'(target {limit})')
    return out


def first_error(results: Dict[str, object]) -> Optional[str]:
    """Return the first section error in ``results``, if any."""
    for section in SECTIONS:
        data = results.get(section)
        if isinstance(data, dict) and 'error' in data:
            return f'{section}: {data["error"]}'
    return None
