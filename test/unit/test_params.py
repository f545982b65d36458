# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Parameter tables: validation messages, config file and docs in sync (declaring: integration)."""

from pathlib import Path

import pytest
import yaml

from face_tracker_ros.common.params import Param, ParameterError, validate_all
from face_tracker_ros.tools.params_doc import doc_tables, node_tables, replace_section, to_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_validate_names_the_parameter_and_the_allowed_values():
    p = Param('protocol', 'ascii', 'protocol', choices=('ascii', 'maestro'))
    with pytest.raises(ParameterError, match=r"'protocol' = 'pwm'.*'ascii', 'maestro'"):
        p.validate('pwm')
    fps = Param('fps', 30.0, 'rate', min=0.0, min_exclusive=True, max=240.0)
    with pytest.raises(ParameterError, match=r"'fps' = -1.0 is out of range: must be > 0"):
        fps.validate(-1.0)
    with pytest.raises(ParameterError, match=r"'fps' = 0.0 .*> 0 and <= 240"):
        fps.validate(0.0)
    with pytest.raises(ParameterError, match="'fps' must be a double"):
        fps.validate('fast')
    assert fps.validate(30) == 30.0 and isinstance(fps.validate(30), float)


def test_a_value_that_belongs_elsewhere_says_where_to_go():
    from face_tracker_ros.camera.params import PARAMS
    source = next(p for p in PARAMS if p.name == 'source')
    with pytest.raises(ParameterError, match=r"'source' = 'sim' is not allowed: one of "
                       r"'v4l2', 'file' \(the simulated camera is its own executable, "
                       r'sim_camera_node: use_sim:=true'):
        source.validate('sim')
    with pytest.raises(ParameterError) as refused:
        source.validate('usb')
    assert 'sim_camera_node' not in str(refused.value)


def test_validate_all_fills_defaults():
    table = (Param('a', 1, 'a', min=0), Param('b', 'x', 'b'))
    assert validate_all(table, {'a': 5}) == {'a': 5, 'b': 'x'}


def test_every_node_table_is_self_consistent():
    for node, table in node_tables().items():
        names = [p.name for p in table]
        assert len(names) == len(set(names)), node
        for p in table:
            assert p.description, p.name
            p.validate(p.default)  # every default is allowed


def test_shipped_config_matches_the_code():
    shipped = (ROOT / 'config' / 'tracker.yaml').read_text()
    assert shipped == to_yaml(node_tables()), \
        'config/tracker.yaml is stale: run make config'
    data = yaml.safe_load(shipped)
    for node, table in node_tables().items():
        params = data[node]['ros__parameters']
        assert set(params) == {p.name for p in table}
        for p in table:
            assert params[p.name] == pytest.approx(p.default), p.name


def test_readme_documents_every_parameter():
    reference = (ROOT / 'docs' / 'parameters.md').read_text()
    assert reference == replace_section(reference, doc_tables()), \
        'the parameter tables of docs/parameters.md are stale: run make config'
    for node, table in doc_tables().items():
        for p in table:
            assert f'`{p.name}`' in reference, f'{node}.{p.name} missing from docs/parameters.md'
