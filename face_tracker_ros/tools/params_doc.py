# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Write ``config/tracker.yaml`` and the parameter reference's tables from the nodes' own tables.

Usage::

    python -m face_tracker_ros.tools.params_doc yaml > config/tracker.yaml
    python -m face_tracker_ros.tools.params_doc markdown
    python -m face_tracker_ros.tools.params_doc doc docs/parameters.md   # rewrite its tables

The tests check that the shipped YAML and docs/parameters.md agree with the code, so
a parameter cannot be added, renamed or given a new default in one place only.
"""

import json
import sys
from typing import Dict, Sequence

from face_tracker_ros.common.params import Param

HEADER = """\
# Parameters of every face_tracker_ros node, with their defaults.
#
# Used by launch/tracker.launch.py and by the standalone runner
# (face_tracker_standalone / make demo); launch arguments and runner flags
# (use_sim, camera_source, serial_port, protocol, ...) override a few of them.
# Angles are radians, times seconds, rates hertz (REP-103). Generated from the
# nodes' parameter tables: python -m face_tracker_ros.tools.params_doc yaml
"""


def node_tables() -> Dict[str, Sequence[Param]]:
    """Return ``{node name: parameter table}`` for every node of the package."""
    from face_tracker_ros.camera.params import PARAMS as CAMERA
    from face_tracker_ros.detector.params import PARAMS as DETECTOR
    from face_tracker_ros.monitor.params import PARAMS as DIAGNOSTICS
    from face_tracker_ros.recorder.params import PARAMS as FLIGHT_RECORDER
    from face_tracker_ros.servo.params import PARAMS as SERVO
    from face_tracker_ros.sim.node import PARAMS as SIM_SERVO
    return {'camera': CAMERA, 'detector': DETECTOR, 'servo': SERVO, 'sim_servo': SIM_SERVO,
            'diagnostics': DIAGNOSTICS, 'flight_recorder': FLIGHT_RECORDER}


#: Headings of the reference's tables that are not a node's name alone.
TITLES = {'sim_camera': '`camera` in the simulation (`sim_camera_node`): its own parameters'}


def doc_tables() -> Dict[str, Sequence[Param]]:
    """Return the reference's tables: every node's, and the simulated camera's own ``sim.*``.

    The simulated camera is the node ``camera`` too and reads the camera's section
    of the parameters file, so ``config/tracker.yaml`` has no section of its own for it.
    """
    from face_tracker_ros.sim.camera_params import PARAMS as SIM_CAMERA
    tables = node_tables()
    camera = {p.name for p in tables['camera']}
    out = {}
    for node, table in tables.items():
        out[node] = table
        if node == 'camera':
            out['sim_camera'] = tuple(p for p in SIM_CAMERA if p.name not in camera)
    return out


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        text = repr(round(value, 6))
        return text if ('.' in text or 'e' in text) else text + '.0'
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def to_yaml(tables: Dict[str, Sequence[Param]]) -> str:
    """Render the parameters file: one block per node, each parameter commented."""
    lines = [HEADER]
    for node, table in tables.items():
        lines.append(f'{node}:')
        lines.append('  ros__parameters:')
        for p in table:
            note = p.description
            if p.unit:
                note += f' [{p.unit}]'
            allowed = p.allowed()
            if not allowed.startswith('any '):
                note += f'; {allowed}'
            if p.live:
                note += '; live'
            lines.append(f'    # {note}')
            lines.append(f'    {p.name}: {_yaml_value(p.default)}')
        lines.append('')
    return '\n'.join(lines)


def to_markdown(tables: Dict[str, Sequence[Param]]) -> str:
    """Render one markdown table per node."""
    out = []
    for node, table in tables.items():
        out.append(f"#### {TITLES.get(node, f'`{node}`')}\n")
        out.append('| parameter | default | unit | allowed | live | description |')
        out.append('|---|---|---|---|---|---|')
        for p in table:
            allowed = p.allowed()
            allowed = '' if allowed.startswith('any ') else allowed
            live = 'yes' if p.live else ''
            out.append(f'| `{p.name}` | `{_yaml_value(p.default)}` | {p.unit} | {allowed} | '
                       f'{live} | {p.description} |')
        out.append('')
    return '\n'.join(out)


BEGIN = '<!-- params:begin -->'
END = '<!-- params:end -->'


def replace_section(text: str, tables: Dict[str, Sequence[Param]]) -> str:
    """Return ``text`` with the part between the params markers replaced by the tables."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f'{head}{BEGIN}\n{to_markdown(tables)}{END}{tail}'


def main() -> int:
    """Print the YAML or the markdown tables, or rewrite a document's table section."""
    what = sys.argv[1] if len(sys.argv) > 1 else 'yaml'
    if what in ('doc', 'readme') and len(sys.argv) == 3:
        with open(sys.argv[2]) as f:
            text = f.read()
        with open(sys.argv[2], 'w') as f:
            f.write(replace_section(text, doc_tables()))
        return 0
    if what not in ('yaml', 'markdown'):
        print('usage: params_doc [yaml|markdown|doc docs/parameters.md]', file=sys.stderr)
        return 2
    text = to_yaml(node_tables()) if what == 'yaml' else to_markdown(doc_tables())
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
