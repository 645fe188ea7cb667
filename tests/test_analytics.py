"""Class analytics from reports: pure functions, no database."""
import math

import pytest

from grading.figures import analytics
from grading.marking import CellMark
from grading.grade.report import CellRef, MistakeSummary, Report


def cell(r, column, name, status, mistake=None):
    return CellMark(round=r, column=column, name=name, given="", expected=0.0, status=status,
                    message="", credit=0.0, mistake=mistake, id=f"r{r}.{column}.{name}")


def report(cells=(), mistakes=()):
    """A report with just the cells and named mistakes a test needs."""
    return Report(grader_version="test", decimals=4, band=0.000051, cells=tuple(cells), formulas=(),
                  questions=(), total=0.0, max=100.0, max_with_extra=100.0,
                  mistakes=tuple(MistakeSummary(m, m, "", tuple(CellRef("x", 1, "forward", "s1")
                                                                for _ in range(n)))
                                 for m, n in mistakes))


CELLS = [("parameters", "w11"), ("forward", "s1"), ("updated", "w11")]


def test_wrong_share_counts_incorrect_and_invalid_and_blank_apart_but_not_carried():
    """A cell's wrong share is the fraction of reports where it is incorrect or invalid; its blank
    share, apart, the fraction where it is blank; carried counts as right."""
    reports = [
        report([cell(1, "forward", "s1", "correct"), cell(1, "updated", "w11", "incorrect")]),
        report([cell(1, "forward", "s1", "blank"), cell(1, "updated", "w11", "carried")]),
        report([cell(1, "forward", "s1", "invalid"), cell(1, "updated", "w11", "correct"),
                cell(2, "parameters", "w11", "incorrect")]),
        report([cell(1, "forward", "s1", "incorrect"), cell(2, "parameters", "w11", "blank")]),
    ]
    heat = analytics.wrong_share(reports, n_rounds=2, cells=CELLS)
    assert heat.rows == ("Round 1", "Round 2")
    assert heat.columns == ("old w11", "s1", "new w11")
    assert heat.shares[0][1] == pytest.approx(2 / 4) and heat.blank[0][1] == pytest.approx(1 / 4)
    assert heat.shares[0][2] == pytest.approx(1 / 3) and heat.blank[0][2] == 0.0
    assert heat.shares[1][0] == pytest.approx(1 / 2) and heat.blank[1][0] == pytest.approx(1 / 2)


def test_blank_extra_credit_cells_are_not_wrong_and_given_cells_are_given():
    """A skipped extra-credit round is all blank and no wrong; given cells are flagged as given."""
    reports = [report([cell(1, "forward", "s1", "correct"), cell(2, "forward", "s1", "blank"),
                       cell(2, "parameters", "w11", "blank")]) for _ in range(3)]
    heat = analytics.wrong_share(reports, n_rounds=2, cells=CELLS, given={(1, "parameters", "w11")})
    assert heat.shares[1][:2] == (0.0, 0.0) and heat.blank[1][:2] == (1.0, 1.0)
    assert heat.given == ((True, False, False), (False, False, False))


def test_wrong_share_marks_cells_nobody_has_as_nan():
    """Given cells (round 1's parameters) and empty classes are NaN, not "nobody wrong"."""
    heat = analytics.wrong_share([report([cell(1, "forward", "s1", "correct")])],
                                 n_rounds=1, cells=CELLS)
    assert math.isnan(heat.shares[0][0]) and heat.shares[0][1] == 0.0
    empty = analytics.wrong_share([], n_rounds=2, cells=CELLS)
    assert all(math.isnan(v) for row in empty.shares for v in row)


def test_wrong_share_ignores_unknown_cells_and_rounds():
    """Cells outside the requested columns or rounds do not break or skew the map."""
    heat = analytics.wrong_share([report([cell(9, "forward", "s1", "incorrect"),
                                          cell(1, "forward", "zz", "incorrect"),
                                          cell("1", "forward", "s1", "incorrect")])],
                                 n_rounds=1, cells=CELLS)
    assert all(math.isnan(v) for v in heat.shares[0])


