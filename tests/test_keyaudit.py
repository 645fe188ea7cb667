"""The key audit: every printed number that disagrees with the math at its own printed precision,
classified as typo, carried or last_digit; Homework 4.1's printed key first."""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from grading.engine import parse_spec
from grading.keyaudit import PrintedKeyError, audit, from_csv, from_json, from_text
from tests import refnet

ROOT = Path(__file__).resolve().parent.parent
HW = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())
PRINTED_JSON = json.loads((ROOT / "tests" / "data" / "printed_key_4_1.json").read_text())
PRINTED_TEXT = (ROOT / "tests" / "data" / "printed_key_4_1.txt").read_text()
COLUMNS = ("parameters", "forward", "backward", "updated")


def exact_cells(spec: dict) -> dict[tuple[int, str, str], float]:
    """Every cell of a one-layer spec in today's names, from the reference (not the engine)."""
    t, out = refnet.trace(spec), {}
    n, m = len(spec["weights"]), len(spec["biases"])
    for r, sample in enumerate(spec["samples"], start=1):
        for i in range(1, n + 1):
            out[(r, "parameters", f"x{i}")] = sample["x"][i - 1]
        for j in range(1, m + 1):
            out[(r, "parameters", f"y{j}")] = sample["y"][j - 1]
            for i in range(1, n + 1):
                out[(r, "parameters", f"w{i}{j}")] = (spec["weights"][i - 1][j - 1] if r == 1
                                                      else t[(r - 1, "updated", "w", 1, (i, j))])
                out[(r, "backward", f"dL/dw{i}{j}")] = t[(r, "backward", "dL/dw", 1, (i, j))]
                out[(r, "updated", f"w{i}{j}")] = t[(r, "updated", "w", 1, (i, j))]
            out[(r, "parameters", f"b{j}")] = (spec["biases"][j - 1] if r == 1
                                               else t[(r - 1, "updated", "b", 1, (j,))])
            for q in ("s", "f"):
                out[(r, "forward", f"{q}{j}")] = t[(r, "forward", q, 1, (j,))]
            d = t[(r, "forward", "y-f", None, (j,))]
            out[(r, "forward", f"y{j}-f{j}")] = d
            out[(r, "forward", f"(y{j}-f{j})^2")] = d * d
            for q in ("dL/df", "dL/ds", "dL/db"):
                out[(r, "backward", f"{q}{j}")] = t[(r, "backward", q, 1, (j,))]
            out[(r, "updated", f"b{j}")] = t[(r, "updated", "b", 1, (j,))]
        out[(r, "forward", "L")] = t[(r, "forward", "L", None, ())]
    return out


def printed_cells(printed: dict) -> dict[tuple[int, str, str], str]:
    return {(t["round"], column, name): text for t in printed["rounds"]
            for column in COLUMNS for name, text in t.get(column, {}).items()}


def off_at_printed_precision(text: str, exact: float) -> Decimal:
    """|printed - exact| in units of the printed number's last place."""
    unit = Decimal(1).scaleb(Decimal(text).as_tuple().exponent)
    return abs(Decimal(text) - Decimal(exact)) / unit


def found(spec: dict, printed: list) -> dict[tuple[int, str, str], str]:
    return {(d.round, d.column, d.name): d.kind for d in audit(parse_spec(spec), printed)}


# ---------------------------------------------------------------- Homework 4.1's printed key

# What the homework's printed tables get wrong, from the tables themselves (see test_engine.py):
# * round 2 updated b2 is printed 0.106239, but the table's own b2 - 1 * dL/db2 is
#   0.254305 - 0.148026 = 0.106279: a typo (4 in the fifth place for 8);
# * round 3 parameters b2 copies that 0.106239: carried (round 3's s2 = 0.206998 was computed
#   with 0.106279, so only the copy is wrong);
# * round 3 f2 0.551654 (the math: 0.551565) and round 4 f2 0.592438 (0.593438): typos, the
#   rows' own y2 - f2 say so;
# * round 4 updated b1 is printed 0.177970; the table's b1 - dL/db1 = 0.323133 - 0.145164 =
#   0.177969 and the math 0.1779692: one unit of the last place, a rounding slip.
HOMEWORK_DISAGREEMENTS = {
    (2, "updated", "b2"): "typo",
    (3, "parameters", "b2"): "carried",
    (3, "forward", "f2"): "typo",
    (4, "forward", "f2"): "typo",
    (4, "updated", "b1"): "last_digit",
}


