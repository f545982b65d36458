# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``face_tracker_get_model``: download the YuNet face model that the installed OpenCV runs.

``face_tracker_get_model [--model auto|2023mar|2022mar|2026may] [--dir DIR] [--url URL]
[--timeout S] [--where]``

The model comes from the OpenCV model zoo's published location (a pinned
commit, see :data:`face_tracker_ros.detector.models.RELEASES`); ``auto`` picks
the 2023mar model on OpenCV >= 4.8 and the 2022mar one on 4.5.4-4.7.  It is
written to the per-user model directory (``$XDG_DATA_HOME/face_tracker_ros/
models``, by default ``~/.local/share/face_tracker_ros/models``), where the
detector finds it, unless ``--dir`` says otherwise.  The file is checked
against its pinned sha256 before it is moved into place in one step (a
partial or wrong download never takes the model's name).  ``--url`` fetches the
same file from a mirror (the checksum still applies); ``--where`` prints the
directories the detector searches and exits.

Exit status: 0 when the model is in place, 1 when it could not be downloaded or
its checksum is wrong (one line says why), 2 for a bad argument.
"""

import argparse
import hashlib
import os
from pathlib import Path
import socket
import sys
import tempfile
from typing import Optional, Sequence
import urllib.error
import urllib.request

from face_tracker_ros.detector import models

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """The model could not be fetched or is not the pinned file; one line says why."""


def download(url: str, destination: Path, sha256: str, size: int, timeout: float = 30.0) -> None:
    """Fetch ``url`` into ``destination`` if its sha256 is ``sha256``; else raise DownloadError.

    The data goes to a temporary file beside ``destination`` and is renamed onto
    it only after the checksum matched, so ``destination`` is either the old
    file, or the complete, verified new one.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    received = 0
    limit = max(size * 2, 1 << 20)
    handle, temporary = tempfile.mkstemp(prefix='.' + destination.name + '.', suffix='.part',
                                         dir=str(destination.parent))
    try:
        with os.fdopen(handle, 'wb') as out:
            try:
                request = urllib.request.Request(
                    url, headers={'User-Agent': 'face_tracker_get_model'})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    while True:
                        block = response.read(CHUNK)
                        if not block:
                            break
                        received += len(block)
                        if received > limit:
                            raise DownloadError(
                                f'{url} sent more than {limit} bytes; the model is {size} '
                                'bytes: not the model file')
                        digest.update(block)
                        out.write(block)
            except urllib.error.HTTPError as exc:
                raise DownloadError(f'cannot download {url}: HTTP {exc.code} {exc.reason}') \
                    from None
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
                reason = getattr(exc, 'reason', None) or exc
                raise DownloadError(
                    f'cannot download {url}: {reason} (offline? download it on another '
                    f'machine and copy it to {destination})') from None
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise DownloadError(
                f'checksum mismatch for {url}: got sha256 {actual} ({received} bytes), '
                f'expected {sha256} ({size} bytes); nothing was written')
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=models.GET_MODEL_COMMAND,
        description='Download the YuNet face detection model for the installed OpenCV.')
    parser.add_argument('--model', default='auto',
                        choices=['auto'] + list(models.RELEASES),
                        help='which release (default: the one this OpenCV runs)')
    parser.add_argument('--dir', type=Path, default=None,
                        help=f'where to put it (default: {models.user_model_dir()})')
    parser.add_argument('--url', default='',
                        help='fetch the same file from this address instead (a mirror)')
    parser.add_argument('--timeout', type=float, default=30.0,
                        help='seconds to wait for the server (default 30)')
    parser.add_argument('--where', action='store_true',
                        help='print the directories the detector searches, and exit')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; return its exit status."""
    args = _parser().parse_args(argv)
    if args.where:
        for directory in models.model_dirs():
            print(directory)
        return 0
    if not args.timeout > 0:
        print(f'{models.GET_MODEL_COMMAND}: --timeout must be > 0', file=sys.stderr)
        return 2
    import cv2
    version = models.parse_version(cv2.__version__)
    if args.model == 'auto':
        release = models.release_for(version)
        if release is None:
            print(f'{models.GET_MODEL_COMMAND}: OpenCV {cv2.__version__} runs no YuNet model '
                  '(needs >= 4.5.4); install a newer OpenCV', file=sys.stderr)
            return 1
    else:
        release = models.RELEASES[args.model]
        if not release.runs_on(version):
            print(f'{models.GET_MODEL_COMMAND}: note: {release.filename} needs '
                  f'{release.opencv_range()}; this OpenCV is {cv2.__version__}',
                  file=sys.stderr)
    directory = args.dir if args.dir is not None else models.user_model_dir()
    destination = directory / release.filename
    if destination.is_file() and models.sha256_of(str(destination)) == release.sha256:
        print(f'{destination} is already there (sha256 verified)')
        return 0
    url = args.url or release.url
    if not url:
        print(f'{models.GET_MODEL_COMMAND}: no download address is pinned for '
              f'{release.filename}; give one with --url', file=sys.stderr)
        return 2
    try:
        download(url, destination, release.sha256, release.size, timeout=args.timeout)
    except DownloadError as exc:
        print(f'{models.GET_MODEL_COMMAND}: {exc}', file=sys.stderr)
        return 1
    except OSError as exc:
        print(f'{models.GET_MODEL_COMMAND}: cannot write {destination}: {exc.strerror or exc}',
              file=sys.stderr)
        return 1
    print(f'{destination}: {release.filename} downloaded, sha256 verified; the detector '
          "finds it there ('backend: auto' uses it)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
