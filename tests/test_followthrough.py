"""Follow-through, named mistakes and anti-gaming, on a catalogue of synthetic students.

Each student is a script run through the engine's graph: every computed cell is worked out from
the student's *own* upstream values (as they wrote them), then written down (rounded, truncated
or in full), except where the script slips, applies a named mistake, or leaves a cell blank.

Expected status of a cell, by this rule (``expected_marks``), never by hard-coded outcomes:

1. not written down -> "blank";
2. within the band of the key -> "correct";
3. an upstream cell (of the right formula) is blank -> "incorrect" (no carried credit);
4. the script changed it (a slip or a mistaken formula that gives a different value than the
   right formula on the same upstream values) -> "incorrect", labelled with the script's
   mistake id when it names one;
5. otherwise it is the right formula on the student's own values: within the band of that exact
   value, or of the formula's range over what the typed upstream values stand for (± half a
   unit of their last place, at most the assignment's places; ``rounding_range``) -> "carried",
   else "incorrect" (it was written badly, e.g. truncated beyond what rounding explains);
6. in a round where more than half of the answered cells come out "incorrect", nothing is
   carried (the marking rules' ``max_wrong_share``).

Gamers follow a stricter rule: nothing they hand in may be carried.

The catalogue marks with the policy "carry" for roots no honest slip explains (the carrying as it
was before issue 17); the default policy's review is tested in tests/test_roots.py.

Expected score of a round: its 35 points × (correct + carried_credit × carried) / its gradable
cells; the total is the sum over rounds.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from grading.engine import CellId, cell_name, single_layer_cell, Spec, answer_key, build_graph, parse_spec
from grading.marking import CellMark, MarkingRules, band, mark_tables, round_score, summarize_mistakes
from grading.mistakes import MISTAKES, get_mistake, mistake_graph, mistake_key

ROOT = Path(__file__).resolve().parent.parent
POINTS = 35.0


def hw_data() -> dict[str, Any]:
    return json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())


def make_spec(**changes: Any) -> Spec:
    """Homework 4.1's spec with only the given fields changed."""
    return parse_spec({**hw_data(), **changes})


# ------------------------------------------------------------------ writing a number down

def rounded(d: int) -> Callable[[float], str]:
    return lambda v: f"{v:.{d}f}"


def truncated(d: int) -> Callable[[float], str]:
    return lambda v: str(Decimal(repr(v)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_DOWN))


def in_full(v: float) -> str:
    return repr(v)


# ------------------------------------------------------------------ a synthetic student

@dataclass
class Slip:
    change: Callable[[float, dict[CellId, float]], float]  # (value, student's values so far)
    mistake: str | None = None  # the mistake id the marker should name, if any


@dataclass
class Student:
    name: str
    spec: Spec
    typed: dict[CellId, str]
    expected: dict[CellId, tuple[str, str | None]]
    rules: MarkingRules = field(default_factory=MarkingRules)
    gamer: bool = False

    def answers(self) -> dict[str, Any]:
        """The typed cells in the answers JSON shape."""
        rounds: dict[int, dict[str, Any]] = {}
        for k, text in self.typed.items():
            table = rounds.setdefault(k.round, {"round": k.round})
            table.setdefault(k.column, {})[cell_name(k, 1)] = text
        return {"rounds": [rounds[r] for r in sorted(rounds)]}


