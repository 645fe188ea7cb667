"""The network drawing: where its edge labels go, checked with geometry written here."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from grading.figures.drawing import network_drawing

SIZES = [(n, m) for n in range(1, 6) for m in range(1, 6)] + [
    (2, 2, 2), (2, 3, 2), (3, 4, 3, 2), (2, 9), (9, 2), (1, 9, 1), (5, 5, 5), (3, 8), (4, 2, 2, 1, 3)]


def orientation(p, q, r) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def crossing(a, b):
    """Where segments a and b cross (not at a shared end), or None: orientation tests, then the point."""
    (p1, p2), (q1, q2) = a, b
    if len({p1, p2, q1, q2}) < 4:
        return None
    d1, d2 = orientation(q1, q2, p1), orientation(q1, q2, p2)
    d3, d4 = orientation(p1, p2, q1), orientation(p1, p2, q2)
    if d1 * d2 >= 0 or d3 * d4 >= 0:
        return None
    t = d1 / (d1 - d2)
    return p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1])


def label_box(edge, n_layers: int) -> tuple[float, float, float, float]:
    """The glyphs of "w" + two index digits (+ "[l]" with layers): 7 px, 6 px per digit, 5.5 px
    per superscript character; 11 px above the baseline to 4 below."""
    width = 7 + 12 + (16.5 if n_layers > 1 else 0)
    return edge.lx - width / 2, edge.ly - 11, edge.lx + width / 2, edge.ly + 4


def inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_no_label_sits_on_a_crossing_or_on_another_label(sizes: tuple[int, ...]) -> None:
    """Every edge label lies on its own edge, away from its ends; no crossing of two edges is
    under it and no other label touches it. Layers of up to 25 edges are all labelled."""
    picture = network_drawing(sizes)
    n_layers = len(sizes) - 1
    for layer in picture.layers:
        segments = [((e.x1, e.y1), (e.x2, e.y2)) for e in layer.edges]
        points = [p for a, b in itertools.combinations(segments, 2) if (p := crossing(a, b)) is not None]
        assert len(layer.edges) > 25 or layer.labelled, (sizes, layer.layer)
        if not layer.labelled:
            continue
        boxes = []
        for e in layer.edges:
            t = (e.lx - e.x1) / (e.x2 - e.x1)
            assert 0.1 <= t <= 0.9 and e.ly + 4 == pytest.approx(e.y1 + t * (e.y2 - e.y1))
            box = label_box(e, n_layers)
            assert not [p for p in points if inside(p, box)], (sizes, e.i, e.j)
            boxes.append(box)
        for a, b in itertools.combinations(boxes, 2):
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (sizes, a, b)


def test_homework_4_1_keeps_its_drawing() -> None:
    """The 2×2 drawing is Homework 4.1's: inputs at x 60, Σ at 330, σ at 430, labels at 0.28
    and 0.70 of the edges from x1 and x2."""
    picture = network_drawing((2, 2))
    (layer,) = picture.layers
    assert (picture.width, picture.height, layer.x_sum, layer.x_act) == (580, 225, 330, 430)
    for e in layer.edges:
        t = 0.28 if e.i == 1 else 0.70
        assert (e.x1, e.x2) == (78, 308)
        assert (e.lx, e.ly) == (78 + t * 230, e.y1 + t * (e.y2 - e.y1) - 4)


def test_the_old_three_input_drawing_had_a_label_on_a_crossing() -> None:
    """Before, input 2 of a 3-input layer had its labels at 0.49 of the edge, where edges cross
    (w21 and w22 sat on one); the drawing now moves them off."""
    picture = network_drawing((3, 2))
    (layer,) = picture.layers
    segments = [((e.x1, e.y1), (e.x2, e.y2)) for e in layer.edges]
    points = [p for a, b in itertools.combinations(segments, 2) if (p := crossing(a, b)) is not None]
    old = []
    for e in layer.edges:
        t = 0.28 + 0.42 * (e.i - 1) / 2
        x, y = e.x1 + t * (e.x2 - e.x1), e.y1 + t * (e.y2 - e.y1) - 4
        box = label_box(dataclasses.replace(e, lx=x, ly=y), 1)
        old.append((e.i, e.j, any(inside(p, box) for p in points)))
    assert [(i, j) for i, j, hit in old if hit] and all(i == 2 for i, _, hit in old if hit)
    assert layer.labelled


def test_a_layer_too_dense_to_label_shows_no_labels() -> None:
    """A 9×9 layer's 81 edges carry no labels (and the page says the weights are in the table)."""
    picture = network_drawing((2, 9, 9))
    assert picture.unlabelled == (2,)
