"""Marking the cells of issue 20 (rounds of several samples, momentum, Adam, RMSProp, softmax with
cross-entropy): an honest student who rounds to 4 places earns every point, and one slip in a
sample's cell or in an optimizer's state is the only wrong cell, every later cell it moves,
across rounds, carried. Students are simulated by the plain reference (tests/refnet_train.py)."""

from __future__ import annotations

from typing import Any

import pytest

from grading.engine import answer_key, parse_spec
from grading.grade import grader
from grading.marking import mark_tables
from tests import refnet_train
from tests.test_training import training_spec

TOL = 0.51e-4
Key = tuple  # (round, column, quantity, layer, index, sample)


def notation(cell: Key, n_layers: int) -> str:
    """The README's notation, written out here: s1[2](3) is s1 of layer 2, sample 3 of the round."""
    _, _, quantity, layer, index, sample = cell
    digits = "".join(map(str, index))
    name = {"L": "L", "y-f": f"y{digits}-f{digits}", "(y-f)^2": f"(y{digits}-f{digits})^2"}.get(
        quantity, f"{quantity}{digits}")
    if n_layers > 1 and layer is not None:
        name += f"[{layer}]"
    return name + (f"({sample})" if sample else "")


# Adam's and RMSProp's v is of the order of (1 − β₂)·g², below what 4 places resolve (0.0000 would
# make the step −η·m̂/ε, thousands): a student writes it, and v̂, with 5 significant figures.
SMALL = ("v_w", "v_b", "vhat_w", "vhat_b")


def student(data: dict, slip: tuple[Key, float] | None = None, places: int = 4,
            carry: str = "rounded") -> dict[str, Any]:
    """The answers of a student who writes every computed cell to ``places`` decimals (v and v̂
    to 5 significant figures) and works on from what they wrote ("rounded") or, in a
    spreadsheet, from the unrounded values ("full"); one ``slip`` added where given."""
    typed: dict[Key, str] = {}

    def keep(cell: Key, value: float) -> float:
        if slip is not None and cell == slip[0]:
            value += slip[1]
        typed[cell] = f"{value:.4e}" if cell[2] in SMALL else f"{value:.{places}f}"
        return float(typed[cell]) if carry == "rounded" else value

    refnet_train.trace(data, keep)
    n_layers = len(data["layers"])
    rounds: dict[int, dict[str, Any]] = {}
    for cell, text in typed.items():
        rounds.setdefault(cell[0], {"round": cell[0]}).setdefault(cell[1], {})[notation(cell, n_layers)] = text
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


KINDS = [
    ({"kind": "momentum", "beta": 0.9}, 1, "mean", "half_sse"),
    ({"kind": "momentum", "beta": 0.9}, 2, "sum", "ce"),
    ({"kind": "adam"}, 1, "mean", "half_sse"),
    ({"kind": "adam"}, 3, "mean", "ce"),
    ({"kind": "rmsprop"}, 2, "mean", "half_sse"),
    ({"kind": "sgd"}, 2, "mean", "half_sse"),
    ({"kind": "sgd"}, 3, "sum", "ce"),
    ({"kind": "sgd"}, 1, "mean", "ce"),
]


def _spec(kind: tuple, seed: int = 3, **more: Any) -> dict:
    opt, batch, reduce, loss = kind
    return training_spec(seed, optimizer=opt, batch=batch, reduce=reduce, loss=loss, n_layers=2, **more)


def _id(kind: tuple) -> str:
    return f"{kind[0]['kind']}-b{kind[1]}-{kind[2]}-{kind[3]}"


@pytest.mark.parametrize("carry", ["rounded", "full"])
@pytest.mark.parametrize("kind", KINDS, ids=_id)
def test_rounding_every_cell_to_4_places_earns_full_marks(kind: tuple, carry: str) -> None:
    """Every cell answered, each written to 4 places and worked on from what was written (or
    from a spreadsheet's unrounded values): every cell correct or carried, every table question
    at full marks."""
    data = _spec(kind)
    spec = parse_spec(data)
    answers = student(data, carry=carry)
    config = grader.GradingConfig(questions=tuple(q for q in grader.default_questions(spec) if q.kind != "formulas"))
    report = grader.grade_submission(spec, answers, config)
    assert {c.status for c in report.cells} <= {"correct", "carried"}, \
        [(c.id, c.status, c.message) for c in report.cells if c.status not in ("correct", "carried")]
    assert all(q.score == q.max for q in report.questions)
    assert len(report.cells) == len(answer_key(spec).graph.gradable())


