# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""package.xml declares what the code, the launch file and the tests import, and rosdep knows it.

Every non-standard-library import under ``face_tracker_ros/``, ``launch/`` and
``test/`` maps to a rosdep key (a ROS package name or a system key such as
``python3-opencv``) that package.xml lists: as a run-time dependency where
the package or the launch file imports it, at least as a test dependency
where only the tests do.  Keys needed for something other than an import
(started programs, the ros2 command line, pytest plugins) are listed with
their reason.  Where ``../shared/ros2-python/rosdep`` exists, every key must
resolve in its rosdep rules or the Kilted distribution file, as
``rosdep install`` needs.
"""

import ast
import sys
import xml.etree.ElementTree as ElementTree

from conftest import ROOT
import pytest
import yaml

#: Import name -> rosdep key.
ROSDEP_KEYS = {
    'ament_flake8': 'ament_flake8',
    'ament_index_python': 'ament_index_python',
    'ament_pep257': 'ament_pep257',
    'builtin_interfaces': 'builtin_interfaces',
    'cv2': 'python3-opencv',
    'cv_bridge': 'cv_bridge',
    'diagnostic_msgs': 'diagnostic_msgs',
    'diagnostic_updater': 'diagnostic_updater',
    'geometry_msgs': 'geometry_msgs',
    'launch': 'launch',
    'launch_ros': 'launch_ros',
    'launch_testing': 'launch_testing',
    'matplotlib': 'python3-matplotlib',
    'numpy': 'python3-numpy',
    'psutil': 'python3-psutil',
    'pytest': 'python3-pytest',
    'rcl_interfaces': 'rcl_interfaces',
    'rclpy': 'rclpy',
    'rosbag2_py': 'rosbag2_py',
    'rosbags': 'python3-rosbags-pip',
    'sensor_msgs': 'sensor_msgs',
    'serial': 'python3-serial',
    'skimage': 'python3-skimage',
    'std_msgs': 'std_msgs',
    'std_srvs': 'std_srvs',
    'yaml': 'python3-yaml',
}

#: Keys package.xml lists for something other than an import, and why.
OTHER_KEYS = {
    'diagnostic_aggregator': 'started by the launch file (aggregator:=true) where installed',
    'ros2bag': "'ros2 bag record' for record:=true",
    'rosbag2_storage_mcap': "the MCAP storage of 'ros2 bag record' and of rosbag2_py",
    'python3-pytest-timeout': 'pytest.ini sets a per-test timeout',
    'ros2launch': 'the launch tests run ros2 launch',
    'ros2param': 'the launch tests run ros2 param',
    'ros2run': 'the launch tests run ros2 run',
    'ros2topic': 'the launch tests run ros2 topic echo',
}

#: Modules of this repository (the package, the benchmarks, test helpers).
LOCAL = {'face_tracker_ros', 'bench', 'conftest', 'launch_helpers'}
RUNTIME_DIRS = ('face_tracker_ros', 'launch')
ALL_DIRS = RUNTIME_DIRS + ('test',)
RUN_TAGS = ('depend', 'exec_depend')
TEST_TAGS = RUN_TAGS + ('test_depend',)


def imports(directory: str) -> dict:
    """Return {top-level module: first file importing it} for the non-stdlib imports."""
    found = {}
    for path in sorted((ROOT / directory).rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def declared() -> dict:
    """Return {rosdep key: set of package.xml tags declaring it}."""
    keys = {}
    for element in ElementTree.parse(ROOT / 'package.xml').getroot():
        if element.tag.endswith('depend'):
            keys.setdefault(element.text.strip(), set()).add(element.tag)
    return keys


def test_every_import_has_a_rosdep_key():
    unknown = {name: where for directory in ALL_DIRS
               for name, where in imports(directory).items() if name not in ROSDEP_KEYS}
    assert unknown == {}, ('imports without a rosdep key: add them to ROSDEP_KEYS and '
                           f'package.xml: {unknown}')


def test_package_xml_declares_every_import():
    keys = declared()
    runtime = {ROSDEP_KEYS[name]: where for directory in RUNTIME_DIRS
               for name, where in imports(directory).items() if name in ROSDEP_KEYS}
    missing = {key: where for key, where in runtime.items()
               if not keys.get(key, set()) & set(RUN_TAGS)}
    assert missing == {}, f'run-time imports not in package.xml as exec_depend: {missing}'
    tests = {ROSDEP_KEYS[name]: where for name, where in imports('test').items()
             if name in ROSDEP_KEYS}
    missing = {key: where for key, where in tests.items()
               if not keys.get(key, set()) & set(TEST_TAGS)}
    assert missing == {}, f'test imports not in package.xml: {missing}'


def test_package_xml_declares_nothing_unused():
    used = {ROSDEP_KEYS[name] for directory in ALL_DIRS for name in imports(directory)
            if name in ROSDEP_KEYS} | set(OTHER_KEYS)
    assert sorted(set(declared()) - used) == []
    assert sorted(set(OTHER_KEYS) - set(declared())) == []


def test_every_key_resolves_with_rosdep():
    rosdep = ROOT.parent / 'shared' / 'ros2-python' / 'rosdep'
    if not rosdep.is_dir():
        pytest.skip(f'{rosdep} (the rosdep rules and the Kilted distribution file) is absent')
    system = set()
    for name in ('base.yaml', 'python.yaml'):
        system |= set(yaml.safe_load((rosdep / 'rosdep' / name).read_text()))
    distribution = yaml.safe_load((rosdep / 'kilted' / 'distribution.yaml').read_text())
    ros = set()
    for repo_name, repo in distribution['repositories'].items():
        release = repo.get('release') or {}
        ros |= set(release.get('packages') or ([repo_name] if release else []))
    unresolved = sorted(key for key in declared() if key not in system and key not in ros)
    assert unresolved == [], f'keys rosdep cannot resolve for kilted: {unresolved}'
