# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The labelled real footage in ``../shared/footage``: frames, face boxes, shots and people.

``labels.json`` gives face boxes ``[x, y, w, h]`` per clip frame and per still,
some marked ``ignore`` (a real face too small, cut by the edge, hidden or
turned away).  Here a labelled face smaller than :data:`MIN_FACE_PX` tall
counts as ``ignore`` too (the labels are not exhaustive below that).  Boxes
carry no identity, so the people of a shot are linked here: within a shot (a
clip's ``segments``), a box continues the person of the previous frame whose
box overlaps it most (IoU >= :data:`LINK_IOU`).
"""

import dataclasses
import json
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / 'shared' / 'footage'
MODEL = ROOT.parent / 'shared' / 'models' / 'face_detection_yunet.onnx'
MIN_FACE_PX = 16
LINK_IOU = 0.3

Box = Tuple[float, float, float, float]


@dataclasses.dataclass
class Label:
    """One labelled face: its box, whether it is ignored, and the person it belongs to."""

    box: Box
    ignore: bool
    person: int = -1


@dataclasses.dataclass
class Frame:
    """One frame (or still) with its labelled faces, its shot and its time in seconds."""

    index: int
    labels: List[Label]
    shot: int
    t: float


@dataclasses.dataclass
class Item:
    """A clip or a still: its file, kind, rate and labelled frames."""

    name: str
    kind: str  # 'clip' or 'still'
    path: Path
    fps: float
    width: int
    height: int
    frames: List[Frame]

    def images(self) -> Iterator[Tuple[Frame, np.ndarray]]:
        """Yield ``(frame, BGR image)`` in order."""
        if self.kind == 'still':
            image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
            yield self.frames[0], image
            return
        cap = cv2.VideoCapture(str(self.path))
        try:
            for frame in self.frames:
                ok, image = cap.read()
                if not ok:
                    return
                yield frame, image
        finally:
            cap.release()


def iou(a: Box, b: Box) -> float:
    """Return the intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def available(footage: Path = FOOTAGE) -> Optional[str]:
    """Return None if the footage is there, else the reason it is not (for a skip)."""
    if not (footage / 'labels.json').is_file():
        return f'labelled footage not found at {footage} (../shared is absent)'
    return None


def _labels(faces: Sequence[dict]) -> List[Label]:
    out = []
    for face in faces:
        box = tuple(float(v) for v in face['box'])
        out.append(Label(box, bool(face.get('ignore')) or box[3] < MIN_FACE_PX))
    return out


def _link_people(frames: List[Frame]) -> None:
    """Give every label a person id, linking boxes frame to frame within a shot."""
    next_id = 0
    previous: List[Label] = []
    shot = None
    for frame in frames:
        if frame.shot != shot:
            previous, shot = [], frame.shot
        pairs = sorted(((iou(a.box, b.box), i, j) for i, a in enumerate(frame.labels)
                        for j, b in enumerate(previous)), reverse=True)
        used_new, used_old = set(), set()
        for overlap, i, j in pairs:
            if overlap < LINK_IOU:
                break
            if i in used_new or j in used_old:
                continue
            frame.labels[i].person = previous[j].person
            used_new.add(i)
            used_old.add(j)
        for i, label in enumerate(frame.labels):
            if i not in used_new:
                label.person = next_id
                next_id += 1
        previous = frame.labels


def load(footage: Path = FOOTAGE) -> List[Item]:
    """Return every clip, then every still, of ``labels.json`` in name order."""
    data = json.loads((footage / 'labels.json').read_text())
    items: List[Item] = []
    for name, clip in sorted(data['clips'].items()):
        starts = sorted(s['first_frame'] for s in clip.get('segments', [])) or [0]
        fps = float(clip['fps'])
        frames = []
        for entry in clip['frames']:
            index = int(entry['frame'])
            shot = sum(1 for s in starts if s <= index) - 1
            frames.append(Frame(index, _labels(entry['faces']), shot, index / fps))
        _link_people(frames)
        items.append(Item(name, 'clip', footage / 'clips' / name, fps,
                          int(clip['width']), int(clip['height']), frames))
    for name, still in sorted(data['stills'].items()):
        frame = Frame(0, _labels(still['faces']), 0, 0.0)
        _link_people([frame])
        items.append(Item(name, 'still', footage / 'stills' / name, 0.0,
                          int(still['width']), int(still['height']), [frame]))
    return items
