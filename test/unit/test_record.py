# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The bag recorder wrapper: fresh names on every start, MCAP, splitting, the right topics."""

from face_tracker_ros.tools.record import main, record_command, unique_bag_path


def test_names_never_collide(tmp_path):
    first = unique_bag_path(tmp_path)
    first.mkdir()
    second = unique_bag_path(tmp_path)
    assert second != first and second.name.startswith(first.name)
    assert first.name.startswith('tracker_')


def test_command_records_mcap_split_with_the_post_mortem_topics(tmp_path):
    cmd = record_command(tmp_path / 'bag', 100.0, 600.0, images=False, extra_topics=[])
    assert cmd[:3] == ['ros2', 'bag', 'record']
    assert cmd[cmd.index('--storage') + 1] == 'mcap'
    assert cmd[cmd.index('--max-bag-size') + 1] == str(100 * 1024 * 1024)
    assert cmd[cmd.index('--max-bag-duration') + 1] == '600'
    topics = cmd[cmd.index('--topics') + 1:]
    for topic in ('/diagnostics', '/diagnostics_agg', '/rosout', 'face/target', 'joint_states'):
        assert topic in topics
    assert 'camera/preview/compressed' not in topics
    with_images = record_command(tmp_path / 'bag', 0, 0, images=True, extra_topics=['x'])
    assert 'camera/preview/compressed' in with_images and 'x' in with_images
    assert '--max-bag-size' not in with_images


def test_print_mode(tmp_path, capsys):
    assert main(['--bag-dir', str(tmp_path), '--print']) == 0
    assert str(tmp_path) in capsys.readouterr().out
