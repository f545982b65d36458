# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Camera and serial devices: nodes, links, permissions, group membership, holders."""

import glob
import grp
import os
import pwd
import shutil
import stat
from typing import Any, Dict, Iterable, List

from face_tracker_ros.tools.diagnose.util import read_text, run_command


def mode_info(path: str) -> dict:
    """Return type, permission string, owner, group and our access rights of ``path``."""
    info: Dict[str, Any] = {'path': path, 'exists': os.path.lexists(path)}
    try:
        st = os.stat(path)
    except OSError as exc:
        info['error'] = f'{type(exc).__name__}: {exc.strerror or exc}'
        return info
    info['realpath'] = os.path.realpath(path)
    info['char_device'] = stat.S_ISCHR(st.st_mode)
    info['mode'] = stat.filemode(st.st_mode)
    info['owner'] = user_name(st.st_uid)
    info['group'] = group_name(st.st_gid)
    info['readable'] = os.access(path, os.R_OK)
    info['writable'] = os.access(path, os.W_OK)
    return info


def user_name(uid: int) -> str:
    """Return the name of user ``uid``, or the number as text."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    """Return the name of group ``gid``, or the number as text."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def group_membership(group: str) -> dict:
    """Return whether the current user belongs to ``group`` (e.g. ``dialout``, ``video``).

    ``listed`` says the group database names the user (or it is the primary
    group); ``in_session`` says this login session already has the group (a
    user added after logging in needs to log in again).
    """
    euid = os.geteuid()
    user = user_name(euid)
    info: Dict[str, Any] = {'group': group, 'user': user, 'root': euid == 0}
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        info['exists'] = False
        return info
    try:
        primary = pwd.getpwuid(euid).pw_gid
    except KeyError:
        primary = os.getegid()
    info.update({
        'exists': True, 'gid': entry.gr_gid,
        'listed': user in entry.gr_mem or primary == entry.gr_gid,
        'in_session': entry.gr_gid in os.getgroups() or os.getegid() == entry.gr_gid,
    })
    return info


def link_targets(directory: str) -> Dict[str, str]:
    """Return ``{link: resolved target}`` for every entry of a by-id/by-path directory."""
    result = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return result
    for name in names:
        path = os.path.join(directory, name)
        result[path] = os.path.realpath(path)
    return result


def _proc_cmdline(pid: int) -> str:
    text = read_text(f'/proc/{pid}/cmdline') or ''
    return text.replace('\x00', ' ').strip()[:300]


def _open_fds(fd_dir: str, fds: List[str], wanted: Dict[str, List[str]]
              ) -> Dict[str, List[int]]:
    """Return ``{path: [fd]}`` of the ``wanted`` targets among one process's fd links."""
    found: Dict[str, List[int]] = {}
    for fd in fds:
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        for path in wanted.get(target, ()):
            found.setdefault(path, []).append(int(fd) if fd.isdigit() else -1)
    return found