def test_the_homeworks_own_numbers_back_the_expected_list() -> None:
    """The list above follows from the printed numbers and the math of the reference."""
    printed, exact = printed_cells(PRINTED_JSON), exact_cells(HW)
    assert Decimal("0.254305") - Decimal("0.148026") == Decimal("0.106279")
    assert Decimal("0.323133") - Decimal("0.145164") == Decimal("0.177969")
    assert len(printed) == 140 and set(printed) == set(exact)
    off = {cell: off_at_printed_precision(text, exact[cell]) for cell, text in printed.items()}
    assert {cell for cell, units in off.items() if units > Decimal("0.5")} == set(HOMEWORK_DISAGREEMENTS)
    assert off[(4, "updated", "b1")] <= 1 and all(off[c] > 30 for c, kind in
                                                  HOMEWORK_DISAGREEMENTS.items() if kind != "last_digit")


def test_the_audit_of_the_homeworks_printed_key_names_each_typo_and_nothing_else() -> None:
    """The three typos, the carried copy and the one last-digit slip, each with the math's value."""
    result = audit(parse_spec(HW), from_json(PRINTED_JSON))
    assert {(d.round, d.column, d.name): d.kind for d in result} == HOMEWORK_DISAGREEMENTS
    exact = exact_cells(HW)
    for d in result:
        assert d.printed == printed_cells(PRINTED_JSON)[(d.round, d.column, d.name)]
        assert d.expected == pytest.approx(exact[(d.round, d.column, d.name)], abs=1e-12)
    assert [(d.round, d.column, d.name) for d in result] == sorted(HOMEWORK_DISAGREEMENTS, key=lambda c: (
        c[0], COLUMNS.index(c[1])))  # in the tables' order


def test_the_homeworks_tables_pasted_as_text_read_as_the_json() -> None:
    """The handout's tables copied as text (rows of $...$ cells under "1st round" headings) give the
    same 140 printed numbers in the same columns, and the same audit."""
    from_text_cells = found(HW, from_text(PRINTED_TEXT))
    assert from_text_cells == HOMEWORK_DISAGREEMENTS
    spec = parse_spec(HW)
    by_text = audit(spec, from_text(PRINTED_TEXT))
    assert by_text == audit(spec, from_json(PRINTED_JSON))
    # The columns: the updated w11 sits beside x1 and the parameter w11 rows below it.
    texts = {(p.round, p.name): p for p in from_text(PRINTED_TEXT)}
    assert len(from_text(PRINTED_TEXT)) == 140 and texts[(2, "L")].text == "0.275138"


