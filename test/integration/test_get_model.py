# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""face_tracker_get_model against a local HTTP server: checksum, mismatch, offline; search."""

import functools
import http.server
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from face_tracker_ros.detector import models

ROOT = Path(__file__).resolve().parents[2]
SHARED_MODEL = ROOT.parent / 'shared' / 'models' / 'face_detection_yunet.onnx'
needs_model = pytest.mark.skipif(not SHARED_MODEL.is_file(),
                                 reason=f'{SHARED_MODEL} not present (../shared is absent)')


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www over HTTP on a free local port; yield its base URL."""
    www = tmp_path / 'www'
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def run_tool(*args, env_home):
    env = dict(os.environ, XDG_DATA_HOME=str(env_home))
    return subprocess.run([sys.executable, '-m', 'face_tracker_ros.tools.get_model', *args],
                          capture_output=True, text=True, timeout=60, env=env)


@needs_model
def test_download_verifies_checksum_and_lands_in_the_user_dir(server, tmp_path):
    www, base = server
    shutil.copy(SHARED_MODEL, www / 'model.onnx')
    home = tmp_path / 'data'
    done = run_tool('--model', '2026may', '--url', f'{base}/model.onnx', env_home=home)
    assert done.returncode == 0, done.stderr
    target = home / 'face_tracker_ros' / 'models' / 'face_detection_yunet_2026may.onnx'
    assert target.is_file()
    assert models.sha256_of(str(target)) == models.RELEASES['2026may'].sha256
    assert 'sha256 verified' in done.stdout
    # No temporary file is left beside it.
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    # A second run finds it in place.
    again = run_tool('--model', '2026may', '--url', f'{base}/model.onnx', env_home=home)
    assert again.returncode == 0 and 'already there' in again.stdout
    # The detector's search finds it (for an OpenCV that runs it).
    found = models.find_model((4, 10, 0), dirs=[target.parent])
    assert found == target
    assert models.find_model((4, 6, 0), dirs=[target.parent]) is None


@needs_model
def test_checksum_mismatch_writes_nothing(server, tmp_path):
    www, base = server
    data = bytearray(SHARED_MODEL.read_bytes())
    data[1000] ^= 0xFF
    (www / 'model.onnx').write_bytes(bytes(data))
    home = tmp_path / 'data'
    done = run_tool('--model', '2026may', '--url', f'{base}/model.onnx', env_home=home)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and 'checksum mismatch' in lines[0] and 'Traceback' not in done.stderr
    directory = home / 'face_tracker_ros' / 'models'
    assert not directory.exists() or list(directory.iterdir()) == []


def test_offline_is_one_clear_line(tmp_path):
    # A port nothing listens on: the connection is refused, as when offline.
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    home = tmp_path / 'data'
    done = run_tool('--url', f'http://127.0.0.1:{port}/model.onnx', '--timeout', '5',
                    env_home=home)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert 'cannot download' in lines[0] and 'offline?' in lines[0]
    directory = home / 'face_tracker_ros' / 'models'
    assert not directory.exists() or list(directory.iterdir()) == []


def test_http_error_is_one_clear_line(server, tmp_path):
    _, base = server
    done = run_tool('--url', f'{base}/missing.onnx', env_home=tmp_path / 'data')
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        done.stderr.strip()] and 'HTTP 404' in done.stderr


def test_release_for_each_opencv_version():
    assert models.release_for((4, 14, 0)).tag == '2023mar'
    assert models.release_for((4, 8, 0)).tag == '2023mar'
    assert models.release_for((4, 6, 0)).tag == '2022mar'
    assert models.release_for((4, 5, 4)).tag == '2022mar'
    assert models.release_for((4, 5, 3)) is None
    assert models.RELEASES['2022mar'].opencv_range() == 'OpenCV 4.5.4-4.7'
    assert models.RELEASES['2023mar'].opencv_range() == 'OpenCV >= 4.8'
    problem = models.version_problem(models.RELEASES['2023mar'], (4, 6, 0), '4.6.0')
    assert '>= 4.8' in problem and '4.6.0' in problem and '2022mar' in problem


def test_model_dirs_follow_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv('XDG_DATA_HOME', str(tmp_path / 'home'))
    monkeypatch.setenv('XDG_DATA_DIRS', f'{tmp_path}/sys1:{tmp_path}/sys2')
    assert models.model_dirs() == [tmp_path / 'home' / 'face_tracker_ros' / 'models',
                                   tmp_path / 'sys1' / 'face_tracker_ros' / 'models',
                                   tmp_path / 'sys2' / 'face_tracker_ros' / 'models']
    system = tmp_path / 'sys2' / 'face_tracker_ros' / 'models'
    system.mkdir(parents=True)
    (system / 'face_detection_yunet_2022mar.onnx').write_bytes(b'x')
    assert models.find_model((4, 6, 0)) == system / 'face_detection_yunet_2022mar.onnx'
    assert models.find_model((4, 9, 0)) is None
