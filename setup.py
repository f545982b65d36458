# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Build and install face_tracker_ros (ament_python; also installable with pip)."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'face_tracker_ros'
SHARE = os.path.join('share', PACKAGE)

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        (SHARE, ['package.xml']),
        (os.path.join(SHARE, 'launch'), glob('launch/*.launch.py')),
        (os.path.join(SHARE, 'config'), glob('config/*.yaml') + glob('config/*.xml')),
    ],
    # Runtime libraries come from rosdep (package.xml) in a ROS 2 distribution and from
    # requirements.txt on the standalone path; listing them here would make setuptools
    # reject Debian's python3-opencv, which has no opencv-python metadata.
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='The face_tracker_ros authors',
    maintainer_email='face-tracker-ros@example.com',
    description='Pan/tilt face tracking with ROS 2: camera, detector and servo nodes.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'camera_node = face_tracker_ros.camera.node:main',
            'detector_node = face_tracker_ros.detector.node:main',
            'servo_node = face_tracker_ros.servo.node:main',
            'sim_servo_node = face_tracker_ros.sim.node:main',
            'sim_camera_node = face_tracker_ros.sim.camera_node:main',
            'diagnostics_node = face_tracker_ros.monitor.node:main',
            'flight_recorder_node = face_tracker_ros.recorder.node:main',
            'face_tracker_standalone = face_tracker_ros.bringup.standalone:main',
            'face_tracker_demo = face_tracker_ros.tools.demo:main',
            'face_tracker_diagnose = face_tracker_ros.tools.diagnose:main',
            'face_tracker_report = face_tracker_ros.tools.report:main',
            'face_tracker_record = face_tracker_ros.tools.record:main',
            'face_tracker_get_model = face_tracker_ros.tools.get_model:main',
        ],
    },
)
