"""The library of audited templates (grading/specs/library): each reproduces its source's printed
numbers at their printed precision, the numbers named here, source by source; the key audit lists
exactly the source's own misprints; the computed ones equal a computation written out here."""

from __future__ import annotations

import math

import pytest

from grading.engine import answer_key
from grading.keyaudit.library import audit_template, template, templates


def assert_printed(value: float, printed: str) -> None:
    """``value`` is what ``printed`` says, to the printed number of decimals."""
    decimals = len(printed.partition(".")[2])
    assert abs(value - float(printed)) <= 0.5 * 10 ** -decimals + 1e-15, (value, printed)


def _printed_cells(slug: str) -> dict[tuple[int, str, str], str]:
    data = template(slug).printed_json or {"rounds": []}
    return {(t["round"], column, name): text for t in data["rounds"] for column, cells in t.items()
            if column != "round" for name, text in cells.items()}


def _audit(slug: str) -> set[tuple[int, str, str, str, str]]:
    return {(d.round, d.column, d.name, d.printed, d.kind) for d in audit_template(template(slug))}


def test_every_template_names_its_source_and_parses() -> None:
    slugs = {t.slug for t in templates()}
    assert slugs == {"mazur-2-2-2", "han-kamber-3-2-1", "mitchell-4.7-momentum", "softmax-classifier-2-3",
                     "deep-ml-25-full-batch"}
    for t in templates():
        assert t.source and t.title and t.description
        assert t.spec.n_rounds >= 1


# ---------------------------------------------------------------- Mazur (2015)

MAZUR = {  # (round, column, cell): as the post prints it (his names in the comments)
    (1, "forward", "s1[1]"): "0.3775",            # net_h1
    (1, "forward", "f1[1]"): "0.593269992",       # out_h1
    (1, "forward", "f2[1]"): "0.596884378",       # out_h2
    (1, "forward", "s1[2]"): "1.105905967",       # net_o1
    (1, "forward", "f1[2]"): "0.75136507",        # out_o1
    (1, "forward", "f2[2]"): "0.772928465",       # out_o2
    (1, "forward", "L"): "0.298371109",           # E_total
    (1, "backward", "dL/df1[2]"): "0.74136507",   # dE_total/dout_o1
    (1, "backward", "dL/ds1[2]"): "0.138498562",  # dE_o1/dnet_o1
    (1, "backward", "dL/dw11[2]"): "0.082167041",  # dE_total/dw5
    (1, "backward", "dL/df1[1]"): "0.036350306",  # dE_total/dout_h1
    (1, "backward", "dL/dw11[1]"): "0.000438568",  # dE_total/dw1
    (1, "updated", "w11[2]"): "0.35891648",       # w5+
    (1, "updated", "w21[2]"): "0.408666186",      # w6+
    (1, "updated", "w12[2]"): "0.511301270",      # w7+
    (1, "updated", "w22[2]"): "0.561370121",      # w8+
    (1, "updated", "w11[1]"): "0.149780716",      # w1+
    (1, "updated", "w21[1]"): "0.19956143",       # w2+
    (1, "updated", "w12[1]"): "0.24975114",       # w3+
    (1, "updated", "w22[1]"): "0.29950229",       # w4+
}


def test_mazur_template_reproduces_the_posts_numbers() -> None:
    key = answer_key(template("mazur-2-2-2").spec)
    for (r, column, name), printed in MAZUR.items():
        assert_printed(key.value(r, column, name), printed)
    assert _printed_cells("mazur-2-2-2") == {**MAZUR, (2, "forward", "L"): "0.291027924"}