def work(spec: Spec, *, write: Callable[[float], str], mistake: str | None = None,
         slips: dict[CellId, Slip] | None = None, blank: set[CellId] = frozenset(),
         rules: MarkingRules | None = None, name: str = "") -> Student:
    """Run a student's script through the graph and derive every cell's expected mark (see top)."""
    # The catalogue checks the carrying itself: every slip carried as it always was (the
    # policy "carry"). What the default policy does with a root no honest slip explains (its
    # cells wait for review) is tests/test_roots.py's.
    rules = rules or MarkingRules(unexplained_roots="carry")
    slips = slips or {}
    tol = band(rules.decimals)
    right_graph = build_graph(spec)
    own_graph = mistake_graph(spec, mistake) if mistake else right_graph
    key = answer_key(spec).values
    vals: dict[CellId, float] = {}
    places: dict[CellId, int] = {}
    typed: dict[CellId, str] = {}
    expected: dict[CellId, tuple[str, str | None]] = {}
    for k, cell in own_graph.cells.items():
        if cell.given:
            vals[k] = cell.value
            continue
        right_cell = right_graph[k]
        right = right_cell.fn(*(vals[d] for d in right_cell.deps))
        produced = cell.fn(*(vals[d] for d in cell.deps))
        label = mistake if abs(produced - right) >= tol else None
        if k in slips:
            produced = slips[k].change(produced, vals)
            label = slips[k].mistake
        text = write(produced)
        vals[k] = float(text)
        places[k] = -Decimal(text).as_tuple().exponent  # type: ignore[operator]
        if not right_cell.gradable:
            continue
        changed = abs(produced - right) >= tol
        if k in blank:
            expected[k] = ("blank", None)
            continue
        typed[k] = text
        if abs(vals[k] - key[k]) < tol:
            expected[k] = ("correct", None)
        elif any(d in blank for d in right_cell.deps) and not from_y_minus_f(k, vals, typed, spec):
            expected[k] = ("incorrect", None)
        elif changed:
            # A slip must be clear of the band's edge, or the script says nothing certain.
            assert abs(produced - right) >= 3 * tol, f"{name}: ambiguous slip at {k}"
            expected[k] = ("incorrect", label)
        elif abs(vals[k] - right) < tol or within_band(vals[k], rounding_range(
                right_cell, vals, places, rules.decimals), tol):
            expected[k] = ("carried", None)
        else:
            expected[k] = ("incorrect", None)
    return Student(name, spec, typed, apply_round_rule(expected, rules), rules)


def from_y_minus_f(k: CellId, vals: dict[CellId, float], typed: dict[CellId, str], spec: Spec) -> bool:
    """The output's dL/df = −(y − f) worked from the student's own typed y − f (Mazur's way):
    carried even where f itself was left blank (half-SSE, one layer: the catalogue's networks)."""
    if k.quantity != "dL/df" or spec.loss != "half_sse":
        return False
    y_minus_f = CellId(k.round, "forward", None, "y-f", k.index)
    return y_minus_f in typed and abs(vals[k] + vals[y_minus_f]) < 0.51e-4


def rounding_range(cell: Any, vals: dict[CellId, float], places: dict[CellId, int],
                   decimals: int) -> tuple[float, float]:
    """Lowest and highest value of the cell's formula over what its typed upstream values stand
    for (given values exact). Every formula here is monotone in each input except x² and
    f(1 − f), so the box's corners and those turning points (0, 1/2) give the range."""
    choices = []
    for d in cell.deps:
        v = vals[d]
        if d not in places:
            choices.append([v])
            continue
        half = 0.5 * 10.0 ** -max(places[d], decimals)
        choices.append([v - half, v + half] + [t for t in (0.0, 0.5) if v - half < t < v + half])
    outs = [cell.fn(*point) for point in itertools.product(*choices)]
    return min(outs), max(outs)


def within_band(value: float, span: tuple[float, float], tol: float) -> bool:
    return span[0] - tol < value < span[1] + tol


def apply_round_rule(expected: dict[CellId, tuple[str, str | None]],
                     rules: MarkingRules) -> dict[CellId, tuple[str, str | None]]:
    """Rule 6: a round with more than ``max_wrong_share`` of its answers incorrect carries nothing."""
    out = dict(expected)
    for r in {k.round for k in expected}:
        statuses = [st for k, (st, _) in expected.items() if k.round == r and st != "blank"]
        if statuses.count("incorrect") > rules.max_wrong_share * len(statuses):
            out.update({k: ("incorrect", None) for k, (st, _) in expected.items()
                        if k.round == r and st == "carried"})
    return out


