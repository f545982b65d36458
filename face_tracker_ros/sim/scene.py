# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated scene: a real face photograph seen by a pan/tilt pinhole camera.

The face is a head-and-shoulders crop of ``skimage.data.astronaut()`` (a public
domain NASA portrait) that moves along a :mod:`face_tracker_ros.sim.paths` path.
It is projected with :func:`face_tracker_ros.geometry.direction_to_pixel`, so
pan and tilt move it in the image exactly as the rest of the tracker assumes.
Behind it is a textured background fixed in the world: a panorama pre-rendered
at construction (focal length pixels per radian, periodic in both directions
with a period of at least 2048 x 1024 pixels) of which every frame takes a
slice, so the background moves when the camera turns.  The slice is linear in
angle while the face follows the pinhole's tangent; the two agree near the
image centre, which is all a detector needs.  Gaussian sensor noise comes from
a few pre-generated noise frames picked by a hash of ``(seed, t)``: ``render``
is a pure function of its arguments and the constructor's.
"""

from dataclasses import dataclass
import math
from typing import Tuple

import cv2
import numpy as np

from face_tracker_ros import geometry
from face_tracker_ros.common.checks import check_int, check_number
from face_tracker_ros.sim.paths import make_path, PATHS

# The crop of the 512x512 astronaut photograph used as the sprite (x0, y0, x1, y1):
# head, hair, collar ring and the photo's own mottled backdrop, without the flag
# (left) and the shuttle model (right).
PHOTO_CROP = (110, 0, 345, 290)
# The face inside the photograph (x, y, w, h), between what OpenCV's Haar frontal
# cascade (177, 66, 95, 95) and YuNet (178, 63, 90, 113) report for it.
PHOTO_FACE = (177, 64, 93, 104)
# Background tile: at least this big (pixels), and a multiple of TILE_QUANTUM.
MIN_TILE = (1024, 2048)
TILE_QUANTUM = 256
NOISE_FRAMES = 4


@dataclass(frozen=True)
class SceneTruth:
    """Where the face really is in a rendered frame.

    ``u``/``v`` are the projected face centre in pixels, ``box`` the face's
    ``(x, y, w, h)`` in pixels (not clipped to the image), ``offset_x``/``offset_y``
    the centre in the normalised offset convention of :mod:`geometry` and
    ``error`` the centre's distance from the image centre divided by half the
    image width.  ``visible`` is True when the centre is inside the image.  When
    the face is 90 degrees or more off the optical axis ``u``, ``v`` and the
    offsets are NaN, ``error`` is infinite and ``box`` is ``(0, 0, 0, 0)``.
    """

    visible: bool
    u: float
    v: float
    box: Tuple[int, int, int, int]
    offset_x: float
    offset_y: float
    error: float


def _periodic_noise(rng: np.random.Generator, height: int, width: int,
                    exponent: float, low_cut: float = 0.0) -> np.ndarray:
    """Return zero-mean, unit-variance noise with a 1/f**exponent spectrum, periodic.

    ``low_cut`` removes spatial frequencies below it (cycles per pixel).
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    gain = radius ** -exponent
    gain[radius < low_cut] = 0.0
    gain[0, 0] = 0.0
    shape = (height, width // 2 + 1)
    spectrum = (rng.standard_normal(shape, dtype=np.float32)
                + 1j * rng.standard_normal(shape, dtype=np.float32)) * gain
    field = np.fft.irfft2(spectrum, s=(height, width))
    field -= field.mean()
    field /= max(float(field.std()), 1e-12)
    return field.astype(np.float32)


def _upsample_periodic(field: np.ndarray, factor: int) -> np.ndarray:
    """Upsample a periodic 2-D or 3-D field by an integer factor, keeping it periodic."""
    margin = 2  # the cubic kernel's reach, in input pixels
    pad = [(margin, margin), (margin, margin)] + [(0, 0)] * (field.ndim - 2)
    padded = np.pad(field, pad, mode='wrap')
    height, width = padded.shape[:2]
    big = cv2.resize(padded, (width * factor, height * factor), interpolation=cv2.INTER_CUBIC)
    cut = margin * factor
    return big[cut:-cut, cut:-cut]


def _background_tile(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Render a periodic BGR background tile: a shaded, grainy wall with tinted panels.

    Smooth shading and colour, separate straight-edged panels and strips, and a
    fine plaster grain.  Nothing is blob-like at the scale of eyes (mid-scale
    cloud noise makes the Haar cascade fire), so face detectors find no face in it.
    """
    small_h, small_w = height // 4, width // 4
    # Large-scale shading and colour, made at a quarter resolution.
    shade = _periodic_noise(rng, small_h, small_w, 2.6)
    tint = np.stack([_periodic_noise(rng, small_h, small_w, 2.6) for _ in range(3)], axis=-1)
    # Panels (posters, cupboards) and thin strips (shelves, door frames), each tinted.
    # They never touch each other: overlapping blocks can add up to face-like layouts.
    panels = np.zeros((small_h, small_w, 3), np.float32)
    taken = np.zeros((small_h, small_w), bool)
    gap = 6
    placed = 0
    wanted = int(rng.integers(14, 22))
    for attempt in range(20 * wanted):
        if placed == wanted:
            break
        if attempt % 3 == 2:
            thin = int(rng.integers(1, 3))
            long_side = int(rng.integers(small_w // 16, small_w // 4))
            ph, pw = (thin, long_side) if attempt % 2 else (long_side // 2, thin)
        else:
            ph = int(rng.integers(small_h // 10, small_h // 3))
            pw = int(rng.integers(small_w // 30, small_w // 8))
        py = int(rng.integers(gap, small_h - ph - gap))
        px = int(rng.integers(gap, small_w - pw - gap))
        if taken[py - gap:py + ph + gap, px - gap:px + pw + gap].any():
            continue
        taken[py:py + ph, px:px + pw] = True
        panels[py:py + ph, px:px + pw] = rng.uniform(-35.0, 35.0, 3).astype(np.float32)
        placed += 1
    panels = cv2.GaussianBlur(panels, (0, 0), 0.8)
    base = np.array(rng.uniform(105, 150, 3), np.float32)
    colour = (base
              + _upsample_periodic(22.0 * shade[..., None] + 12.0 * tint + panels, 4))
    # Fine grain (plaster) at full resolution, from a small periodic tile.
    grain_tile = _periodic_noise(rng, TILE_QUANTUM, TILE_QUANTUM, 0.5, low_cut=0.12)
    grain = np.tile(grain_tile, (height // TILE_QUANTUM, width // TILE_QUANTUM))
    colour += 7.0 * grain[..., None]
    return np.clip(colour, 0, 255).astype(np.uint8)


def _face_sprite(face_px: float) -> Tuple[np.ndarray, float, float, Tuple[int, int, int, int]]:
    """Return the BGR sprite scaled so the face is ``face_px`` wide.

    Also returns the face centre and face box inside the sprite, in sprite pixels.
    """
    from skimage import data  # imported here: scikit-image is slow to import

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    x0, y0, x1, y1 = PHOTO_CROP
    crop = photo[y0:y1, x0:x1]
    fx, fy, fw, fh = PHOTO_FACE
    scale = face_px / fw
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    sprite = np.ascontiguousarray(cv2.resize(crop, size, interpolation=interpolation))
    sx = size[0] / float(x1 - x0)
    sy = size[1] / float(y1 - y0)
    centre_x = (fx - x0 + fw / 2.0) * sx
    centre_y = (fy - y0 + fh / 2.0) * sy
    face_box = (round((fx - x0) * sx), round((fy - y0) * sy),
                max(1, round(fw * sx)), max(1, round(fh * sy)))
    return sprite, centre_x, centre_y, face_box


class SimScene:
    """Render what a pan/tilt pinhole camera sees of a face moving along a path."""

    def __init__(self, width: int = 640, height: int = 480, hfov: float = math.radians(60),
                 path: str = 'drift', seed: int = 0, face_size_rad: float = 0.15,
                 noise_sigma: float = 2.0) -> None:
        """Build the scene: pre-render the background, the face sprite and the noise.

        ``width``/``height`` are the image size in pixels (>= 16), ``hfov`` the
        horizontal field of view in radians (0, pi), ``path`` one of
        :data:`PATHS`, ``seed`` seeds the path, background and noise,
        ``face_size_rad`` is the angular width of the face (0, hfov) and
        ``noise_sigma`` the sensor noise's standard deviation in grey levels
        [0, 64).  Raises ValueError naming the bad parameter and its allowed values.
        """
        self.width = check_int('width', width, low=16)
        self.height = check_int('height', height, low=16)
        self.hfov = check_number('hfov', hfov, 0.0, math.pi, low_open=True, high_open=True)
        self.face_size_rad = check_number('face_size_rad', face_size_rad, 0.0, self.hfov,
                                          low_open=True, high_open=True)
        self.noise_sigma = check_number('noise_sigma', noise_sigma, 0.0, 64.0, high_open=True)
        self.seed = check_int('seed', seed)
        if path not in PATHS:
            allowed = ', '.join(repr(p) for p in PATHS)
            raise ValueError(f'path must be one of {allowed}; got {path!r}')
        self.path_name = path
        self.path = make_path(path, self.seed)
        self.focal_px = geometry.focal_length_px(self.width, self.hfov)

        seed_word = 2 * self.seed if self.seed >= 0 else -2 * self.seed - 1
        rng = np.random.default_rng([seed_word, 7])
        tile_h = TILE_QUANTUM * math.ceil(max(MIN_TILE[0], 2 * self.height) / TILE_QUANTUM)
        tile_w = TILE_QUANTUM * math.ceil(max(MIN_TILE[1], 2 * self.width) / TILE_QUANTUM)
        tile = _background_tile(rng, tile_h, tile_w)
        # Wrap-pad by one frame so every frame is one contiguous slice.
        self._tile_shape = (tile_h, tile_w)
        self._panorama = np.pad(tile, ((0, self.height), (0, self.width), (0, 0)), mode='wrap')

        face_px = self.face_size_rad * self.focal_px
        self._sprite, self._sprite_cx, self._sprite_cy, self._sprite_face = _face_sprite(face_px)

        # Sensor noise, stored as its positive and negative parts for saturating add/subtract.
        self._noise = []
        if self.noise_sigma > 0.0:
            shape = (self.height, self.width, 3)
            for _ in range(NOISE_FRAMES):
                noise = np.rint(rng.standard_normal(shape, dtype=np.float32) * self.noise_sigma)
                noise = np.clip(noise, -255, 255)
                positive = np.clip(noise, 0, 255).astype(np.uint8)
                negative = np.clip(-noise, 0, 255).astype(np.uint8)
                self._noise.append((positive, negative))

    def truth(self, t: float, pan: float, tilt: float) -> SceneTruth:
        """Return where the face is at time ``t`` for a camera at ``pan``/``tilt`` (radians)."""
        t, pan, tilt = self._check_pose(t, pan, tilt)
        return self._truth(t, pan, tilt)

    def render(self, t: float, pan: float, tilt: float) -> Tuple[np.ndarray, SceneTruth]:
        """Return the BGR uint8 frame (height, width, 3) at time ``t`` and the face truth.

        ``pan``/``tilt`` are the camera's joint angles in radians (conventions of
        :mod:`geometry`).  The same arguments always give identical bytes.
        Raises ValueError naming ``t``, ``pan`` or ``tilt`` if one is not finite.
        """
        t, pan, tilt = self._check_pose(t, pan, tilt)
        truth = self._truth(t, pan, tilt)

        tile_h, tile_w = self._tile_shape
        x0 = round(-pan * self.focal_px - self.width / 2.0) % tile_w
        y0 = round(tilt * self.focal_px - self.height / 2.0) % tile_h
        frame = self._panorama[y0:y0 + self.height, x0:x0 + self.width].copy()

        if math.isfinite(truth.u):
            self._paste_sprite(frame, truth.u, truth.v)

        if self._noise:
            key = (self.seed * 1_000_003 + round(t * 1000.0)) & 0xFFFFFFFFFFFFFFFF
            key = (key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
            positive, negative = self._noise[(key >> 32) % len(self._noise)]
            cv2.add(frame, positive, dst=frame)
            cv2.subtract(frame, negative, dst=frame)
        return frame, truth

    @staticmethod
    def _check_pose(t: float, pan: float, tilt: float) -> Tuple[float, float, float]:
        """Return the arguments as floats, or raise ValueError naming a non-finite one."""
        return check_number('t', t), check_number('pan', pan), check_number('tilt', tilt)

    def _truth(self, t: float, pan: float, tilt: float) -> SceneTruth:
        """Project the face direction at ``t`` into the camera at ``pan``/``tilt``."""
        azimuth, elevation = self.path.position(t)
        u, v, in_front = geometry.direction_to_pixel(
            azimuth, elevation, pan, tilt, self.width, self.height, self.hfov)
        if not in_front:
            return SceneTruth(False, math.nan, math.nan, (0, 0, 0, 0),
                              math.nan, math.nan, math.inf)
        left, top = self._sprite_origin(u, v)
        fx, fy, fw, fh = self._sprite_face
        offset_x, offset_y = geometry.pixel_to_offset(u, v, self.width, self.height)
        error = math.hypot(u - self.width / 2.0, v - self.height / 2.0) / (self.width / 2.0)
        visible = 0.0 <= u < self.width and 0.0 <= v < self.height
        return SceneTruth(visible, u, v, (left + fx, top + fy, fw, fh),
                          offset_x, offset_y, error)

    def _sprite_origin(self, u: float, v: float) -> Tuple[int, int]:
        """Return the image pixel of the sprite's top-left corner for a face centred at u, v."""
        # Far-off centres are clamped so the int conversion cannot overflow.
        limit = 1e6
        u = min(max(u, -limit), limit)
        v = min(max(v, -limit), limit)
        return round(u - self._sprite_cx), round(v - self._sprite_cy)

    def _paste_sprite(self, frame: np.ndarray, u: float, v: float) -> None:
        """Draw the face sprite centred at ``u``/``v``, clipped to the frame."""
        left, top = self._sprite_origin(u, v)
        sprite_h, sprite_w = self._sprite.shape[:2]
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + sprite_w, self.width), min(top + sprite_h, self.height)
        if x0 >= x1 or y0 >= y1:
            return
        frame[y0:y1, x0:x1] = self._sprite[y0 - top:y1 - top, x0 - left:x1 - left]