def test_mazur_templates_audit_lists_the_error_after_one_update() -> None:
    """The post's error after the first update, 0.291027924, is the one misprint: the math gives
    0.291027774 (a plain computation here)."""
    def sig(v: float) -> float:
        return 1 / (1 + math.exp(-v))
    key = answer_key(template("mazur-2-2-2").spec)
    w1 = [[key.value(1, "updated", f"w{i}{j}[1]") for j in (1, 2)] for i in (1, 2)]
    w2 = [[key.value(1, "updated", f"w{i}{j}[2]") for j in (1, 2)] for i in (1, 2)]
    h = [sig(0.05 * w1[0][j] + 0.10 * w1[1][j] + 0.35) for j in (0, 1)]
    o = [sig(h[0] * w2[0][j] + h[1] * w2[1][j] + 0.60) for j in (0, 1)]
    error = ((0.01 - o[0]) ** 2 + (0.99 - o[1]) ** 2) / 2
    assert_printed(error, "0.291027774")
    assert _audit("mazur-2-2-2") == {(2, "forward", "L", "0.291027924", "typo")}


# ---------------------------------------------------------------- Han & Kamber, Example 9.1

HAN_KAMBER = {  # the book's Table 9.2 and 9.3 (Err_j printed as −dL/ds_j: signs turned here)
    (1, "forward", "s1[1]"): "-0.7", (1, "forward", "f1[1]"): "0.332",        # I4, O4
    (1, "forward", "s2[1]"): "0.1", (1, "forward", "f2[1]"): "0.525",         # I5, O5
    (1, "forward", "s1[2]"): "-0.105", (1, "forward", "f1[2]"): "0.474",      # I6, O6
    (1, "backward", "dL/ds2[1]"): "0.0065", (1, "backward", "dL/ds1[1]"): "0.0087",  # Err5 −0.0065, Err4 −0.0087
    (1, "updated", "w11[2]"): "-0.261", (1, "updated", "w21[2]"): "-0.138",   # w46, w56
    (1, "updated", "w11[1]"): "0.192", (1, "updated", "w12[1]"): "-0.306",    # w14, w15
    (1, "updated", "w21[1]"): "0.4", (1, "updated", "w22[1]"): "0.1",         # w24, w25
    (1, "updated", "w31[1]"): "-0.508", (1, "updated", "w32[1]"): "0.194",    # w34, w35
    (1, "updated", "b1[2]"): "0.218", (1, "updated", "b2[1]"): "0.194", (1, "updated", "b1[1]"): "-0.408",  # θ6, θ5, θ4
}


def test_han_kamber_template_reproduces_the_books_numbers() -> None:
    key = answer_key(template("han-kamber-3-2-1").spec)
    for (r, column, name), printed in HAN_KAMBER.items():
        assert_printed(key.value(r, column, name), printed)
    assert _printed_cells("han-kamber-3-2-1") == {**HAN_KAMBER, (1, "backward", "dL/ds1[2]"): "-0.1311"}


def test_han_kambers_err6_is_worked_from_the_rounded_output() -> None:
    """Err6 is printed 0.1311: O6(1 − O6)(1 − O6) from O6 = 0.474 as printed; from O6 itself it is
    0.131169, 0.1312 at the printed four places. The audit calls it a last-digit slip."""
    o6 = 1 / (1 + math.exp(-(-0.3 / (1 + math.exp(0.7)) - 0.2 / (1 + math.exp(-0.1)) + 0.1)))
    assert round(o6 * (1 - o6) ** 2, 4) == 0.1312
    assert round(0.474 * 0.526 * 0.526, 4) == 0.1311
    assert _audit("han-kamber-3-2-1") == {(1, "backward", "dL/ds1[2]", "-0.1311", "last_digit")}


# ---------------------------------------------------------------- Deep-ML problem 25

def test_deep_ml_template_reproduces_the_printed_example() -> None:
    """updated_weights [0.1036, -0.1425], updated_bias -0.0167, mse_values [0.3033, 0.2942]."""
    key = answer_key(template("deep-ml-25-full-batch").spec)
    assert_printed(key.value(2, "updated", "w11"), "0.1036")
    assert_printed(key.value(2, "updated", "w21"), "-0.1425")
    assert_printed(key.value(2, "updated", "b1"), "-0.0167")
    assert_printed(key.loss()[0], "0.3033")
    assert_printed(key.loss()[1], "0.2942")
    assert _audit("deep-ml-25-full-batch") == set()