def gamer(spec: Spec, name: str, typed: dict[CellId, str]) -> Student:
    """A student trying to harvest carried credit: correct only where the key agrees, nothing carried."""
    key = answer_key(spec).values
    tol = band(4)
    expected = {c.key: ("correct" if abs(float(typed[c.key]) - key[c.key]) < tol else "incorrect", None)
                for c in build_graph(spec).gradable()}
    return Student(name, spec, typed, expected, gamer=True)


def everywhere(spec: Spec, text: str) -> dict[CellId, str]:
    return {c.key: text for c in build_graph(spec).gradable()}


def printed_key_student() -> Student:
    """The seed's printed key typed in as is: only its two typo cells are wrong."""
    spec = make_spec()
    printed = json.loads((ROOT / "tests" / "data" / "printed_key_4_1.json").read_text())
    gradable = {c.key for c in build_graph(spec).gradable()}
    typed = {single_layer_cell(t["round"], col, n): v for t in printed["rounds"] for col in
             ("parameters", "forward", "backward", "updated") for n, v in t[col].items()}
    typed = {k: v for k, v in typed.items() if k in gradable}
    typos = {single_layer_cell(3, "forward", "f2"), single_layer_cell(4, "forward", "f2")}
    key = answer_key(spec).values
    expected = {k: ("incorrect", None) if k in typos else
                ("correct" if abs(float(v) - key[k]) < band(4) else "carried", None)
                for k, v in typed.items()}
    return Student("printed key, typos included", spec, typed, expected)


def sign_zero_gamer() -> Student:
    """s = 0 (so f = σ(0) = 0.5), then honest work from there: the trivial cells earn nothing."""
    spec = make_spec()
    s = work(spec, write=rounded(4), slips={
        single_layer_cell(r, "forward", f"s{j}"): Slip(lambda v, _: 0.0) for r in (1, 2, 3, 4) for j in (1, 2)},
        name="s = 0")
    # The plausibility rule refuses carried credit on a wrong upstream value that is 0, an f of
    # σ(0) = 0.5, or a value typed in more than 5 cells of the round (max_repeats).
    key, graph = answer_key(spec).values, build_graph(spec)
    for k, (status, _) in list(s.expected.items()):
        counts = Counter(float(t) for c, t in s.typed.items() if c.round == k.round)

        def trivial(d: CellId) -> bool:
            v = float(s.typed[d])
            return abs(v - key[d]) >= band(4) and (
                v == 0 or (cell_name(d, 1)[0] == "f" and v == 0.5) or counts[v] > 5)

        if status == "carried" and any(graph[d].gradable and trivial(d) for d in graph[k].deps):
            s.expected[k] = ("incorrect", None)
    s.expected = apply_round_rule(s.expected, s.rules)
    s.name = "s = 0 then honest"
    return s


S1 = single_layer_cell(1, "forward", "s1")


