# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The serialized-image codec against rclpy's own serialization, both ways."""

from builtin_interfaces.msg import Time
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image

from face_tracker_ros.common.compat import array_to_image, ImageFormatError
from face_tracker_ros.common.image_wire import (
    decode_image,
    encode_image,
    UnknownEncoding,
    wire_to_array,
)

CASES = [
    ((480, 640, 3), 'bgr8', 'camera_optical_frame'),
    ((7, 5), 'mono8', ''),
    ((3, 3, 4), 'bgra8', 'ab'),
    ((2, 3, 3), 'rgb8', 'kamera_\u00e9'),  # a non-ASCII frame_id: lengths count bytes
    ((1, 1, 4), 'rgba8', 'abc'),
]


def _frame(shape):
    return np.random.default_rng(len(shape) + shape[0]).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize('shape, encoding, frame_id', CASES)
def test_encoded_bytes_are_what_rclpy_serializes(shape, encoding, frame_id):
    frame = _frame(shape)
    ours = encode_image(frame, 1795860000, 123456789, frame_id, encoding)
    theirs = serialize_message(array_to_image(frame, Time(sec=1795860000, nanosec=123456789),
                                              frame_id, encoding))
    assert len(ours) == len(theirs)
    # rclpy leaves alignment padding uninitialised: compare what both decode to instead.
    msg = deserialize_message(ours, Image)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1795860000, 123456789)
    assert msg.header.frame_id == frame_id
    assert (msg.height, msg.width, msg.encoding, msg.is_bigendian) == \
        (shape[0], shape[1], encoding, 0)
    assert msg.step == shape[1] * (shape[2] if len(shape) == 3 else 1)
    assert np.array_equal(np.frombuffer(msg.data, np.uint8).reshape(shape), frame)
    assert ours[-frame.nbytes:] == theirs[-frame.nbytes:] == frame.tobytes()


@pytest.mark.parametrize('shape, encoding, frame_id', CASES)
def test_decoding_rclpy_serialized_images_gives_a_view_of_the_pixels(
        shape, encoding, frame_id):
    frame = _frame(shape)
    data = serialize_message(array_to_image(frame, Time(sec=42, nanosec=7), frame_id, encoding))
    image = decode_image(data)
    assert (image.stamp_sec, image.stamp_nanosec, image.frame_id) == (42, 7, frame_id)
    assert image.stamp == pytest.approx(42.000000007)
    assert (image.height, image.width, image.encoding) == (shape[0], shape[1], encoding)
    pixels = wire_to_array(image)
    assert np.array_equal(pixels, frame)
    assert not pixels.flags.owndata  # a view of the received bytes, not a copy


def test_padded_rows_and_non_contiguous_arrays():
    frame = _frame((6, 8, 3))
    view = frame[:, 1:7]  # not contiguous
    image = decode_image(encode_image(view, 0, 0, 'f'))
    assert image.step == 18
    assert np.array_equal(wire_to_array(image), view)
    msg = array_to_image(frame, Time(), 'f')
    msg.step, msg.width = 24, 6  # rows padded by 6 bytes
    image = decode_image(serialize_message(msg))
    assert np.array_equal(wire_to_array(image), frame[:, :6])


def test_big_endian_cdr_is_read():
    frame = _frame((2, 2))
    le = encode_image(frame, 5, 6, 'ab', 'mono8')
    image = decode_image(le)
    # The same image in big-endian CDR, built field by field.
    import struct
    be = (b'\x00\x00\x00\x00' + struct.pack('>iI', 5, 6) + struct.pack('>I', 3) + b'ab\x00'
          + b'\x00' + struct.pack('>II', 2, 2) + struct.pack('>I', 6) + b'mono8\x00'
          + b'\x00' + b'\x00' + struct.pack('>I', 2)
          + struct.pack('>I', 4) + frame.tobytes())
    other = decode_image(be)
    assert (other.stamp_sec, other.stamp_nanosec, other.frame_id, other.height, other.width,
            other.encoding, other.step) == (5, 6, 'ab', 2, 2, 'mono8', 2)
    assert np.array_equal(wire_to_array(other), wire_to_array(image))


def test_other_encapsulations_ask_for_rclpy():
    data = bytearray(encode_image(_frame((2, 2)), 0, 0, '', 'mono8'))
    data[1] = 0x07  # XCDR2 little-endian
    with pytest.raises(UnknownEncoding, match='not plain CDR'):
        decode_image(bytes(data))
    assert issubclass(UnknownEncoding, ImageFormatError)


@pytest.mark.parametrize('cut', [0, 3, 9, 20, 40, 50])
def test_truncated_data_is_a_format_error(cut):
    data = encode_image(_frame((4, 4, 3)), 1, 2, 'frame', 'bgr8')
    with pytest.raises(ImageFormatError):
        image = decode_image(data[:cut])
        wire_to_array(image)


