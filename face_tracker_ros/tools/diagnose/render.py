# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The human-readable .log text of a diagnosis report."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple


def _fmt(value: Any) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (list, tuple)):
        return ', '.join(_fmt(v) for v in value) or '-'
    return str(value)


def _kv(data: dict, keys: Sequence[str], indent: str = '  ') -> List[str]:
    width = max((len(k) for k in keys), default=0)
    return [f'{indent}{k.ljust(width)} : {_fmt(data.get(k))}' for k in keys if k in data]


def _table(rows: List[dict], columns: Sequence[Tuple[str, str]], indent: str = '  ') -> List[str]:
    if not rows:
        return [f'{indent}(none)']
    cells = [[_fmt(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(title), *(len(c[i]) for c in cells)) for i, (_, title) in
              enumerate(columns)]
    lines = [indent + '  '.join(t.ljust(w) for (_, t), w in zip(columns, widths))]
    lines.append(indent + '  '.join('-' * w for w in widths))
    lines += [indent + '  '.join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return lines


def _holder_lines(holders: List[dict], indent: str = '      ') -> List[str]:
    if not holders:
        return [f'{indent}held by: nobody']
    return [f"{indent}held by: pid {h['pid']} {h['name']}  {h['cmdline'][:120]}"
            for h in holders]


def render_system(d: dict) -> List[str]:
    """Return the lines of the system section."""
    lines = _kv(d, ('hostname', 'os', 'kernel', 'machine', 'python', 'boot_time', 'uptime_s',
                    'cpu_count', 'cpu_percent', 'cpu_percent_per_core', 'load',
                    'mem_total_mb', 'mem_used_percent', 'mem_available_mb', 'swap_total_mb',
                    'swap_used_percent', 'cpu_temp_c'))
    lines.append('  disks:')
    lines += _table(d.get('disks', []), (('path', 'path'), ('free_mb', 'free MB'),
                                         ('free_percent', 'free %')), indent='    ')
    user = d.get('user', {})
    lines.append(f"  user : {user.get('name')} (uid {user.get('uid')}), groups "
                 f"{_fmt(user.get('groups'))}")
    lines.append('  environment:')
    lines += [f'    {k}={v}' for k, v in d.get('environment', {}).items() if v is not None]
    return lines


def render_processes(d: dict) -> List[str]:
    """Return the lines of the processes section."""
    lines = [f"  {d.get('count', 0)} tracker process(es); CPU over {d.get('cpu_sample_s')} s"]
    lines += _table(d.get('processes', []), (
        ('pid', 'pid'), ('node', 'node'), ('role', 'role'), ('state', 'state'),
        ('rss_mb', 'RSS MB'), ('anon_mb', 'anon MB'), ('cpu_percent', 'CPU %'),
        ('num_fds', 'fds'),
        ('num_threads', 'threads'), ('uptime_s', 'uptime s'), ('started', 'started')))
    for row in d.get('processes', []):
        lines.append(f"    {row['pid']}: {row['cmdline']}")
    return lines


def render_camera(d: dict) -> List[str]:
    """Return the lines of the camera section."""
    lines = []
    if d.get('note'):
        lines.append(f"  {d['note']}")
    for dev in d.get('devices', []):
        lines.append(f"  {dev['path']}  {dev.get('name') or ''}")
        lines += _kv(dev, ('realpath', 'mode', 'owner', 'group', 'readable', 'writable',
                           'by_id', 'error'), indent='      ')
        lines += _holder_lines(dev.get('holders', []))
        v4l2 = dev.get('v4l2')
        if v4l2:
            for key, value in v4l2.get('summary', {}).items():
                lines.append(f'      v4l2 {key}: {value}')
            if v4l2.get('error') or v4l2.get('returncode'):
                lines.append(f"      v4l2-ctl: {v4l2.get('error') or ''} "
                             f"exit {v4l2.get('returncode')}")
    lines.append(f"  v4l2-ctl : {d.get('v4l2_ctl') or 'not installed (apt install v4l-utils)'}")
    lines += _links_lines('by-id links', d.get('by_id', {}))
    lines += _group_lines(d.get('video_group'))
    return lines


def render_serial(d: dict) -> List[str]:
    """Return the lines of the serial section."""
    lines = []
    if d.get('note'):
        lines.append(f"  {d['note']}")
    if d.get('list_error'):
        lines.append(f"  pyserial list failed: {d['list_error']}")
    for port in d.get('ports', []):
        lines.append(f"  {port['path']}  {port.get('description') or ''}")
        lines += _kv(port, ('hwid', 'vid', 'pid', 'manufacturer', 'product', 'serial_number',
                            'mode', 'owner', 'group', 'readable', 'writable', 'by_id',
                            'error'), indent='      ')
        lines += _holder_lines(port.get('holders', []))
    lines += _links_lines('by-id links', d.get('by_id', {}))
    sim = d.get('sim_port') or {}
    if sim.get('exists'):
        lines.append(f"  simulated controller link: {sim['path']} -> {sim.get('target')}")
        lines += _holder_lines(sim.get('holders', []))
    else:
        lines.append(f"  simulated controller link: {sim.get('path')} (absent)")
    lines += _group_lines(d.get('dialout_group'))
    return lines


def _links_lines(title: str, links: Dict[str, str]) -> List[str]:
    if not links:
        return [f'  {title}: none']
    return [f'  {title}:'] + [f'    {link} -> {target}' for link, target in links.items()]


def _group_lines(group: Optional[dict]) -> List[str]:
    if not group:
        return []
    if not group.get('exists'):
        return [f"  group {group.get('group')}: does not exist"]
    return [f"  group {group['group']}: user {group['user']} listed={group.get('listed')} "
            f"in this session={group.get('in_session')} root={group.get('root')}"]


def render_fds(d: dict) -> List[str]:
    """Return the lines of the file descriptor section."""
    system = d.get('system', {})
    lines = [f"  system file table: {_fmt(system.get('allocated'))} of {_fmt(system.get('max'))}"
             f" ({_fmt(system.get('used_percent'))}%); nr_open {_fmt(d.get('nr_open'))}",
             f"  this tool's limit: {d.get('own_limit', {}).get('soft')} soft / "
             f"{d.get('own_limit', {}).get('hard')} hard"]
    lines.append('  tracker processes:')
    rows = [dict(r, kinds=' '.join(f'{k}={v}' for k, v in
                                   sorted((r.get('by_kind') or {}).items())))
            for r in d.get('tracker', [])]
    lines += _table(rows, (('pid', 'pid'), ('node', 'node'), ('num_fds', 'fds'),
                           ('limit_soft', 'limit'), ('percent_of_limit', '% of limit'),
                           ('kinds', 'by kind')), indent='    ')
    lines.append(f"  top fd users ({d.get('unreadable_processes', 0)} processes not readable):")
    lines += _table(d.get('top', []), (('pid', 'pid'), ('name', 'name'), ('num_fds', 'fds')),
                    indent='    ')
    return lines


def render_kernel(d: dict) -> List[str]:
    """Return the lines of the kernel section."""
    lines = [f"  kernel.dmesg_restrict = {_fmt(d.get('dmesg_restrict'))}"]
    for attempt in d.get('attempts', []):
        lines.append(f"  tried {' '.join(attempt['argv'])}: exit {_fmt(attempt.get('returncode'))}"
                     f"{' - ' + attempt['error'] if attempt.get('error') else ''}")
    if not d.get('readable'):
        lines.append(f"  NOT READABLE: {d.get('reason')}")
        return lines
    lines.append(f"  read {d.get('lines_scanned')} lines from {d.get('source')}")
    for name, count in d.get('counts', {}).items():
        lines.append(f'  {name}: {count} line(s)')
        lines += [f'      {line}' for line in d.get('matches', {}).get(name, [])[-10:]]
    return lines


def render_log(d: dict) -> List[str]:
    """Return the lines of the log file section."""
    if not d.get('found'):
        return [f"  {d.get('note')}", f"  searched: {_fmt(d.get('searched'))}"]
    lines = _kv(d, ('path', 'size_mb', 'modified', 'age_s', 'rotated', 'lines_read'))
    counts = d.get('counts', {})
    lines.append('  levels in the lines read: ' + ', '.join(f'{k} {v}' for k, v in
                                                            counts.items()))
    lines.append(f"  WARN/ERROR/FATAL lines ({d.get('problem_lines_total')}, last "
                 f"{len(d.get('problems', []))}):")
    lines += [f'    {line}' for line in d.get('problems', [])]
    if d.get('last_resource_lines'):
        lines.append('  latest resource monitor lines:')
        lines += [f'    {line}' for line in d['last_resource_lines'].values()]
    lines.append(f"  last line: {d.get('last_line')}")
    return lines


def render_ros(d: dict) -> List[str]:
    """Return the lines of the ROS graph section."""
    lines = []
    env = {k: v for k, v in (d.get('environment') or {}).items() if v is not None}
    if 'ROS_DOMAIN_ID' not in env:
        env['ROS_DOMAIN_ID'] = '(unset: 0)'
    lines.append('  ' + '  '.join(f'{k}={v}' for k, v in env.items()))
    if d.get('error'):
        lines.append(f"  {d['error']}")
    probe = d.get('probe') or {}
    if probe:
        lines.append(f"  probe: {probe.get('duration_s')} s, exit {_fmt(probe.get('returncode'))}"
                     f", timed out {probe.get('timed_out')}")
        if not d.get('nodes') and probe.get('stderr_tail'):
            lines += [f'    {line}' for line in probe['stderr_tail']]
    if d.get('rclpy') is False:
        return lines
    nodes = d.get('nodes') or []
    lines.append(f'  nodes ({len(nodes)}): ' + (', '.join(nodes) or 'none'))
    lines.append('  topics:')
    lines += _table([dict(t, types=', '.join(t['types'])) for t in d.get('topics') or []],
                    (('name', 'topic'), ('types', 'type'), ('publishers', 'pubs'),
                     ('subscribers', 'subs')), indent='    ')
    if 'rates' in d:
        lines.append('  measured rates:')
        lines += _table([dict(r, topic=t) for t, r in d['rates'].items()],
                        (('topic', 'topic'), ('publishers', 'pubs'), ('messages', 'messages'),
                         ('window_s', 'window s'), ('rate_hz', 'Hz'), ('note', 'note')),
                        indent='    ')
    if 'diagnostics' in d:
        lines.append('  latest /diagnostics:')
        lines += _table(d['diagnostics'], (('level_name', 'level'), ('name', 'status'),
                                           ('message', 'message'), ('age_s', 'age s')),
                        indent='    ')
    return lines


RENDERERS: Dict[str, Callable[[dict], List[str]]] = {
    'system': render_system, 'processes': render_processes, 'camera': render_camera,
    'serial': render_serial, 'fds': render_fds, 'kernel': render_kernel,
    'log': render_log, 'ros': render_ros,
}


def render_text(report: dict) -> str:
    """Return the human-readable .log text of a diagnosis report (the JSON form)."""
    lines = ['face_tracker_ros diagnosis',
             '=' * 78,
             f"started   {report['started']}",
             f"finished  {report['finished']}  ({report['duration_s']} s)",
             f"host      {report['host']}",
             '',
             'SUMMARY',
             '-' * 78]
    if report['findings']:
        lines += [f"  {f['level']:<5} [{f['section']}] {f['text']}" for f in report['findings']]
    else:
        lines.append('  nothing notable found')
    for index, (name, section) in enumerate(report['sections'].items(), start=1):
        lines += ['', f"{index}. {section['title'].upper()}  [{name}: {section['status']}, "
                  f"{section['duration_s']} s]", '-' * 78]
        if section['status'] != 'ok':
            lines.append(f"  PROBE {section['status'].upper()}: {section['error']}")
            lines += [f'    {line}' for line in section['data'].get('traceback', [])]
            continue
        try:
            lines += RENDERERS[name](section['data'])
        except Exception as exc:  # noqa: BLE001 - the JSON still has the data
            lines.append(f'  (could not format this section: {exc}; see the .json file)')
    return '\n'.join(lines) + '\n'