def catalogue() -> list[Student]:
    hw, r4 = make_spec(), rounded(4)
    students = [
        work(hw, write=r4, name="rounds to 4 decimals and carries (drift)"),
        work(hw, write=rounded(6), name="writes 6 decimals"),
        work(hw, write=in_full, name="writes full precision"),
        work(hw, write=rounded(2), rules=MarkingRules(decimals=2), name="2-decimal assignment, drift"),
        work(hw, write=r4, slips={S1: Slip(lambda v, _: v + 0.01)}, name="arithmetic slip in round 1 s1"),
        work(hw, write=r4, slips={single_layer_cell(2, "backward", "dL/ds1"): Slip(lambda v, _: v * 1.2)},
             name="slip in round 2 dL/ds1"),
        work(hw, write=r4, slips={single_layer_cell(1, "updated", "w21"): Slip(
            lambda v, own: own[single_layer_cell(1, "parameters", "w21")] + own[single_layer_cell(1, "backward", "dL/dw21")],
            "gradient_added")}, name="sign error in one update"),
        work(hw, write=truncated(4), name="truncates instead of rounding"),
        work(hw, write=r4, slips={S1: Slip(lambda v, _: v + 0.01)}, blank={single_layer_cell(1, "forward", "f1")},
             name="slip in s1, f1 left blank"),
        work(hw, write=r4, blank={k for k in answer_key(hw).values if k.round >= 3},
             name="rounds 3 and 4 left blank"),
        work(make_spec(weights=[[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]], samples=[
            {"x": [0.4, 0.8, 0.1], "y": [1, 0]}, {"x": [0.9, 0.2, 0.5], "y": [0, 1]}]),
             write=r4, slips={single_layer_cell(1, "forward", "s2"): Slip(lambda v, _: v - 0.02)}, name="3×2 slip"),
        work(make_spec(weights=[[0.7]], biases=[-0.2], samples=[
            {"x": [0.5], "y": [1]}, {"x": [0.3], "y": [0]}]), write=r4, name="1×1 drift"),
        work(hw, write=r4, mistake="no_half", slips={S1: Slip(lambda v, _: v + 0.01)},
             name="slip in s1 and loss without ½"),
        printed_key_student(),
        sign_zero_gamer(),
        gamer(hw, "zeros everywhere", everywhere(hw, "0")),
        gamer(hw, "the same number everywhere", everywhere(hw, "0.3000")),
        gamer(hw, "0.5 everywhere", everywhere(hw, "0.5")),
        f_copied_from_y(hw),
    ]
    for mistake in MISTAKES:
        spec = make_spec(learning_rate=0.5) if mistake.id == "no_learning_rate" else hw
        students.append(work(spec, write=r4, mistake=mistake.id, name=f"mistake {mistake.id}"))
    return students


def f_copied_from_y(spec: Spec) -> Student:
    """f = y, then everything else worked out honestly from it: no carried credit at all."""
    s = work(spec, write=rounded(4), slips={
        single_layer_cell(r, "forward", f"f{j}"): Slip(lambda v, _, r=r, j=j: spec.samples[r - 1].y[j - 1])
        for r in range(1, spec.n_rounds + 1) for j in (1, 2)})
    return gamer(spec, "f copied from y", s.typed)


CATALOGUE = catalogue()


def test_catalogue_is_large_enough() -> None:
    """The catalogue holds at least 20 students, every named mistake among them."""
    assert len(CATALOGUE) >= 20
    assert {m.id for m in MISTAKES} <= {s.name.removeprefix("mistake ") for s in CATALOGUE}


def expected_score(student: Student, r: int) -> float:
    cells = [st for k, (st, _) in student.expected.items() if k.round == r]
    got = sum(1.0 if st == "correct" else student.rules.carried_credit if st == "carried" else 0.0
              for st in cells)
    return POINTS * got / len(cells)


@pytest.mark.parametrize("student", CATALOGUE, ids=lambda s: s.name)
def test_every_cell_and_score(student: Student) -> None:
    """Each student's every cell gets the status (and mistake) the script implies, and the score."""
    key = answer_key(student.spec)
    marks = mark_tables(key, student.answers(), student.rules)
    assert [(m.round, m.column, m.name) for m in marks] == [(c.round, c.column, c.name) for c in key.graph.gradable()]
    got = {single_layer_cell(m.round, m.column, m.name): (m.status, m.mistake) for m in marks}
    wrong = {k: (got[k], student.expected[k]) for k in got if got[k] != student.expected[k]}
    assert not wrong, f"{len(wrong)} cells differ, e.g. {list(wrong.items())[:4]}"
    for r in range(1, student.spec.n_rounds + 1):
        assert round_score(marks, r, POINTS) == pytest.approx(expected_score(student, r))


@pytest.mark.parametrize("student", [s for s in CATALOGUE if s.gamer], ids=lambda s: s.name)
def test_gamers_collect_no_carried_credit(student: Student) -> None:
    """Zeros, the same number everywhere, f copied from y: no carried credit in any round."""
    marks = mark_tables(answer_key(student.spec), student.answers())
    assert sum(m.credit for m in marks if m.status == "carried") == 0
    assert all(m.status != "carried" for m in marks)