# (kind, the slipped cell, the slip): a sample's forward or backward cell, and each optimizer's state.
SLIPS = [
    (KINDS[1], (1, "forward", "s", 1, (1,), 2), 0.02),
    (KINDS[1], (1, "backward", "dL/ds", 2, (2,), 1), 0.01),
    (KINDS[3], (1, "forward", "f", 1, (2,), 3), -0.01),
    (KINDS[5], (1, "backward", "dL/dw", 2, (1, 1), 2), 0.005),
    (KINDS[0], (1, "updated", "Δw", 2, (1, 1), 0), 0.002),
    (KINDS[0], (2, "parameters", "Δb", 1, (1,), 0), 0.01),
    (KINDS[2], (1, "updated", "m_w", 1, (1, 1), 0), 0.002),
    (KINDS[2], (1, "updated", "v_w", 2, (1, 1), 0), 0.001),
    (KINDS[4], (1, "updated", "v_b", 2, (1,), 0), 0.002),
]


@pytest.mark.parametrize("carry", ["rounded", "full"])
@pytest.mark.parametrize(("kind", "slip", "size"), SLIPS, ids=[f"{_id(k)} {s[1]} {s[2]}{list(s[4])}[{s[3]}]({s[5]})"
                                                                for k, s, _ in SLIPS])
def test_a_slip_is_the_only_wrong_cell_and_carried_through_later_rounds(kind: tuple, slip: Key, size: float,
                                                                        carry: str) -> None:
    """One slip, worked on from what was written or from a spreadsheet's unrounded values: the
    slip is the only wrong cell and every later cell it moves, into the last round, is carried."""
    data = _spec(kind)
    n_layers = len(data["layers"])
    answers = student(data, (slip, size), carry=carry)
    got = {(m.round, m.column, m.name): m for m in mark_tables(answer_key(parse_spec(data)), answers)}
    wrong = {cell for cell, m in got.items() if m.status not in ("correct", "carried")}
    slipped = (slip[0], slip[1], notation(slip, n_layers))
    assert wrong == {slipped}, [(c, got[c].message) for c in wrong]
    moved = [cell for cell, m in got.items() if cell != slipped and abs(float(m.given) - m.expected) >= TOL]
    assert moved, "the slip must move some later cell"
    assert all(got[cell].status == "carried" and got[cell].credit == 1.0 for cell in moved)
    assert max(cell[0] for cell in moved) == max(m.round for m in got.values()), "carried into the last round"


def test_the_reports_loss_and_plot_are_the_rounds_not_the_samples() -> None:
    """A round of three samples has L(1), L(2), L(3) and the round's L: the report's loss per round
    (and the plot question) read the round's L, one per round."""
    data = _spec(KINDS[6])  # sgd, batch 3, sum, ce
    spec = parse_spec(data)
    answers = student(data)
    typed = [float(t["forward"]["L"]) for t in answers["rounds"]]
    config = grader.GradingConfig(questions=tuple(q for q in grader.default_questions(spec) if q.kind != "formulas"))
    report = grader.grade_submission(spec, answers, config)
    assert report.loss.student == tuple(typed) and len(report.loss.key) == spec.n_rounds == 3
    for t in answers["rounds"]:
        # sample 2's loss slipped, and the round's L summed from it: L(2) is wrong, L carried
        forward = t["forward"]
        forward["L(2)"] = f"{float(forward['L(2)']) + 0.01:.4f}"
        forward["L"] = f"{sum(float(forward[f'L({k})']) for k in (1, 2, 3)):.4f}"
    report = grader.grade_submission(spec, answers, config)
    marks = {c.id: c for c in report.cells}
    assert marks["r1.forward.L(2)"].status == "incorrect" and marks["r1.forward.L"].status == "carried"
    plot = [q for q in report.questions if q.kind == "plot"]
    assert plot and plot[0].score == plot[0].max  # the plot follows the rounds' L, not L(2)
