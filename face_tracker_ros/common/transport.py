# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Whether a message of a given size fits the DDS transport between processes on this host.

With Fast DDS (``rmw_fastrtps_cpp``) processes on one host exchange messages
through a shared-memory segment per participant; a message larger than the
segment cannot go that way and is sent as fragmented UDP instead, which a
best-effort subscriber loses in bulk (a 4K camera delivered 65 of 123 frames).
The segment is 512 KiB unless a profile (``FASTDDS_DEFAULT_PROFILES_FILE``,
the package's ``config/fastdds.xml`` gives 16 MiB) sets ``segment_size``.
:func:`transport_problem` says when a message cannot fit; other middlewares
are not judged (None).
"""

import os
from typing import Mapping, Optional, Tuple
import xml.etree.ElementTree as ElementTree

#: Fast DDS's shared-memory segment when no profile sets one (bytes).
FASTDDS_DEFAULT_SEGMENT = 512 * 1024

#: The middlewares whose shared-memory segment is judged here.
FASTDDS_RMWS = ('rmw_fastrtps_cpp', 'rmw_fastrtps_dynamic_cpp')

_PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')


def shm_segment(rmw: str, env: Mapping[str, str] = os.environ) -> Tuple[Optional[int], str]:
    """Return the shared-memory segment size in bytes and where it comes from.

    ``(None, why)`` when it cannot be told: another middleware, or a profile
    that cannot be read or has no shared-memory transport.
    """
    if rmw not in FASTDDS_RMWS:
        return None, f'middleware {rmw or "unknown"} (not judged)'
    profile = next((env[name] for name in _PROFILE_VARIABLES if env.get(name)), '')
    if not profile:
        return FASTDDS_DEFAULT_SEGMENT, 'the Fast DDS default (no profile file set)'
    try:
        root = ElementTree.parse(profile).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        return None, f'profile {profile} unreadable: {exc}'
    for descriptor in root.iter():
        if not descriptor.tag.endswith('transport_descriptor'):
            continue
        fields = {child.tag.rsplit('}', 1)[-1]: (child.text or '').strip()
                  for child in descriptor}
        if fields.get('type') == 'SHM':
            try:
                return int(fields.get('segment_size', FASTDDS_DEFAULT_SEGMENT)), profile
            except ValueError:
                return None, f'profile {profile}: segment_size is not a number'
    return None, f'profile {profile} has no shared-memory transport'


def transport_problem(message_bytes: int, segment: Optional[int], source: str) -> Optional[str]:
    """Return a one-line warning when ``message_bytes`` cannot fit the segment, else None."""
    if segment is None or message_bytes <= segment:
        return None
    return (f'messages of {message_bytes / 2**20:.1f} MiB do not fit the {segment / 2**20:.1f} '
            f'MiB shared-memory segment of {source}: they go as fragmented UDP, which loses '
            'many of them; use a smaller frame size, or a larger segment_size in '
            'config/fastdds.xml')
