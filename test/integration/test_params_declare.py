# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Parameter tables declared on a real rclpy node: values, descriptors and refusals.

Validation messages, the config file and the docs in sync are in test/unit/test_params.py.
"""

import pytest

from face_tracker_ros.common.params import declare, Param, ParameterError


def test_declare_on_a_real_node(tmp_path):
    import rclpy
    from rclpy.context import Context

    params = tmp_path / 'p.yaml'
    params.write_text('t:\n  ros__parameters:\n    rate: 30\n    mode: fast\n')
    table = (Param('rate', 10.0, 'a rate', min=1.0, max=100.0, unit='Hz'),
             Param('mode', 'slow', 'a mode', choices=('slow', 'fast')),
             Param('count', 3, 'a count', min=1, max=10))
    context = Context()
    rclpy.init(args=['--ros-args', '--params-file', str(params)], context=context)
    try:
        node = rclpy.create_node('t', context=context)
        values = declare(node, table)
        # Integers in YAML are accepted for doubles; defaults fill the rest.
        assert values == {'rate': 30.0, 'mode': 'fast', 'count': 3}
        descriptor = node.describe_parameter('rate')
        assert descriptor.read_only
        assert 'Hz' in descriptor.description
        assert descriptor.floating_point_range[0].to_value == 100.0
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)

    params.write_text('t:\n  ros__parameters:\n    mode: turbo\n')
    context = Context()
    rclpy.init(args=['--ros-args', '--params-file', str(params)], context=context)
    try:
        node = rclpy.create_node('t', context=context)
        with pytest.raises(ParameterError, match=r"'mode' = 'turbo'.*'slow', 'fast'"):
            declare(node, table)
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
