# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The YuNet models this package knows, which OpenCV runs each, and where they are looked for.

The YuNet ONNX models are published by the OpenCV model zoo
(https://github.com/opencv/opencv_zoo, ``models/face_detection_yunet``, MIT
licence) as Git LFS files; :data:`RELEASES` pins each one's commit, size and
sha256 (read from the zoo's LFS pointers).  ``cv2.FaceDetectorYN`` changed its
output layout in OpenCV 4.8: the 2022mar model runs on 4.5.4-4.7 only, the
2023mar (and later) ones need 4.8 or newer.

The package never ships a model.  ``face_tracker_get_model`` downloads the one
that matches the installed OpenCV into :func:`user_model_dir`; the detector
looks for a model (see :func:`find_model`) in ``yunet.model_path`` first, then
in the per-user directory, then in the system directories of
:func:`model_dirs` (``$XDG_DATA_DIRS``, by default ``/usr/local/share`` and
``/usr/share``, each plus ``face_tracker_ros/models``), where a distribution
or an administrator can install it for every user.
"""

import dataclasses
import hashlib
import os
from pathlib import Path
import re
from typing import Dict, List, Optional, Sequence, Tuple

PACKAGE = 'face_tracker_ros'
GET_MODEL_COMMAND = 'face_tracker_get_model'
"""The console command that downloads the model (setup.py entry point)."""

_ZOO_MEDIA = 'https://media.githubusercontent.com/media/opencv/opencv_zoo'
_ZOO_PATH = 'models/face_detection_yunet'

Version = Tuple[int, int, int]


@dataclasses.dataclass(frozen=True)
class ModelRelease:
    """One published YuNet model: file name, pinned checksum and the OpenCV versions it runs on.

    ``min_opencv`` is inclusive, ``max_opencv`` exclusive (None: no upper limit).
    ``url`` is empty for a release that is only recognised, not downloaded.
    """

    tag: str
    filename: str
    sha256: str
    size: int
    min_opencv: Version
    max_opencv: Optional[Version]
    url: str = ''

    def runs_on(self, version: Version) -> bool:
        """Return True if OpenCV ``version`` runs this model."""
        return version >= self.min_opencv and (self.max_opencv is None
                                               or version < self.max_opencv)

    def opencv_range(self) -> str:
        """Return the OpenCV versions this model runs on, in words."""
        low = _version_text(self.min_opencv)
        if self.max_opencv is None:
            return f'OpenCV >= {low}'
        high = self.max_opencv[:2] if self.max_opencv[2] == 0 else self.max_opencv
        last = (high[0], high[1] - 1) if len(high) == 2 and high[1] > 0 else high
        return f'OpenCV {low}-{_version_text(last)}'


def _zoo_url(commit: str, filename: str) -> str:
    return f'{_ZOO_MEDIA}/{commit}/{_ZOO_PATH}/{filename}'


RELEASES: Dict[str, ModelRelease] = {
    '2023mar': ModelRelease(
        '2023mar', 'face_detection_yunet_2023mar.onnx',
        '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4', 232589,
        (4, 8, 0), None,
        _zoo_url('f12e12798e8314f7c074a6656816c048dcc95b7a',
                 'face_detection_yunet_2023mar.onnx')),
    '2022mar': ModelRelease(
        '2022mar', 'face_detection_yunet_2022mar.onnx',
        '50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7', 345478,
        (4, 5, 4), (4, 8, 0),
        _zoo_url('c97242ce7f2a554e288b50eabd9f5df957e78801',
                 'face_detection_yunet_2022mar.onnx')),
    # A later zoo release with the 2023mar architecture; recognised by its checksum.
    '2026may': ModelRelease(
        '2026may', 'face_detection_yunet_2026may.onnx',
        'ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0', 229738,
        (4, 8, 0), None),
}
"""Known YuNet releases by tag, newest architecture first."""

BY_SHA256: Dict[str, ModelRelease] = {r.sha256: r for r in RELEASES.values()}


def _version_text(version: Sequence[int]) -> str:
    parts = list(version)
    if len(parts) == 3 and parts[2] == 0:
        parts = parts[:2]
    return '.'.join(str(v) for v in parts)


def parse_version(text: str) -> Version:
    """Return ``'4.6.0'`` (or ``'4.10.0-dev'``) as ``(4, 6, 0)``; unknown parts count as 0."""
    numbers = [int(n) for n in re.findall(r'\d+', str(text))[:3]]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


def opencv_version() -> Version:
    """Return the version of the installed OpenCV (``cv2``)."""
    import cv2
    return parse_version(cv2.__version__)


def release_for(version: Version) -> Optional[ModelRelease]:
    """Return the downloadable release that OpenCV ``version`` runs, or None if none does."""
    for release in RELEASES.values():
        if release.url and release.runs_on(version):
            return release
    return None


def user_model_dir() -> Path:
    """Return the per-user model directory: ``$XDG_DATA_HOME/face_tracker_ros/models``.

    ``$XDG_DATA_HOME`` defaults to ``~/.local/share`` (the XDG base directory
    specification).
    """
    base = os.environ.get('XDG_DATA_HOME', '')
    root = Path(base) if base and os.path.isabs(base) else Path.home() / '.local' / 'share'
    return root / PACKAGE / 'models'


def system_model_dirs() -> List[Path]:
    """Return the system-wide model directories: ``<dir>/face_tracker_ros/models``.

    ``<dir>`` runs over ``$XDG_DATA_DIRS`` (default ``/usr/local/share:/usr/share``).
    """
    dirs = os.environ.get('XDG_DATA_DIRS', '') or '/usr/local/share:/usr/share'
    out: List[Path] = []
    for entry in dirs.split(':'):
        if entry and os.path.isabs(entry):
            path = Path(entry) / PACKAGE / 'models'
            if path not in out:
                out.append(path)
    return out


def model_dirs() -> List[Path]:
    """Return every directory searched for a model, in order: per-user, then system."""
    return [user_model_dir()] + [d for d in system_model_dirs() if d != user_model_dir()]


def find_model(version: Optional[Version] = None,
               dirs: Optional[Sequence[Path]] = None) -> Optional[Path]:
    """Return the first model file in :func:`model_dirs` that OpenCV ``version`` runs.

    In each directory the known releases that run on ``version`` are tried by
    file name (newest first); None when there is none anywhere.
    """
    version = opencv_version() if version is None else version
    names = [r.filename for r in RELEASES.values() if r.runs_on(version)]
    for directory in (model_dirs() if dirs is None else dirs):
        for name in sorted(names, reverse=True):
            path = Path(directory) / name
            if path.is_file():
                return path
    return None


def sha256_of(path: str) -> str:
    """Return the hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for block in iter(lambda: stream.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def version_problem(release: ModelRelease, version: Version, cv2_version: str) -> str:
    """Return why OpenCV ``version`` cannot run ``release`` (one line), or '' if it can."""
    if release.runs_on(version):
        return ''
    fitting = release_for(version)
    advice = (f'run {GET_MODEL_COMMAND} to download {fitting.filename}, which runs on '
              f'{fitting.opencv_range()}' if fitting else
              'install OpenCV >= 4.8 (pip install "opencv-python-headless<5")')
    return (f'the YuNet model {release.filename} needs {release.opencv_range()}, but this '
            f'OpenCV is {cv2_version}: {advice}')