def device_holders(paths: Iterable[str], proc_root: str = '/proc') -> dict:
    """Return which processes hold each of ``paths`` open, from ``/proc/<pid>/fd`` links.

    psutil's open_files() skips device nodes, so the fd symlinks are read
    directly; processes whose fds cannot be read (another user's, without
    root) are counted in ``unreadable_processes`` and otherwise skipped.
    Returns ``{'holders': {path: [{pid, name, cmdline, fds}]},
    'unreadable_processes': n}``.
    """
    wanted: Dict[str, List[str]] = {}
    holders: Dict[str, List[dict]] = {}
    for path in paths:
        holders[path] = []
        for key in {path, os.path.realpath(path)}:
            wanted.setdefault(key, []).append(path)
    unreadable = 0
    try:
        entries = [e.name for e in os.scandir(proc_root) if e.name.isdigit()]
    except OSError:
        entries = []
    for name in entries:
        fd_dir = os.path.join(proc_root, name, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            unreadable += 1
            continue
        except OSError:
            continue  # gone
        for path, fd_list in _open_fds(fd_dir, fds, wanted).items():
            pid = int(name)
            comm = (read_text(os.path.join(proc_root, name, 'comm')) or '').strip()
            holders[path].append({'pid': pid, 'name': comm, 'cmdline': _proc_cmdline(pid),
                                  'fds': sorted(set(fd_list))})
    return {'holders': holders, 'unreadable_processes': unreadable}


def _v4l2_summary(text: str) -> dict:
    wanted = ('Driver name', 'Card type', 'Bus info', 'Width/Height', 'Pixel Format',
              'Frames per second')
    summary = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(':')
        if sep and key.strip() in wanted and key.strip() not in summary:
            summary[key.strip()] = value.strip()
    return summary


def probe_camera(command_timeout_s: float = 3.0, max_queried: int = 8) -> dict:
    """Describe the V4L2 devices: nodes, by-id links, permissions, holders, capabilities."""
    devices = sorted(glob.glob('/dev/video*'),
                     key=lambda p: (len(p), p))
    by_id = link_targets('/dev/v4l/by-id')
    by_path = link_targets('/dev/v4l/by-path')
    v4l2_ctl = shutil.which('v4l2-ctl')
    holders = device_holders(devices)
    rows = []
    for index, path in enumerate(devices):
        row = mode_info(path)
        sys_name = read_text(f'/sys/class/video4linux/{os.path.basename(path)}/name')
        row['name'] = sys_name.strip() if sys_name else None
        row['by_id'] = [link for link, target in by_id.items() if target == row.get('realpath')]
        row['holders'] = holders['holders'].get(path, [])
        if v4l2_ctl and index < max_queried:
            result = run_command([v4l2_ctl, '-d', path, '--all'], command_timeout_s)
            output = result['stdout'] or result['stderr']
            row['v4l2'] = {'returncode': result['returncode'], 'error': result['error'],
                           'summary': _v4l2_summary(result['stdout']),
                           'output': output.splitlines()[:80]}
        rows.append(row)
    return {
        'devices': rows,
        'by_id': by_id,
        'by_path': by_path,
        'v4l2_ctl': v4l2_ctl,
        'video_group': group_membership('video'),
        'unreadable_processes': holders['unreadable_processes'],
        'note': '' if devices else 'no /dev/video* device (normal for the simulation)',
    }


def probe_serial() -> dict:
    """Describe the serial ports: pyserial's list, by-id links, permissions, holders, dialout."""
    ports = []
    list_error = ''
    try:
        from serial.tools import list_ports
        listed = list(list_ports.comports())
    except Exception as exc:  # noqa: BLE001 - a broken pyserial must not end the tool
        listed = []
        list_error = f'{type(exc).__name__}: {exc}'
    by_id = link_targets('/dev/serial/by-id')
    by_path = link_targets('/dev/serial/by-path')
    paths = [info.device for info in listed]
    # USB serial devices pyserial did not list (it failed, or sysfs is not readable).
    extra = [p for p in sorted(glob.glob('/dev/ttyUSB*') + glob.glob('/dev/ttyACM*'))
             if p not in paths]
    paths += extra
    sim_link = _sim_port()
    holder_paths = list(paths)
    if sim_link.get('exists'):
        holder_paths.append(sim_link['path'])
    holders = device_holders(holder_paths)
    for info in listed:
        row = mode_info(info.device)
        for key in ('description', 'hwid', 'manufacturer', 'product', 'serial_number',
                    'location', 'interface'):
            row[key] = getattr(info, key, None)
        row['vid'] = f'{info.vid:04x}' if getattr(info, 'vid', None) is not None else None
        row['pid'] = f'{info.pid:04x}' if getattr(info, 'pid', None) is not None else None
        row['by_id'] = [link for link, target in by_id.items() if target == row.get('realpath')]
        row['holders'] = holders['holders'].get(info.device, [])
        ports.append(row)
    for path in extra:
        row = mode_info(path)
        row['description'] = 'not listed by pyserial'
        row['holders'] = holders['holders'].get(path, [])
        ports.append(row)
    if sim_link.get('exists'):
        sim_link['holders'] = holders['holders'].get(sim_link['path'], [])
    return {
        'ports': ports,
        'list_error': list_error,
        'by_id': by_id,
        'by_path': by_path,
        'dialout_group': group_membership('dialout'),
        'sim_port': sim_link,
        'unreadable_processes': holders['unreadable_processes'],
        'note': '' if ports else 'no serial port found by pyserial (normal for the simulation)',
    }


def _sim_port() -> dict:
    try:
        from face_tracker_ros.common.paths import runtime_dir
        path = str(runtime_dir() / 'sim_servo')
    except Exception as exc:  # noqa: BLE001 - informational only
        return {'error': str(exc)}
    info = {'path': path, 'exists': os.path.lexists(path)}
    if info['exists']:
        info['target'] = os.path.realpath(path)
        info['target_exists'] = os.path.exists(path)
    return info
