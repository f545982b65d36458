# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What every plot shares: figures, the time axis, event marks, gaps in a stream."""

import math
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

from face_tracker_ros.common.status import ERROR, OK, STALE, WARN
from face_tracker_ros.tools.report.data import BagData

#: Colour of each status level.
LEVEL_COLOURS = {OK: '#2ca02c', WARN: '#ff9f1c', ERROR: '#d62728', STALE: '#8c8c8c'}


def new_figure(rows: int = 1, height: float = 4.6, width: float = 12.0):
    """Return a figure of ``rows`` axes sharing the time axis, and the axes."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG to ``path``; return the path."""
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    return path


def draw_no_data(ax, text: str, title: str = '') -> None:
    """Say in the middle of ``ax`` that there is no data, and why; set ``title`` if given."""
    if title:
        ax.set_title(title)
    ax.text(0.5, 0.5, f'no data\n{text}', ha='center', va='center', fontsize=16,
            color='#555555', transform=ax.transAxes)
    ax.set_yticks([])


def time_axis(ax, data: BagData, last: bool = True) -> None:
    """Set the time axis to the bag's span, with its label on the ``last`` axes."""
    ax.set_xlim(0.0, max(data.duration_s, 1e-3))
    ax.grid(True, alpha=0.3)
    if last:
        ax.set_xlabel('time since bag start (s)')


def mark_events(ax, data: BagData, labels: bool = True) -> None:
    """Draw a red dashed line where a status turns ERROR and a purple one at a restart."""
    first_error = first_restart = True
    for event in data.error_events():
        ax.axvline(event.t, color=LEVEL_COLOURS[ERROR], linestyle='--', linewidth=1.2, alpha=0.8,
                   label='status turns ERROR' if labels and first_error else None)
        first_error = False
    for event in data.restarts:
        ax.axvline(event.t, color='#7b2cbf', linestyle=':', linewidth=1.6,
                   label='node restart' if labels and first_restart else None)
        first_restart = False


def finish(fig: Figure, ax, data: BagData, path: Path, right: float = 1.005) -> Path:
    """Give the last axes the time axis and the legend (right of it); write the PNG."""
    time_axis(ax, data)
    legend_right(ax, right)
    return save_figure(fig, path)


def one_axes_plot(data: BagData, path: Path, title: str, draw: Callable[..., bool],
                  no_data: str, right: float = 1.005) -> Path:
    """Write a plot of one axes titled ``title`` and return its path.

    ``draw(ax)`` draws the data (it may set a title with figures) and returns
    whether there was any; the events are marked on it, or the axes say
    ``no data`` and ``no_data``.  Then :func:`finish` (``right``: the legend's place).
    """
    fig, (ax,) = new_figure()
    ax.set_title(title)
    if draw(ax):
        mark_events(ax, data)
    else:
        draw_no_data(ax, no_data)
    return finish(fig, ax, data, path, right)


def true_spans(t: Sequence[float], mask: Sequence[bool]) -> List[Tuple[float, float]]:
    """Return ``(start, end)`` times of the runs of consecutive samples where mask is True."""
    spans = []
    start = None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = t[i]
        if not flag and start is not None:
            spans.append((start, t[i]))
            start = None
    if start is not None:
        spans.append((start, t[-1]))
    return spans


def _gap_threshold(t: np.ndarray) -> float:
    """Return the pause between samples taken as a gap: 5 typical periods, at least 0.5 s."""
    if t.size < 3:
        return math.inf
    return max(0.5, 5.0 * float(np.median(np.diff(t))))


def stream_gaps(t: Sequence[float]) -> List[Tuple[float, float]]:
    """Return ``(start, end)`` of the pauses in a message stream (see _gap_threshold)."""
    times = np.asarray(t, dtype=float)
    if times.size < 3:
        return []
    limit = _gap_threshold(times)
    idx = np.nonzero(np.diff(times) > limit)[0]
    return [(float(times[i]), float(times[i + 1])) for i in idx]


def broken_at_gaps(t: Sequence[float], *columns: Sequence[float]) -> List[np.ndarray]:
    """Return ``t`` and ``columns`` with a NaN row in every gap, so lines do not bridge it."""
    times = np.asarray(t, dtype=float)
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if times.size < 3:
        return [times] + arrays
    cut = np.nonzero(np.diff(times) > _gap_threshold(times))[0] + 1
    if cut.size == 0:
        return [times] + arrays
    out_t = np.insert(times, cut, (times[cut - 1] + times[cut]) / 2.0)
    return [out_t] + [np.insert(a, cut, np.nan) for a in arrays]


def legend_right(ax, right: float = 1.005) -> None:
    """Put the legend right of the axes (``right`` in axes widths), never over the data."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc='upper left', bbox_to_anchor=(right, 1.0), fontsize=9,
                  borderaxespad=0.0)


def rate_per_second(t: Sequence[float], duration: float) -> Tuple[np.ndarray, np.ndarray]:
    """Return the centres of one-second bins and the events counted in each."""
    edges = np.arange(0.0, max(duration, 1.0) + 1.0, 1.0)
    counts, _ = np.histogram(np.asarray(t), bins=edges)
    return edges[:-1] + 0.5, counts.astype(float)
