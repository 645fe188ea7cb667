"""Class analytics from reports: pure functions, no database."""
import math

import pytest

from grading import analytics


def cell(r, column, name, status, mistake=None):
    return {"round": r, "column": column, "name": name, "status": status, "mistake": mistake}


CELLS = [("parameters", "w11"), ("forward", "s1"), ("updated", "w11")]


def test_wrong_share_counts_incorrect_blank_and_invalid_but_not_carried():
    """A cell's share is the fraction of reports where it is incorrect, blank or invalid."""
    reports = [
        {"cells": [cell(1, "forward", "s1", "correct"), cell(1, "updated", "w11", "incorrect")]},
        {"cells": [cell(1, "forward", "s1", "blank"), cell(1, "updated", "w11", "carried")]},
        {"cells": [cell(1, "forward", "s1", "invalid"), cell(1, "updated", "w11", "correct"),
                   cell(2, "parameters", "w11", "incorrect")]},
        {"cells": [cell(1, "forward", "s1", "incorrect"), cell(2, "parameters", "w11", "correct")]},
    ]
    heat = analytics.wrong_share(reports, n_rounds=2, cells=CELLS)
    assert heat.rows == ("Round 1", "Round 2")
    assert heat.columns == ("old w11", "s1", "new w11")
    assert heat.shares[0][1] == pytest.approx(3 / 4)
    assert heat.shares[0][2] == pytest.approx(1 / 3)
    assert heat.shares[1][0] == pytest.approx(1 / 2)


def test_wrong_share_marks_cells_nobody_has_as_nan():
    """Given cells (round 1's parameters) and empty classes are NaN, not "nobody wrong"."""
    heat = analytics.wrong_share([{"cells": [cell(1, "forward", "s1", "correct")]}],
                                 n_rounds=1, cells=CELLS)
    assert math.isnan(heat.shares[0][0]) and heat.shares[0][1] == 0.0
    empty = analytics.wrong_share([], n_rounds=2, cells=CELLS)
    assert all(math.isnan(v) for row in empty.shares for v in row)


def test_wrong_share_ignores_unknown_cells_and_rounds():
    """Cells outside the requested columns or rounds do not break or skew the map."""
    heat = analytics.wrong_share([{"cells": [cell(9, "forward", "s1", "incorrect"),
                                             cell(1, "forward", "zz", "incorrect"),
                                             {"round": "1", "column": "forward", "name": "s1"}]}],
                                 n_rounds=1, cells=CELLS)
    assert all(math.isnan(v) for v in heat.shares[0])


def test_mistake_counts_count_students_not_cells_and_list_every_mistake():
    """A mistake counts once per student however many cells it hit; unseen ones show 0."""
    reports = [
        {"mistakes": [{"id": "no_half", "cells": [{}, {}, {}]}], "cells": []},
        {"mistakes": [{"id": "no_half", "cells": [{}, {}]}],
         "cells": [cell(1, "backward", "dL/df1", "incorrect", "no_half"),
                   cell(2, "backward", "dL/df1", "incorrect", "no_half")]},
        {"mistakes": [{"id": "odd_one"}], "cells": []},
    ]
    counts = analytics.mistake_counts(reports, [("no_half", "Loss without the ½"),
                                                ("sign_flipped", "Sign flipped")])
    assert counts == [("no_half", "Loss without the ½", 2), ("sign_flipped", "Sign flipped", 0),
                      ("odd_one", "odd_one", 1)]


def test_best_attempt_takes_highest_total_earliest_on_tie_and_skips_ungraded():
    """The counted attempt is the best total; on a tie the earlier one; no report, no count."""
    attempts = [("a1", {"total": 50}), ("a2", None), ("a3", {"total": 70}), ("a4", {"total": 70})]
    assert analytics.best_attempt(attempts)[0] == "a3"
    assert analytics.best_attempt([("a1", None)]) is None
    assert analytics.best_attempt([]) is None


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("alice", "alice"), ("", ""), (-2.5, -2.5), (35, 35),
])
def test_csv_safe_defuses_formula_text_only(text, safe):
    """Text starting with = + - @ tab or CR gets a quote; numbers we computed pass unchanged."""
    assert analytics.csv_safe(text) == safe
