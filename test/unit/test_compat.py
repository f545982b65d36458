# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Image conversion behaves the same whether cv_bridge or the built-in equivalent is installed."""

from builtin_interfaces.msg import Time
import numpy as np
import pytest
from sensor_msgs.msg import Image

from face_tracker_ros.common import compat
from face_tracker_ros.common.compat import (
    array_to_image,
    check_image,
    image_to_array,
    ImageFormatError,
)


def test_backend_is_reported():
    assert compat.IMAGE_BACKEND in ('cv_bridge', 'builtin')


@pytest.mark.parametrize('shape, encoding', [((48, 64, 3), 'bgr8'), ((48, 64), 'mono8'),
                                             ((48, 64, 4), 'bgra8')])
def test_round_trip_keeps_pixels_header_and_layout(shape, encoding):
    frame = np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8)
    stamp = Time(sec=12, nanosec=345)
    msg = array_to_image(frame, stamp, 'camera_optical_frame', encoding)
    assert (msg.height, msg.width, msg.encoding) == (48, 64, encoding)
    assert msg.step == 64 * (1 if len(shape) == 2 else shape[2])
    assert msg.header.stamp == stamp and msg.header.frame_id == 'camera_optical_frame'
    back = image_to_array(msg)
    assert back.shape == frame.shape
    assert np.array_equal(back, frame)


def test_padded_rows_are_read_correctly():
    frame = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    msg = Image(height=4, width=5, encoding='bgr8', step=16)
    padded = np.zeros((4, 16), np.uint8)
    padded[:, :15] = frame.reshape(4, 15)
    msg.data = padded.tobytes()
    assert np.array_equal(image_to_array(msg), frame)


@pytest.mark.parametrize('fields, message', [
    ({'encoding': 'yuv422'}, 'unsupported encoding'),
    ({'encoding': '16UC1'}, 'unsupported encoding'),
    ({'width': 0}, 'empty image'),
    ({'step': 10}, 'step 10 is smaller'),
    ({'height': 5}, 'data has'),
])
def test_malformed_images_raise_a_clear_error(fields, message):
    msg = array_to_image(np.zeros((4, 8, 3), np.uint8), Time(), 'f')
    for key, value in fields.items():
        setattr(msg, key, value)
    with pytest.raises(ImageFormatError, match=message):
        check_image(msg)
    with pytest.raises(ImageFormatError, match=message):
        image_to_array(msg)


def test_wrong_array_for_encoding_is_rejected():
    with pytest.raises(ImageFormatError, match='does not fit'):
        array_to_image(np.zeros((4, 4), np.uint8), Time(), 'f', 'bgr8')
    with pytest.raises(ImageFormatError, match='8-bit'):
        array_to_image(np.zeros((4, 4, 3), np.float32), Time(), 'f')