def test_the_homeworks_key_as_csv_reads_as_the_json() -> None:
    """round,column,name,value rows give the same audit."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["round", "column", "name", "value"])
    for (r, column, name), text in printed_cells(PRINTED_JSON).items():
        writer.writerow([r, column, name, text])
    assert found(HW, from_csv(out.getvalue())) == HOMEWORK_DISAGREEMENTS


# ---------------------------------------------------------------- a lecturer, simulated


def lecturer(spec: dict, places: int, *, slip: tuple | None = None, carry_rounded: bool = False,
             misprint: tuple | None = None) -> dict:
    """A lecturer filling the tables by the homework's formulas, printing ``places`` decimals.

    ``slip`` = (round, column, name, delta): a mistake in working, carried on into every later
    cell. ``misprint`` = (round, column, name, text): only the printed text is wrong.
    ``carry_rounded``: works on with each value rounded to ``places``.
    """
    W, B, lr = copy.deepcopy(spec["weights"]), list(spec["biases"]), spec["learning_rate"]
    n, m = len(W), len(B)
    rounds = []
    for r, sample in enumerate(spec["samples"], start=1):
        table = {"round": r, **{c: {} for c in COLUMNS}}

        def cell(column, name, value):
            if slip and slip[:3] == (r, column, name):
                value += slip[3]
            if carry_rounded:
                value = round(value, places)
            table[column][name] = value
            return value

        x = [cell("parameters", f"x{i + 1}", v) for i, v in enumerate(sample["x"])]
        y = [cell("parameters", f"y{j + 1}", v) for j, v in enumerate(sample["y"])]
        w = {(i, j): cell("parameters", f"w{i + 1}{j + 1}", W[i][j]) for i in range(n) for j in range(m)}
        b = [cell("parameters", f"b{j + 1}", B[j]) for j in range(m)]
        s = [cell("forward", f"s{j + 1}", sum(w[i, j] * x[i] for i in range(n)) + b[j]) for j in range(m)]
        f = [cell("forward", f"f{j + 1}", 1 / (1 + math.exp(-s[j]))) for j in range(m)]
        d = [cell("forward", f"y{j + 1}-f{j + 1}", y[j] - f[j]) for j in range(m)]
        sq = [cell("forward", f"(y{j + 1}-f{j + 1})^2", d[j] ** 2) for j in range(m)]
        cell("forward", "L", sum(sq) / 2)
        df = [cell("backward", f"dL/df{j + 1}", f[j] - y[j]) for j in range(m)]
        ds = [cell("backward", f"dL/ds{j + 1}", df[j] * f[j] * (1 - f[j])) for j in range(m)]
        db = [cell("backward", f"dL/db{j + 1}", ds[j]) for j in range(m)]
        dw = {(i, j): cell("backward", f"dL/dw{i + 1}{j + 1}", ds[j] * x[i]) for j in range(m) for i in range(n)}
        W = [[cell("updated", f"w{i + 1}{j + 1}", w[i, j] - lr * dw[i, j]) for j in range(m)] for i in range(n)]
        B = [cell("updated", f"b{j + 1}", b[j] - lr * db[j]) for j in range(m)]
        for column in COLUMNS:
            table[column] = {name: f"{v:.{places}f}" for name, v in table[column].items()}
        if misprint and misprint[0] == r:
            table[misprint[1]][misprint[2]] = misprint[3]
        rounds.append(table)
    return {"rounds": rounds}


def disagreeing(spec: dict, printed: dict) -> set[tuple[int, str, str]]:
    exact = exact_cells(spec)
    return {cell for cell, text in printed_cells(printed).items()
            if off_at_printed_precision(text, exact[cell]) > Decimal("0.5")}


def test_a_careful_lecturer_has_no_disagreement() -> None:
    """Full precision, rounded only when printed: nothing is flagged, at 4 or 6 places."""
    for places in (4, 6):
        assert found(HW, from_json(lecturer(HW, places))) == {}


def test_a_slip_carried_through_the_tables_is_one_typo_and_the_rest_carried() -> None:
    """A slip in round 1's dL/ds2, worked on by the lecturer: that cell is the typo, and every later
    cell it changed is carried, through all four rounds."""
    printed = lecturer(HW, 6, slip=(1, "backward", "dL/ds2", 0.01))
    changed = disagreeing(HW, printed)
    assert (4, "updated", "b2") in changed and len(changed) > 40  # it runs on to the end
    expected = {cell: "carried" for cell in changed}
    expected[(1, "backward", "dL/ds2")] = "typo"
    assert found(HW, from_json(printed)) == expected


def test_a_misprint_not_worked_on_is_a_typo_alone() -> None:
    """A wrong digit in round 3's printed w21, the working right: only that cell is flagged."""
    printed = lecturer(HW, 6, misprint=(3, "parameters", "w21", "0.238518"))
    assert found(HW, from_json(printed)) == {(3, "parameters", "w21"): "typo"}


def test_a_given_number_misprinted_is_a_typo() -> None:
    """An input printed wrong (x1 = 0.48 where the spec has 0.4) is a typo; it has no upstream.
    (0.5 would be a last-digit slip: one unit of its one printed place.)"""
    assert found(HW, from_json(lecturer(HW, 6, misprint=(1, "parameters", "x1", "0.5")))) \
        == {(1, "parameters", "x1"): "last_digit"}
    printed = lecturer(HW, 6, misprint=(1, "parameters", "x1", "0.48"))
    assert found(HW, from_json(printed)) == {(1, "parameters", "x1"): "typo"}


def test_one_unit_off_in_the_last_place_is_a_last_digit_slip() -> None:
    """0.613015 for round 1's f1 (0.6130140...): one unit off, a last-digit slip; two units, a typo."""
    assert found(HW, from_json(lecturer(HW, 6, misprint=(1, "forward", "f1", "0.613015")))) \
        == {(1, "forward", "f1"): "last_digit"}
    assert found(HW, from_json(lecturer(HW, 6, misprint=(1, "forward", "f1", "0.613016")))) \
        == {(1, "forward", "f1"): "typo"}


def test_a_short_exact_upstream_value_does_not_excuse_a_typo() -> None:
    """s1 is printed 0.46 (exactly 0.46): a wrong f1 is not explained by 0.46 'standing for' 0.455..0.465."""
    printed = copy.deepcopy(PRINTED_JSON)
    printed["rounds"][0]["forward"]["f1"] = "0.613114"
    assert found(HW, from_json(printed))[(1, "forward", "f1")] == "typo"