def test_gamers_get_carried_credit_without_the_rules() -> None:
    """The anti-gaming rules are what stops them: with follow-through alone, f = y would pay."""
    student = next(s for s in CATALOGUE if s.name == "f copied from y")
    loose = MarkingRules(max_wrong_share=1.0, unexplained_roots="carry")
    marks = mark_tables(answer_key(student.spec), student.answers(), loose)
    # Only the parameters copied between rounds survive plausibility; the round rule stops them.
    carried = [m for m in marks if m.status == "carried"]
    assert carried and all(m.column in ("parameters", "forward") for m in carried)
    strict = mark_tables(answer_key(student.spec), student.answers())
    assert not [m for m in strict if m.status == "carried"]


def test_carried_cap_limits_each_round() -> None:
    """With carried_cap lowered, no round earns carried credit on more than that share of cells."""
    student = next(s for s in CATALOGUE if s.name == "arithmetic slip in round 1 s1")
    for cap in (0.0, 0.25, 0.5):
        marks = mark_tables(answer_key(student.spec), student.answers(), MarkingRules(carried_cap=cap))
        for r in range(1, 5):
            mine = [m for m in marks if m.round == r]
            carried = [m for m in mine if m.status == "carried"]
            assert len(carried) <= math.floor(cap * len(mine))
    uncapped = mark_tables(answer_key(student.spec), student.answers())
    assert sum(m.status == "carried" for m in uncapped if m.round == 2) > 0.25 * 31


def test_partial_carried_credit() -> None:
    """carried_credit = 0.5 gives carried cells half credit, and the score follows."""
    student = next(s for s in CATALOGUE if s.name == "arithmetic slip in round 1 s1")
    rules = MarkingRules(carried_credit=0.5)
    marks = mark_tables(answer_key(student.spec), student.answers(), rules)
    assert {m.credit for m in marks if m.status == "carried"} == {0.5}
    student.rules = rules
    try:
        assert round_score(marks, 2, POINTS) == pytest.approx(expected_score(student, 2))
    finally:
        student.rules = MarkingRules()


def marks_of(name: str) -> dict[CellId, CellMark]:
    student = next(s for s in CATALOGUE if s.name == name)
    marks = mark_tables(answer_key(student.spec), student.answers(), student.rules)
    return {single_layer_cell(m.round, m.column, m.name): m for m in marks}


def test_carried_message_names_the_wrong_upstream_value() -> None:
    """A carried cell says which of the student's values it used, as they typed it."""
    marks = marks_of("arithmetic slip in round 1 s1")
    f1 = marks[single_layer_cell(1, "forward", "f1")]
    assert f1.status == "carried"
    typed_s1 = marks[S1].given
    assert f1.message == f"correct given your s1 = {typed_s1}"
    assert f1.upstream == {"s1": float(typed_s1)}
    assert marks[S1].status == "incorrect" and marks[S1].upstream == {}


def test_blank_upstream_says_so() -> None:
    """A cell after a blank one gets no carried credit and is told why."""
    marks = marks_of("slip in s1, f1 left blank")
    assert "f1 is blank" in marks[single_layer_cell(1, "forward", "y1-f1")].message


def test_truncation_hint() -> None:
    """A truncating student's wrong cells say they look truncated."""
    marks = marks_of("truncates instead of rounding")
    wrong = [m for m in marks.values() if m.status == "incorrect"]
    assert wrong and all("truncated" in m.hint and m.hint in m.message for m in wrong)


def test_mistake_message_and_summary() -> None:
    """A named mistake's cells carry its explanation; the summary lists it once with its cells."""
    marks = list(marks_of("mistake no_sigmoid_derivative").values())
    mistake = get_mistake("no_sigmoid_derivative")
    labelled = [m for m in marks if m.mistake == mistake.id]
    assert {m.name for m in labelled} == {"dL/ds1", "dL/ds2"}
    assert all(mistake.explanation in m.message for m in labelled)
    assert all(set(m.upstream) == {f"dL/df{m.name[-1]}"} for m in labelled)
    summary = summarize_mistakes(marks)
    assert [s["id"] for s in summary] == [mistake.id]
    assert summary[0]["count"] == len(labelled) == 8
    assert {(c["round"], c["name"]) for c in summary[0]["cells"]} == {(m.round, m.name) for m in labelled}


