# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated camera's parameters (:data:`PARAMS`, :data:`RULES`) and :class:`SimCameraConfig`.

ROS-free.  The simulated camera is the node ``camera`` too and reads the same
``camera:`` section of the parameters file: it takes every camera parameter
(``source``, ``device``, ``video_path``, ``loop_video`` are accepted and not
used: it always renders the simulation) plus the ``sim.*`` ones below.
"""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Tuple

from face_tracker_ros.camera.params import (
    CameraConfig,
    CAPTURE_PARAMS,
    CAPTURE_RULES,
    SOURCE_PARAMS,
)
from face_tracker_ros.camera.sources import SOURCES
from face_tracker_ros.common.params import COMMON, Param, Rule
from face_tracker_ros.sim.faults import Fault, parse_faults
from face_tracker_ros.sim.paths import PATHS

#: The simulated camera's own parameters.
SIM_PARAMS = (
    Param('sim.path', 'drift', 'Simulated face motion', choices=PATHS),
    Param('sim.seed', 0, 'Seed of the simulated motion and sensor noise', min=0, max=2 ** 31),
    Param('sim.hfov', math.radians(60.0), 'Horizontal field of view of the simulated camera',
          min=0.1, max=3.0, unit='rad'),
    Param('sim.face_size', 0.15, 'Angular width of the simulated face', min=0.02, max=1.0,
          unit='rad'),
    Param('sim.faults', '', 'Fault schedule of the simulated camera: comma-separated '
          '<kind>:<start_s>:<duration_s>[:<value>], kinds read_fail, frozen, black, slow, '
          'hang, disappear, leak, future_stamp, past_stamp (e.g. "read_fail:10:3")'),
    Param('sim.wait_for_pose', False, "Publish no frame before the simulated servos' angles "
          'arrive on sim/joint_states (the bring-up sets it: it starts the simulated controller)'),
    Param('sim.noise_sigma', 2.0, 'Gaussian sensor noise of the simulated camera',
          min=0.0, max=50.0, unit='grey levels'),
)

#: ``source`` as the simulated camera takes it: any value of the shared section, or 'sim'.
SOURCE = Param('source', 'sim', "Accepted for the camera's shared parameters section; the "
               'simulated camera always renders the simulation', choices=('sim',) + SOURCES,
               why='the source is opened with it at start')

#: The simulated camera node's parameters.
PARAMS = (SOURCE,) + SOURCE_PARAMS[1:] + CAPTURE_PARAMS + SIM_PARAMS + COMMON


def _face_size_problem(v):
    if v['sim.face_size'] < v['sim.hfov']:
        return None
    return (f"parameter 'sim.face_size' = {v['sim.face_size']!r} must be < 'sim.hfov' = "
            f"{v['sim.hfov']!r} (the simulated face must fit the view)")


def _faults_problem(v):
    try:
        parse_faults(v['sim.faults'], 'sim.faults')
    except ValueError as exc:
        return str(exc)
    return None


#: Rules between the simulated camera's parameters, checked at start and for every change.
RULES = (
    Rule(('sim.face_size', 'sim.hfov'), _face_size_problem),
) + CAPTURE_RULES + (Rule(('sim.faults',), _faults_problem),)


@dataclass(frozen=True)
class SimCameraConfig:
    """The simulated camera's settings: the camera's, the scene's and the fault schedule."""

    camera: CameraConfig
    path: str
    seed: int
    hfov: float
    face_size: float
    noise_sigma: float
    faults: Tuple[Fault, ...]
    wait_for_pose: bool

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'SimCameraConfig':
        """Return the typed configuration of the flat values ``values`` (already checked)."""
        v = values
        return cls(camera=CameraConfig.from_params(v), path=v['sim.path'], seed=v['sim.seed'],
                   hfov=v['sim.hfov'], face_size=v['sim.face_size'],
                   noise_sigma=v['sim.noise_sigma'],
                   faults=tuple(parse_faults(v['sim.faults'], 'sim.faults')),
                   wait_for_pose=v['sim.wait_for_pose'])