def test_rounded_values_carried_on_are_rounding_not_typos() -> None:
    """A lecturer who works on with 4-place values drifts from the math by a few units of the 4th
    place: those are last-digit slips (explained by the printed values), never typos or carried."""
    printed = lecturer(HW, 4, carry_rounded=True)
    changed = disagreeing(HW, printed)
    assert len(changed) >= 3  # the drift is real, so the test means something
    assert found(HW, from_json(printed)) == {cell: "last_digit" for cell in changed}


def test_a_typo_on_top_of_rounded_working_is_still_found() -> None:
    """Rounded working plus one misprint: the misprint is the only typo."""
    printed = lecturer(HW, 4, carry_rounded=True, misprint=(2, "backward", "dL/dw21", "-0.0651"))
    kinds = found(HW, from_json(printed))
    assert {cell for cell, kind in kinds.items() if kind != "last_digit"} == {(2, "backward", "dL/dw21")}
    assert kinds[(2, "backward", "dL/dw21")] == "typo"


# ---------------------------------------------------------------- reading printed keys


def test_text_cells_in_their_many_printed_forms() -> None:
    """$..$ or bare, =$ value outside the math, fractions, a formula before the value, headings."""
    text = ("**Round 1**\n"
            "$x_1 =$ 0.4 | w_{11} = 0.2\n"
            "$f_1 = \\frac{1}{1 + e^{-s_1}} = 0.613014$\t$\\frac{dL}{dw_{12}} = 0.058278$\n"
            "$(y_2 - f_2)^2 = 0.511285$  L = 0.3305216\n"
            "Updated: $w_{11} = 0.236722$\n"
            "2nd round\n"
            "$b_2 = 0.254305$\n"
            "Round 3:\n"
            "y_2 - f_2 = \u22120.655562\n"
            "Round 4 (learning rate = 1): $x_1 = 0.2$\n")
    cells = [(p.round, p.name, p.text, p.line) for p in from_text(text)]
    assert cells == [(1, "x1", "0.4", 2), (1, "w11", "0.2", 2), (1, "f1", "0.613014", 3),
                     (1, "dL/dw12", "0.058278", 3), (1, "(y2-f2)^2", "0.511285", 4),
                     (1, "L", "0.3305216", 4), (1, "w11", "0.236722", 5), (2, "b2", "0.254305", 7),
                     (3, "y2-f2", "-0.655562", 9), (4, "x1", "0.2", 10)]


def test_columns_of_w_and_b_follow_the_table() -> None:
    """Copied column by column: the first w11 is the parameter, the one after the backward pass the
    updated value; copied row by row (the updated w11 beside x1): the same cells."""
    column_wise = "Round 1\nw_{11} = 0.2\ns_1 = 0.46\ndL/ds_1 = -0.091804\nw_{11} = 0.236722\n"
    row_wise = "Round 1\nx_1 = 0.4\ts_1 = 0.46\tdL/ds_1 = -0.091804\tw_{11} = 0.236722\nw_{11} = 0.2\n"
    for text in (column_wise, row_wise):
        spec = parse_spec(HW)
        printed = from_text(text)
        assert audit(spec, printed) == []
        wrong = from_text(text.replace("0.236722", "0.263722"))  # the updated w11 misprinted
        assert [(d.column, d.name, d.kind) for d in audit(spec, wrong)] == [("updated", "w11", "typo")]


@pytest.mark.parametrize("reader, source, message", [
    (from_text, "w_{11} = 0.2\nRound 1\n", "line 1: w11 = 0.2 comes before any round heading"),
    (from_text, "Round 1\nx_1 = 0.4.5\n", "line 2: '0.4.5' is not a plain decimal number"),
    (from_csv, "r,c,n,v\n", "line 1: the CSV header must be round,column,name,value"),
    (from_csv, "round,column,name,value\n1,forward,s1\n", "line 2: expected 4 fields"),
    (from_csv, "round,column,name,value\none,forward,s1,0.46\n", "line 2: round must be a whole number"),
    (from_csv, "round,column,name,value\n1,fwd,s1,0.46\n", "line 2: column must be one of"),
    (from_csv, "round,column,name,value\n1,forward,s1,1e-3\n", "line 2: '1e-3' is not a plain decimal"),
    (from_json, {"rounds": [{"round": 1, "forward": {"s1": 0.46}}]},
     'rounds[0].forward.s1 must be the printed text as a string ("0.177970" keeps its places'),
    (from_json, {"rounds": [{"round": 1, "forwards": {}}]}, "rounds[0] has unknown keys: forwards"),
    (from_json, {"rounds": [{"round": "1"}]}, 'rounds[0] must be an object with an integer "round"'),
    (from_json, [], 'the printed key must be a JSON object with a "rounds" list'),
])
def test_an_unreadable_printed_key_says_where(reader, source, message) -> None:
    """Each way a printed key can be unreadable is one message naming the line or the place."""
    with pytest.raises(PrintedKeyError) as caught:
        reader(source)
    assert message in str(caught.value)


