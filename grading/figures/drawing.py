"""Where things go in the drawing of a dense network: pure geometry, no Django.

Columns of nodes from left to right (the inputs, then per layer a Σ node and its activation
node per unit); every layer fully connected to the one below. Each edge carries a label w_ij
(w_ij^[l] with several layers). A label sits on its edge at a fraction t of its length,
chosen as near Homework 4.1's places as it can be while no edge crossing lies under it and no
two labels overlap; a layer whose labels cannot all be placed so (too many edges to read) shows
none, and the page says the weights are in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GAP, TOP = 110, 70          # vertical distance of units; y of the first unit of the tallest column
X_INPUT, SPAN = 60, 270     # x of the inputs; from a node column to the next layer's Σ
SUM_TO_ACT, ACT_TO_OUT = 100, 90
R_INPUT, R_NODE = 18, 22
CHAR = 7.0                  # width of a label character (12 px text); subscripts count as 6
MARGIN = 3.0                # what a crossing or another label must keep from a label's box
MAX_LABELLED = 25           # edges of a layer beyond which labels cannot be read anyway
_GRID = [round(0.14 + 0.01 * k, 2) for k in range(73)]  # 0.14 .. 0.86


@dataclass(frozen=True)
class Edge:
    layer: int
    i: int
    j: int
    x1: float
    y1: float
    x2: float
    y2: float
    lx: float | None = None   # the label's anchor (text-anchor middle, baseline); None: no label
    ly: float | None = None

    def point(self, t: float) -> tuple[float, float]:
        return self.x1 + t * (self.x2 - self.x1), self.y1 + t * (self.y2 - self.y1)


@dataclass(frozen=True)
class Box:
    """A label's box around its anchor: text 12 px high above the baseline, subscripts below."""

    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def around(cls, lx: float, ly: float, width: float) -> Box:
        return cls(lx - width / 2, ly - 11, lx + width / 2, ly + 4)

    def holds(self, x: float, y: float, margin: float = MARGIN) -> bool:
        return (self.left - margin <= x <= self.right + margin
                and self.top - margin <= y <= self.bottom + margin)

    def meets(self, other: Box, margin: float = MARGIN) -> bool:
        return not (self.right + margin < other.left or other.right + margin < self.left
                    or self.bottom + margin < other.top or other.bottom + margin < self.top)


def label_width(i: int, j: int, layer: int, n_layers: int) -> float:
    """How wide the label w_ij (w_ij^[l]) is drawn."""
    return CHAR + 6 * len(f"{i}{j}") + (5.5 * len(f"[{layer}]") if n_layers > 1 else 0)


def crossings(edges: list[Edge]) -> np.ndarray:
    """The points (k, 2) where two edges cross, not counting a shared end."""
    points = []
    for a in range(len(edges)):
        for b in range(a + 1, len(edges)):
            p = _cross(edges[a], edges[b])
            if p is not None:
                points.append(p)
    return np.array(points, dtype=float).reshape(-1, 2)


def _cross(e: Edge, f: Edge) -> tuple[float, float] | None:
    d1 = (e.x2 - e.x1, e.y2 - e.y1)
    d2 = (f.x2 - f.x1, f.y2 - f.y1)
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-12:
        return None
    t = ((f.x1 - e.x1) * d2[1] - (f.y1 - e.y1) * d2[0]) / den
    u = ((f.x1 - e.x1) * d1[1] - (f.y1 - e.y1) * d1[0]) / den
    if 1e-9 < t < 1 - 1e-9 and 1e-9 < u < 1 - 1e-9:
        return e.point(t)
    return None


def _preferred(i: int, n_in: int) -> float:
    # Homework 4.1's places: a fraction of the edge that depends on the input, so crossing edges
    # of a 2×2 layer keep their labels apart.
    return 0.28 + (0.42 * (i - 1) / (n_in - 1) if n_in > 1 else 0)


def place_labels(edges: list[Edge], n_in: int, n_layers: int) -> list[Edge] | None:
    """The edges with their labels placed, or None when some label has no free place."""
    if len(edges) > MAX_LABELLED:
        return None
    points = crossings(edges)
    placed: list[Box] = []
    out = []
    for e in edges:
        width = label_width(e.i, e.j, e.layer, n_layers)
        pref = _preferred(e.i, n_in)
        order = sorted([pref, *_GRID], key=lambda t: (abs(t - pref), t))
        for t in order:
            x, y = e.point(t)
            box = Box.around(x, y - 4, width)
            if len(points) and np.any((points[:, 0] >= box.left - MARGIN) & (points[:, 0] <= box.right + MARGIN)
                                      & (points[:, 1] >= box.top - MARGIN) & (points[:, 1] <= box.bottom + MARGIN)):
                continue
            if any(box.meets(other) for other in placed):
                continue
            placed.append(box)
            out.append(Edge(e.layer, e.i, e.j, e.x1, e.y1, e.x2, e.y2, x, y - 4))
            break
        else:
            return None
    return out


@dataclass(frozen=True)
class Unit:
    j: int
    y: float
    bias_y: float


@dataclass(frozen=True)
class LayerDrawing:
    layer: int
    x_sum: float
    x_act: float
    units: tuple[Unit, ...]
    edges: tuple[Edge, ...]
    labelled: bool
    output: bool


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    inputs: tuple[tuple[int, float], ...]   # (i, y)
    layers: tuple[LayerDrawing, ...]
    x_out: float

    @property
    def unlabelled(self) -> tuple[int, ...]:
        """The layers whose edges carry no labels."""
        return tuple(layer.layer for layer in self.layers if not layer.labelled)


@lru_cache(maxsize=256)
def network_drawing(sizes: tuple[int, ...]) -> Drawing:
    """The drawing of a network with these layer sizes (inputs first)."""
    tallest = max(sizes)

    def ys(count: int) -> list[float]:
        offset = TOP + (tallest - count) * GAP / 2
        return [offset + k * GAP for k in range(count)]

    n_layers = len(sizes) - 1
    inputs = tuple(enumerate(ys(sizes[0]), start=1))
    source_x, source_r, sources = X_INPUT, R_INPUT, [y for _, y in inputs]
    layers = []
    for l in range(1, n_layers + 1):
        x_sum = source_x + SPAN
        units = tuple(Unit(j, y, y - 48) for j, y in enumerate(ys(sizes[l]), start=1))
        edges = [Edge(l, i, u.j, source_x + source_r, y_i, x_sum - R_NODE, u.y)
                 for i, y_i in enumerate(sources, start=1) for u in units]
        placed = place_labels(edges, sizes[l - 1], n_layers)
        layers.append(LayerDrawing(l, x_sum, x_sum + SUM_TO_ACT, units, tuple(placed or edges),
                                   placed is not None, l == n_layers))
        source_x, source_r, sources = x_sum + SUM_TO_ACT, R_NODE, [u.y for u in units]
    x_out = source_x + ACT_TO_OUT
    return Drawing(width=x_out + 60, height=TOP + (tallest - 1) * GAP + 45, inputs=inputs,
                   layers=tuple(layers), x_out=x_out)