def test_lying_fields_are_format_errors():
    frame = _frame((4, 4, 3))
    msg = array_to_image(frame, Time(), 'f')
    msg.height = 5  # data is one row short of what height * step says
    with pytest.raises(ImageFormatError, match='step\\*height'):
        wire_to_array(decode_image(serialize_message(msg)))
    msg = array_to_image(frame, Time(), 'f')
    msg.encoding = 'yuv422'
    with pytest.raises(ImageFormatError, match="unsupported encoding 'yuv422'"):
        wire_to_array(decode_image(serialize_message(msg)))
    data = bytearray(encode_image(frame, 0, 0, 'f'))
    data[12:16] = (1000).to_bytes(4, 'little')  # frame_id length past the end of the header
    with pytest.raises(ImageFormatError):
        decode_image(bytes(data))


@pytest.mark.parametrize('frame, encoding, message', [
    (np.zeros((4, 4, 3), np.float32), 'bgr8', '8-bit'),
    (np.zeros((4, 4), np.uint8), 'bgr8', "'bgr8' does not fit"),
    (np.zeros((4, 4, 3), np.uint8), 'mono8', "'mono8' does not fit"),
    (np.zeros((0, 4, 3), np.uint8), 'bgr8', 'empty image'),
    ('not an array', 'bgr8', '8-bit'),
])
def test_encoding_rejects_arrays_that_do_not_fit(frame, encoding, message):
    with pytest.raises(ImageFormatError, match=message):
        encode_image(frame, 0, 0, '', encoding)


def test_encoding_rejects_stamps_out_of_range():
    with pytest.raises(ImageFormatError, match='out of range'):
        encode_image(np.zeros((2, 2), np.uint8), 0, 1_000_000_000, '', 'mono8')


@pytest.mark.parametrize('frame_id', ['', 'camera_optical_frame', 'abc', 'kamera_\u00e9'])
def test_point_stamped_both_ways_against_rclpy(frame_id):
    from geometry_msgs.msg import PointStamped

    from face_tracker_ros.common.image_wire import decode_point_stamped, encode_point_stamped

    ours = encode_point_stamped(1795860000, 999999999, frame_id, 0.25, -1.0, 1e-9)
    msg = deserialize_message(ours, PointStamped)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == \
        (1795860000, 999999999, frame_id)
    assert (msg.point.x, msg.point.y, msg.point.z) == (0.25, -1.0, 1e-9)
    theirs = serialize_message(msg)
    assert len(theirs) == len(ours)
    point = decode_point_stamped(theirs)
    assert (point.stamp_sec, point.stamp_nanosec, point.frame_id) == \
        (1795860000, 999999999, frame_id)
    assert (point.x, point.y, point.z) == (0.25, -1.0, 1e-9)


def test_point_stamped_errors():
    from face_tracker_ros.common.image_wire import decode_point_stamped, encode_point_stamped

    data = encode_point_stamped(1, 2, 'f', 0.0, 0.0, 0.0)
    with pytest.raises(ImageFormatError):
        decode_point_stamped(data[:-3])
    with pytest.raises(UnknownEncoding):
        decode_point_stamped(b'\x00\x07\x00\x00' + data[4:])
    with pytest.raises(ImageFormatError, match='out of range'):
        encode_point_stamped(0, -1, '', 0.0, 0.0, 0.0)


def test_readers_fall_back_to_rclpy_for_other_encapsulations(monkeypatch):
    from face_tracker_ros.common import image_wire
    from face_tracker_ros.common.image_wire import encode_point_stamped

    frame = _frame((4, 6, 3))
    image_data = encode_image(frame, 3, 4, 'cam')
    point_data = encode_point_stamped(5, 6, 'cam', 0.5, -0.25, 0.1)
    assert image_wire.read_image(image_data).frame_id == 'cam'  # plain CDR: read here

    def other(_data):
        raise UnknownEncoding('encapsulation 0007 is not plain CDR')
    monkeypatch.setattr(image_wire, 'decode_image', other)
    monkeypatch.setattr(image_wire, 'decode_point_stamped', other)
    image = image_wire.read_image(image_data)  # now through rclpy.serialization
    assert (image.stamp_sec, image.stamp_nanosec, image.frame_id, image.encoding) == \
        (3, 4, 'cam', 'bgr8')
    assert np.array_equal(wire_to_array(image), frame)
    point = image_wire.read_point_stamped(point_data)
    assert (point.stamp_sec, point.frame_id, point.x, point.y, point.z) == \
        (5, 'cam', 0.5, -0.25, 0.1)
    with pytest.raises(ImageFormatError, match='cannot deserialize'):
        image_wire.read_image(b'\x00\x07\x00\x00garbage')


@pytest.mark.parametrize('sec, nanosec, words', [
    (0, 0, 'not a time after 1970'), (-5, 0, 'not a time after 1970'),
    (2 ** 31 - 1, 0, 'largest value'), (1_700_000_000, 1_000_000_000, 'not in 0..999999999'),
    (1_700_000_000, 2_000_000_000, 'not in 0..999999999')])
def test_stamps_that_are_not_a_time_are_named(sec, nanosec, words):
    from face_tracker_ros.common.image_wire import stamp_problem

    assert words in stamp_problem(sec, nanosec)


def test_real_stamps_are_fine():
    from face_tracker_ros.common.image_wire import stamp_problem

    assert stamp_problem(1, 0) is None
    assert stamp_problem(1_700_000_000, 999_999_999) is None
    assert stamp_problem(2 ** 31 - 2, 0) is None