def test_mistake_counts_count_students_not_cells_and_list_every_mistake():
    """A mistake counts once per student however many cells it hit; unseen ones show 0."""
    reports = [
        report(mistakes=[("no_half", 3)]),
        report([cell(1, "backward", "dL/df1", "incorrect", "no_half"),
                cell(2, "backward", "dL/df1", "incorrect", "no_half")], mistakes=[("no_half", 2)]),
        report(mistakes=[("odd_one", 1)]),
    ]
    counts = analytics.mistake_counts(reports, [("no_half", "Loss without the ½"),
                                                ("sign_flipped", "Sign flipped")])
    assert counts == [("no_half", "Loss without the ½", 2), ("sign_flipped", "Sign flipped", 0),
                      ("odd_one", "odd_one", 1)]


def test_shared_wrong_values_pairs_students_by_identical_wrong_text():
    """Pairs are ranked by how many identical wrong values they share; common mistakes and
    single coincidences are left out."""
    wrong = {
        "ann": [("r1.forward.s1", "0.4700"), ("r1.forward.f1", "0.6154"), ("r1.backward.dL/df1", "0.12")],
        "ben": [("r1.forward.s1", "0.4700 "), ("r1.forward.f1", "0.6154"), ("r1.backward.dL/df1", "0.12")],
        "cat": [("r1.forward.s1", "0.4700"), ("r1.forward.f1", "0.6154")],
        "dan": [("r1.forward.s1", "0.4800")],
        "eve": [("r2.forward.s1", "0.1")], "fay": [("r2.forward.s1", "0.1")],
        **{f"other{k}": [] for k in range(10)},
    }
    pairs = analytics.shared_wrong_values(wrong)
    assert [(p.first, p.second, p.count) for p in pairs] == [
        ("ann", "ben", 3), ("ann", "cat", 2), ("ben", "cat", 2)]
    assert pairs[0].cells == ("r1.backward.dL/df1", "r1.forward.f1", "r1.forward.s1")
    # In a class of 5, a value 3 students typed is a common mistake (more than a fifth): not a signal.
    small = {k: v for k, v in wrong.items() if k in {"ann", "ben", "cat", "dan", "eve"}}
    assert [(p.first, p.second) for p in analytics.shared_wrong_values(small)] == []


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("alice", "alice"), ("", ""), (-2.5, -2.5), (35, 35),
])
def test_csv_safe_defuses_formula_text_only(text, safe):
    """Text starting with = + - @ tab or CR gets a quote; numbers we computed pass unchanged."""
    assert analytics.csv_safe(text) == safe


def test_the_loss_without_its_half_is_one_mistake_in_l_and_in_dl_df():
    """Writing L = Σ(y − f)² and writing dL/df = 2(f − y) are one misconception: one catalogue
    entry holds both formulas, and no other entry of Homework 4.1's catalogue writes either cell."""
    from grading.engine import Shape
    from grading.mistakes import catalogue

    shape = Shape.single(2, 2)
    for_l = {m.id for m in catalogue(shape, 1.0) for a in m.alternatives(shape, 1.0)
             if a.cell.quantity == "L"}
    for_df = {m.id for m in catalogue(shape, 1.0) for a in m.alternatives(shape, 1.0)
              if a.cell.quantity == "dL/df" and a.formula.startswith("2*")}
    assert for_l == for_df == {"no_half"}
    titles = [str(m.title) for m in catalogue(shape, 1.0)]
    assert len(titles) == len(set(titles))


def test_reports_graded_under_the_old_id_of_a_merged_mistake_count_on_its_one_line():
    """A report from before the merge ("loss_no_half") and one after ("no_half"), and one with
    both: one line, three students."""
    reports = [report(mistakes=[("loss_no_half", 4)]), report(mistakes=[("no_half", 4)]),
               report(mistakes=[("no_half", 4), ("loss_no_half", 4)])]
    counts = analytics.mistake_counts(reports, [("no_half", "Loss without the ½")])
    assert counts == [("no_half", "Loss without the ½", 3)]
