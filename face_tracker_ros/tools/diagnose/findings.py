# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The summary's findings: one small rule per problem, run over the probes' sections.

A finding is ``{'level': 'ERROR' | 'WARN' | 'INFO', 'section': name, 'text': ...}``;
``findings()`` returns them worst first.  The memory, disk, RSS and fd thresholds are
the diagnostics node's defaults (its parameter table).
"""

import re
from typing import Callable, Dict, List, Optional, Set

from face_tracker_ros.common.params import defaults
from face_tracker_ros.common.status import ERROR, level_label, STALE, WARN
from face_tracker_ros.monitor.params import PARAMS as MONITOR_PARAMS
from face_tracker_ros.tools.diagnose.sections import SectionResult

_MONITOR = defaults(MONITOR_PARAMS)
#: Default thresholds of the diagnostics node, used for findings.
RSS_WARN_MB, RSS_ERROR_MB = _MONITOR['rss_warn_mb'], _MONITOR['rss_error_mb']
FDS_WARN, FDS_ERROR = _MONITOR['fds_warn'], _MONITOR['fds_error']
MEM_WARN_PERCENT = _MONITOR['mem_warn_percent']
DISK_WARN_FREE_PERCENT = _MONITOR['disk_warn_free_percent']

#: Severities of a finding: the status labels ERROR and WARN, and INFO for a plain fact.
ERROR_LABEL, WARN_LABEL, INFO_LABEL = level_label(ERROR), level_label(WARN), 'INFO'
_ORDER = {ERROR_LABEL: 0, WARN_LABEL: 1, INFO_LABEL: 2}


def _finding(level: str, section: str, text: str) -> dict:
    return {'level': level, 'section': section, 'text': text}


def _error(section: str, text: str) -> dict:
    return _finding(ERROR_LABEL, section, text)


def _warn(section: str, text: str) -> dict:
    return _finding(WARN_LABEL, section, text)


def _info(section: str, text: str) -> dict:
    return _finding(INFO_LABEL, section, text)


def _probe_status(name: str, result: SectionResult) -> List[dict]:
    if result.status in ('error', 'timeout'):
        return [_warn(name, f'probe {result.status}: {result.error}')]
    if result.status == 'skipped':
        return [_info(name, f'skipped: {result.error}')]
    return []


# ----------------------------------------------------------------------- system
def _system(system: dict, _pids: Set[int]) -> List[dict]:
    if not system:
        return []
    out = []
    mem = system.get('mem_used_percent')
    if mem is not None and mem >= MEM_WARN_PERCENT:
        out.append(_warn('system', f'memory {mem:.0f}% used'))
    for disk in system.get('disks', []):
        free = disk.get('free_percent')
        if free is not None and free < DISK_WARN_FREE_PERCENT:
            out.append(_warn('system', f"disk {disk['path']} only {free:.0f}% free"))
    load, cores = (system.get('load') or [None])[0], system.get('cpu_count') or 1
    if load is not None and load > 1.5 * cores:
        out.append(_warn('system', f'load {load:.2f} on {cores} cores'))
    return out


# -------------------------------------------------------------------- processes
def _above(value: Optional[float], warn: float, error: float) -> Optional[str]:
    """Return the label of ``value`` against a WARN and an ERROR threshold, None below both."""
    if value is None or value < warn:
        return None
    return ERROR_LABEL if value >= error else WARN_LABEL


def _process(row: dict) -> List[dict]:
    out = []
    who = f"{row.get('node') or row.get('role')} (pid {row['pid']})"
    if row.get('zombie'):
        out.append(_error('processes', f'{who} is a zombie'))
    rss = row.get('rss_mb')
    level = _above(rss, RSS_WARN_MB, RSS_ERROR_MB)
    if level:
        out.append(_finding(level, 'processes', f'{who} uses {rss:.0f} MB RSS'))
    fds = row.get('num_fds')
    level = _above(fds, FDS_WARN, FDS_ERROR)
    if level:
        out.append(_finding(level, 'processes', f'{who} has {fds} open fds'))
    return out


def _processes(procs: dict, _pids: Set[int]) -> List[dict]:
    rows = procs.get('processes', [])
    out = [] if rows else [_warn('processes', 'no tracker process is running')]
    for row in rows:
        out += _process(row)
    return out


# ---------------------------------------------------------------------- devices
def _device(section: str, dev: dict, tracker_pids: Set[int]) -> List[dict]:
    out = []
    path = dev.get('path')
    if dev.get('exists') and dev.get('error'):
        out.append(_warn(section, f"{path}: {dev['error']}"))
    elif dev.get('readable') is False or dev.get('writable') is False:
        out.append(_warn(section, f'{path} not readable/writable by this user '
                         f"({dev.get('mode')} {dev.get('owner')}:{dev.get('group')})"))
    holders = dev.get('holders') or []
    others = [h for h in holders if h['pid'] not in tracker_pids]
    if others:
        names = ', '.join(f"{h['name']} (pid {h['pid']})" for h in others)
        out.append(_warn(section, f'{path} is held by {names}'))
    if len(holders) > 1:
        out.append(_warn(section, f'{path} is open in {len(holders)} processes'))
    return out


def _group(section: str, group: Optional[dict], needed: bool) -> List[dict]:
    if not group or group.get('root') or not needed:
        return []
    name = group.get('group')
    if not group.get('exists'):
        return [_info(section, f'group {name} does not exist on this system')]
    if not group.get('listed'):
        return [_warn(section, f"user {group.get('user')} is not in group {name}: "
                      f'sudo usermod -aG {name} $USER, then log in again')]
    if not group.get('in_session'):
        return [_warn(section, f'user is in group {name} but this session is not: '
                      'log out and in again')]
    return []


def _devices(section: str, items: str, group: str, missing: str) -> Callable:
    """Return the rule of a device section (camera, serial): absence, devices, group."""
    def rule(data: dict, tracker_pids: Set[int]) -> List[dict]:
        found = data.get(items)
        out = [] if found else [_info(section, data.get('note') or missing)]
        for dev in data.get(items, []):
            out += _device(section, dev, tracker_pids)
        return out + _group(section, data.get(group), bool(found))
    return rule


# ------------------------------------------------------------ fds, kernel, log
def _fds(fds: dict, _pids: Set[int]) -> List[dict]:
    used = (fds or {}).get('system', {}).get('used_percent')
    if used is not None and used >= 80:
        return [_warn('fds', f'system file table {used:.0f}% used')]
    return []


def _kernel(kernel: dict, _pids: Set[int]) -> List[dict]:
    if not kernel.get('readable'):
        return [_info('kernel', kernel.get('reason', 'not readable'))]
    out = []
    counts = kernel.get('counts', {})
    if counts.get('oom'):
        out.append(_error('kernel', f"{counts['oom']} out-of-memory kernel lines (OOM kills)"))
    if counts.get('usb_disconnect'):
        out.append(_warn('kernel', f"{counts['usb_disconnect']} USB disconnect lines"))
    if counts.get('usb_error'):
        out.append(_warn('kernel', f"{counts['usb_error']} USB error lines"))
    return out


def _log(log: dict, tracker_pids: Set[int]) -> List[dict]:
    if not log.get('found'):
        return [_info('log', log.get('note', 'log file not found'))]
    out = []
    counts = log.get('counts', {})
    bad = counts.get('ERROR', 0) + counts.get('FATAL', 0)
    if bad:
        last = next((line for line in reversed(log.get('problems', []))
                     if re.search(r'\s(ERROR|FATAL)\s', line)), '')
        out.append(_warn('log', f'{bad} ERROR/FATAL lines in the last '
                         f"{log.get('lines_read')}; last: {last[:160]}"))
    age = log.get('age_s')
    if age is not None and age > 600 and tracker_pids:
        out.append(_warn('log', f'log not written for {age:.0f} s while '
                         'tracker processes run'))
    return out


# -------------------------------------------------------------------------- ros
def _silent_topics(ros: dict) -> List[dict]:
    return [_warn('ros', f'{topic} has {rate["publishers"]} publisher(s) '
                  f'but no message arrived in {rate.get("window_s")} s')
            for topic, rate in (ros.get('rates') or {}).items()
            if rate.get('publishers') and rate.get('rate_hz') == 0.0 and 'note' not in rate]


def _statuses(ros: dict) -> List[dict]:
    bad = {level_label(level) for level in (WARN, ERROR, STALE)}
    out = []
    for status in ros.get('diagnostics') or []:
        level = status.get('level_name')
        if level in bad:
            out.append(_finding(ERROR_LABEL if level == ERROR_LABEL else WARN_LABEL, 'ros',
                                f"/diagnostics {status['name']}: {level} {status['message']}"))
    return out


def _ros(ros: dict, _pids: Set[int]) -> List[dict]:
    if ros.get('rclpy') is False:
        return [_info('ros', ros.get('error', 'rclpy not available'))]
    if ros.get('error') and not ros.get('nodes'):
        return [_warn('ros', ros['error'])]
    out = [_warn('ros', ros['error'])] if ros.get('error') else []
    if not ros.get('up'):
        domain = (ros.get('environment') or {}).get('ROS_DOMAIN_ID') or '0'
        return out + [_info('ros', f'no ROS node seen on domain {domain}')]
    return out + _silent_topics(ros) + _statuses(ros)


#: ``(section, rule)`` in the order the findings are listed (within a level).
RULES = (
    ('system', _system),
    ('processes', _processes),
    ('camera', _devices('camera', 'devices', 'video_group', 'no camera device')),
    ('serial', _devices('serial', 'ports', 'dialout_group', 'no serial port')),
    ('fds', _fds),
    ('kernel', _kernel),
    ('log', _log),
    ('ros', _ros),
)


def findings(sections: Dict[str, SectionResult]) -> List[dict]:
    """Return the notable problems in the sections, worst first (ERROR, WARN, INFO)."""
    out: List[dict] = []
    for name, result in sections.items():
        out += _probe_status(name, result)
    data = {name: result.data for name, result in sections.items() if result.status == 'ok'}
    procs = data.get('processes')
    tracker_pids = {r['pid'] for r in procs.get('processes', [])} if procs is not None \
        else set()
    for name, rule in RULES:
        if data.get(name) is not None:
            out += rule(data[name], tracker_pids)
    out.sort(key=lambda f: _ORDER.get(f['level'], 3))
    return out
