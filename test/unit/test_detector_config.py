# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which backend runs, and the one-line messages when the configuration cannot run.

Covers a distribution's OpenCV (no ``cv2.data``: cascades from ``opencv-data``; an
OpenCV too old for the YuNet model) by simulating it here; the distribution lane
runs the same code on Debian's OpenCV 4.6.
"""

import os
from pathlib import Path
import shutil

import cv2
import pytest

from face_tracker_ros.common.params import defaults
from face_tracker_ros.detector import backends, haar, models
from face_tracker_ros.detector.params import PARAMS
from face_tracker_ros.detector.tracking import choose_backend, ConfigError

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT.parent / 'shared' / 'models' / 'face_detection_yunet.onnx'
needs_model = pytest.mark.skipif(not MODEL.is_file(),
                                 reason=f'{MODEL} not present (../shared is absent)')


def params(**changes):
    p = defaults(PARAMS)
    p.update(changes)
    return p


class _NoData:
    pass


@pytest.fixture
def distro_opencv(monkeypatch, tmp_path):
    """Simulate an OpenCV without cv2.data whose cascades are in a distribution directory."""
    bundled = backends.find_cascade(backends.DEFAULT_HAAR_CASCADE)
    if not bundled:
        pytest.skip('no cascade file to copy')
    share = tmp_path / 'opencv4' / 'haarcascades'
    share.mkdir(parents=True)
    for name in (backends.DEFAULT_HAAR_CASCADE, backends.PROFILE_HAAR_CASCADE):
        shutil.copy(os.path.join(os.path.dirname(bundled), name), share / name)
    monkeypatch.setattr(cv2, 'data', _NoData(), raising=False)
    monkeypatch.setattr(haar, 'CASCADE_DIRS', (str(tmp_path / 'none'), str(share)))
    return share


def test_cascades_are_found_where_distributions_install_them(distro_opencv):
    haar = backends.HaarBackend(profile=True)
    assert haar.cascade_path == str(distro_opencv / backends.DEFAULT_HAAR_CASCADE)
    assert haar.profile


def test_no_cascade_names_the_package_and_the_parameter(monkeypatch, tmp_path):
    monkeypatch.setattr(cv2, 'data', _NoData(), raising=False)
    monkeypatch.setattr(haar, 'CASCADE_DIRS', (str(tmp_path),))
    with pytest.raises(RuntimeError) as info:
        backends.HaarBackend()
    message = str(info.value)
    assert 'opencv-data' in message and 'haar.cascade_path' in message
    assert '\n' not in message
    # Through the detector's configuration: a configuration error (exit 2).
    with pytest.raises(ConfigError, match='opencv-data'):
        choose_backend(params(backend='haar'))


def test_auto_without_a_model_runs_haar_and_warns_naming_the_command():
    choice = choose_backend(params(), find_model=lambda: None)
    assert choice.name == 'haar'
    assert models.GET_MODEL_COMMAND in choice.warning
    assert str(models.user_model_dir()) in choice.warning


def test_yunet_without_a_model_is_a_configuration_error():
    with pytest.raises(ConfigError) as info:
        choose_backend(params(backend='yunet'), find_model=lambda: None)
    message = str(info.value)
    assert 'yunet.model_path' in message and models.GET_MODEL_COMMAND in message


def test_a_model_path_that_does_not_exist_is_a_configuration_error(tmp_path):
    for backend in ('auto', 'yunet'):
        with pytest.raises(ConfigError, match="'yunet.model_path': no such file"):
            choose_backend(params(backend=backend,
                                  **{'yunet.model_path': str(tmp_path / 'x.onnx')}))


@needs_model
def test_auto_finds_the_model_in_the_user_directory(monkeypatch, tmp_path):
    directory = tmp_path / 'face_tracker_ros' / 'models'
    directory.mkdir(parents=True)
    shutil.copy(MODEL, directory / 'face_detection_yunet_2026may.onnx')
    monkeypatch.setenv('XDG_DATA_HOME', str(tmp_path))
    choice = choose_backend(params())
    assert choice.name == 'yunet' and not choice.warning
    assert 'verified' in choice.info


@needs_model
def test_yunet_on_an_opencv_too_old_names_both_versions(monkeypatch):
    monkeypatch.setattr(cv2, '__version__', '4.6.0')
    with pytest.raises(RuntimeError) as info:
        backends.YuNetBackend(str(MODEL))
    message = str(info.value)
    assert 'OpenCV >= 4.8' in message and '4.6.0' in message
    assert 'face_detection_yunet_2022mar.onnx' in message and '4.5.4-4.7' in message
    # Asked for explicitly: a configuration error; under 'auto': Haar with the reason.
    with pytest.raises(ConfigError, match='4.6.0'):
        choose_backend(params(backend='yunet', **{'yunet.model_path': str(MODEL)}))
    choice = choose_backend(params(), find_model=lambda: MODEL)
    assert choice.name == 'haar' and '4.6.0' in choice.warning