# ---------------------------------------------------------------- computed templates

def test_mitchell_4_7_template_is_the_hand_computation() -> None:
    """Two iterations of Mitchell's 2-1-1 network with momentum, worked out here in his own
    form: δ_d = o(1 − o)(t − o), δ_c = o_c(1 − o_c)·w_dc·δ_d, Δw(n) = η·δ·x + α·Δw(n − 1)."""
    def sig(v: float) -> float:
        return 1 / (1 + math.exp(-v))
    w = {"ca": 0.1, "cb": 0.1, "c0": 0.1, "dc": 0.1, "d0": 0.1}
    dw = {k: 0.0 for k in w}
    after = []
    for a, b, t in ((1, 0, 1), (0, 1, 0)):
        oc = sig(w["ca"] * a + w["cb"] * b + w["c0"])
        od = sig(w["dc"] * oc + w["d0"])
        dd = od * (1 - od) * (t - od)
        dc = oc * (1 - oc) * w["dc"] * dd
        inputs = {"ca": (dc, a), "cb": (dc, b), "c0": (dc, 1), "dc": (dd, oc), "d0": (dd, 1)}
        for k, (delta, x) in inputs.items():
            dw[k] = 0.3 * delta * x + 0.9 * dw[k]
        w = {k: w[k] + dw[k] for k in w}
        after.append((dict(w), dict(dw)))
    key = answer_key(template("mitchell-4.7-momentum").spec)
    names = {"ca": "w11[1]", "cb": "w21[1]", "c0": "b1[1]", "dc": "w11[2]", "d0": "b1[2]"}
    for r, (weights, steps) in enumerate(after, start=1):
        for k, name in names.items():
            assert key.value(r, "updated", name) == pytest.approx(weights[k], abs=1e-12)
            assert key.value(r, "updated", "Δ" + name) == pytest.approx(steps[k], abs=1e-12)
    assert round(after[1][0]["dc"], 4) == 0.1135 and round(after[1][0]["d0"], 4) == 0.1245


def test_softmax_template_is_the_hand_computation() -> None:
    """Two rounds of softmax regression worked out here: f = exp(s)/Σexp(s), dL/ds = f − y."""
    W = [[0.2, -0.1, 0.0], [0.1, 0.3, -0.2]]
    b = [0.0, 0.0, 0.0]
    key = answer_key(template("softmax-classifier-2-3").spec)
    for r, (x, y) in enumerate((([1.0, 2.0], [1, 0, 0]), ([0.5, -1.0], [0, 0, 1])), start=1):
        s = [x[0] * W[0][j] + x[1] * W[1][j] + b[j] for j in range(3)]
        e = [math.exp(v) for v in s]
        f = [v / sum(e) for v in e]
        assert key.value(r, "forward", "L") == pytest.approx(-math.log(f[y.index(1)]), abs=1e-12)
        for j in range(3):
            assert key.value(r, "forward", f"f{j + 1}") == pytest.approx(f[j], abs=1e-12)
            assert key.value(r, "backward", f"dL/ds{j + 1}") == pytest.approx(f[j] - y[j], abs=1e-12)
            assert 0.01 <= f[j] <= 0.99  # not degenerate
        W = [[W[i][j] - 0.5 * (f[j] - y[j]) * x[i] for j in range(3)] for i in range(2)]
        b = [b[j] - 0.5 * (f[j] - y[j]) for j in range(3)]
        for j in range(3):
            assert key.value(r, "updated", f"b{j + 1}") == pytest.approx(b[j], abs=1e-12)
            for i in range(2):
                assert key.value(r, "updated", f"w{i + 1}{j + 1}") == pytest.approx(W[i][j], abs=1e-12)