@pytest.mark.parametrize("printed, message", [
    ({"rounds": [{"round": 5, "forward": {"s1": "0.46"}}]}, "round 5 forward s1: the problem has no such cell"),
    ({"rounds": [{"round": 1, "forward": {"s3": "0.46"}}]}, "round 1 forward s3: the problem has no such cell"),
    ({"rounds": [{"round": 1, "forward": {"s1": "0.46"}}, {"round": 1, "forward": {"s1": "0.46"}}]},
     "round 1 forward s1: printed twice"),
])
def test_a_printed_cell_the_problem_does_not_have_is_refused(printed, message) -> None:
    """A cell of another shape or round, or one printed twice, is an error, not silently skipped."""
    with pytest.raises(PrintedKeyError, match=message):
        audit(parse_spec(HW), from_json(printed))


def test_an_unknown_name_in_text_names_its_line() -> None:
    """Text naming no cell of the problem says which line."""
    with pytest.raises(PrintedKeyError, match=r"line 2: round 1 has no cell named 'z1'"):
        audit(parse_spec(HW), from_text("Round 1\nz_1 = 0.3\n"))


def test_a_hidden_layer_key_is_audited_in_the_layer_notation() -> None:
    """A 2-2-1 network's key printed to 6 places from the plain-Python reference, with one typo
    in round 1's updated w11[2] that round 2's parameter copies: the audit names the typo, the
    carried copy, and nothing else."""
    from tests.refnet import trace

    spec_json = {"layers": [{"weights": [[0.3, -0.2], [0.4, 0.1]], "biases": [0.1, -0.1], "activation": "sigmoid"},
                            {"weights": [[0.5], [-0.3]], "biases": [0.2], "activation": "sigmoid"}],
                 "loss": "half_sse", "learning_rate": 0.5,
                 "samples": [{"x": [0.5, 0.9], "y": [1]}, {"x": [0.2, 0.7], "y": [0]}]}
    values = trace(spec_json)

    def name(quantity: str, layer: int | None, index: tuple[int, ...]) -> str:
        if quantity == "y-f":
            return f"y{index[0]}-f{index[0]}"
        return quantity + "".join(map(str, index)) + (f"[{layer}]" if layer else "")

    round1: dict = {"round": 1}
    for (r, column, quantity, layer, index), value in values.items():
        if r == 1 and quantity != "y-f":
            round1.setdefault(column, {})[name(quantity, layer, index)] = f"{value:.6f}"
    right = round1["updated"]["w11[2]"]
    typo = right[:-3] + str((int(right[-3]) + 5) % 10) + right[-2:]  # a wrong third-last digit
    round1["updated"]["w11[2]"] = typo
    round2 = {"round": 2, "parameters": dict(round1["updated"])}  # copied, typo and all
    found = [(d.round, d.column, d.name, d.kind) for d in
             audit(parse_spec(spec_json), from_json({"rounds": [round1, round2]}))]
    assert found == [(1, "updated", "w11[2]", "typo"), (2, "parameters", "w11[2]", "carried")]


def test_hostile_text_is_read_in_linear_time_or_refused() -> None:
    """A line of nearly a million '=' without a number reads as no cells; more text is refused."""
    assert from_text("Round 1\n" + "a=" * 450_000) == []
    with pytest.raises(PrintedKeyError, match="longer than 1000000 characters"):
        from_text("x" * 1_000_001)


@pytest.mark.parametrize("printed", [
    from_text("Homework 4.1: the answer key\nSee the tables handed out in class.\n"),
    from_text("Round 1\nThe forward pass\n"),
    from_csv("round,column,name,value\n"),
    from_json({"rounds": []}),
    from_json({"rounds": [{"round": 1}]}),
])
def test_a_key_with_no_printed_number_is_refused_not_passed(printed) -> None:
    """Nothing read is nothing checked: the audit refuses, never says every number agrees."""
    assert printed == []
    with pytest.raises(PrintedKeyError, match="has no number this audit can read"):
        audit(parse_spec(HW), printed)