def test_learning_rate_one_never_blames_the_learning_rate() -> None:
    """With lr = 1, leaving the learning rate out changes nothing and is never named."""
    spec = make_spec()
    assert mistake_key(spec, "no_learning_rate") == dict(answer_key(spec).values)
    for student in CATALOGUE:
        marks = mark_tables(answer_key(student.spec), student.answers(), student.rules)
        if student.spec.learning_rate == 1:
            assert all(m.mistake != "no_learning_rate" for m in marks)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_mistake_key_changes_only_downstream_of_its_cells(mistake: Any) -> None:
    """A mistake's tables agree with the key up to its first mistaken cell of round 1."""
    spec = make_spec(learning_rate=0.5)
    key, wrong = answer_key(spec).values, mistake_key(spec, mistake.id)
    first = min(list(key).index(a.cell.at(1)) for a in mistake.alternatives(2, 2, 0.5))
    for k in list(key)[:first]:
        assert wrong[k] == key[k]
    assert any(abs(wrong[k] - key[k]) > 1e-6 for k in key)


def test_mistake_key_formulas() -> None:
    """mistake_key's mistaken cells are the formulas the mistakes name, on the student's own cells."""
    spec = make_spec()
    k = lambda c, n: single_layer_cell(1, c, n)  # noqa: E731
    v = mistake_key(spec, "no_half")
    assert v[k("backward", "dL/df1")] == pytest.approx(2 * (v[k("forward", "f1")] - 1))
    v = mistake_key(spec, "derivative_from_s")
    s = v[k("forward", "s2")]
    assert v[k("backward", "dL/ds2")] == pytest.approx(v[k("backward", "dL/df2")] * s * (1 - s))
    v = mistake_key(spec, "index_swapped")
    assert v[k("forward", "s1")] == pytest.approx(0.2 * 0.4 + 0.3 * 0.8 + 0.3)
    v = mistake_key(spec, "wrong_input")
    assert v[k("backward", "dL/dw11")] == pytest.approx(v[k("backward", "dL/ds1")] * 0.8)
    v = mistake_key(spec, "no_bias")
    assert v[k("forward", "s2")] == pytest.approx(0.3 * 0.4 + 0.5 * 0.8)
    v = mistake_key(spec, "gradient_added")
    assert v[k("updated", "b1")] == pytest.approx(0.3 + v[k("backward", "dL/db1")])
    with pytest.raises(ValueError, match="unknown mistake"):
        mistake_key(spec, "nope")


def test_mistakes_are_readable_data() -> None:
    """Every mistake has an id, a title, a one-sentence explanation and formulas for n×m."""
    assert len({m.id for m in MISTAKES}) == len(MISTAKES) >= 10
    for m in MISTAKES:
        assert m.title and m.explanation.endswith(".") and m.explanation.count(". ") == 0
        data = m.to_json(3, 3, 0.5)
        assert data["formulas"], m.id
        json.dumps(data)


@pytest.mark.parametrize("junk", [None, [], "x", {"rounds": "x"}, {"rounds": [1, None, {"round": "a"}]},
                                  {"rounds": [{"round": 1, "forward": ["0.46"]}]},
                                  {"rounds": [{"round": 1, "forward": {"s1": ["0.46"], "f1": 0.613014,
                                                                       "s2": True}}]}])
def test_junk_answers_never_raise(junk: Any) -> None:
    """Any shape of answers is marked: absent cells blank, odd values invalid, nothing raises."""
    key = answer_key(make_spec())
    marks = mark_tables(key, junk)
    assert len(marks) == len(key.graph.gradable())
    assert {m.status for m in marks} <= {"blank", "invalid", "correct"}
    assert all(isinstance(m.given, str) for m in marks)
