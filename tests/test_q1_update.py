"""Q1's third group for issue 20, "Update (one parameter)": the reduced gradient, the optimizer's
state and step and the updated parameter, written once for a generic parameter w.

Every expected value is written here: the rules as the issue states them (momentum: Mitchell's
form; Adam: Kingma and Ba with bias correction; RMSProp), the literal lists of rows, the
points of an even split. The engine's own step functions are compared with the rows, not read
to make them.
"""
from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.urls import reverse

from grading.engine import Place, Shape, round_steps
from grading.engine.spec import OptimizerSetting
from grading.formulas import VerdictCache, grade_formulas, to_mathml
from grading.formulas.check import read_answer
from grading.formulas.numeric import evaluate, mpf
from grading.formulas.rows import Q1_ROWS, q1_table, reference_formulas
from tests.test_browser import page  # noqa: F401 - the Chromium page fixture

HW41_ROWS = ["s1", "s2", "f1", "f2", "L", "dL/df1", "dL/df2", "dL/ds1", "dL/ds2", "dL/db1", "dL/db2",
             "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22"]
HW41_REFERENCE = {
    "s1": "w11*x1 + w21*x2 + b1", "s2": "w12*x1 + w22*x2 + b2", "f1": "sigmoid(s1)", "f2": "sigmoid(s2)",
    "L": "(y1 - f1)^2/2 + (y2 - f2)^2/2", "dL/df1": "f1 - y1", "dL/df2": "f2 - y2",
    "dL/ds1": "dL/df1 * f1 * (1 - f1)", "dL/ds2": "dL/df2 * f2 * (1 - f2)",
    "dL/db1": "dL/ds1 * 1", "dL/db2": "dL/ds2 * 1", "dL/dw11": "dL/ds1 * x1", "dL/dw21": "dL/ds1 * x2",
    "dL/dw12": "dL/ds2 * x1", "dL/dw22": "dL/ds2 * x2",
}
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def shape(kind: str = "sgd", batch: int = 1, reduce: str = "mean", **settings: float) -> Shape:
    return Shape((2, 2), ("sigmoid",), batch=batch, reduce=reduce,
                 optimizer=OptimizerSetting(kind, tuple(settings.items())))


def marks(answers: dict[str, str], s: Shape, lr: float, cache: VerdictCache | None = None) -> dict:
    return {m.row: m for m in grade_formulas(answers, shape=s, learning_rate=lr, time_limit=10, cache=cache)}


def verdict(row: str, text: str, s: Shape, lr: float) -> tuple[str, str]:
    m = marks({row: text}, s, lr)[row]
    return m.status, str(m.message)


# ---------------------------------------------------------------- the rows


def test_plain_sgd_one_sample_a_round_keeps_homework_4_1s_rows_and_points_exactly() -> None:
    table = q1_table(Shape.single(2, 2), learning_rate=0.5)
    assert [row.name for row in table.rows] == HW41_ROWS
    assert table.training is None and {row.column for row in table.rows} == {"forward", "backward"}
    assert reference_formulas(2, 2) == HW41_REFERENCE
    from grading.engine import parse_spec
    from grading.grade.grader import GradingConfig, default_questions, grade_submission
    from tests.factories import SPEC_4_1

    spec = parse_spec(SPEC_4_1)
    report = grade_submission(spec, {"formulas": HW41_REFERENCE}, GradingConfig(default_questions(spec)))
    assert [f.row for f in report.formulas] == HW41_ROWS
    assert [f.points for f in report.formulas] == [2.0] * 15  # 30 points over 15 rows
    assert report.questions[0].score == 30


@pytest.mark.parametrize(("s", "rows"), [
    (shape("momentum", beta=0.9), ["Δw", "w"]),
    (shape("sgd", batch=2), ["g", "w"]),
    (shape("adam", **ADAM), ["m", "v", "mhat", "vhat", "Δw", "w"]),
    (shape("rmsprop", batch=3, reduce="sum", rho=0.9, eps=1e-8), ["g", "v", "Δw", "w"]),
])
def test_a_batch_or_an_optimizer_adds_the_update_group_after_the_same_rows(s: Shape, rows: list[str]) -> None:
    assert Q1_ROWS(s) == HW41_ROWS + rows
    assert [r.column for r in q1_table(s).rows[15:]] == ["update"] * len(rows)


def test_the_reference_rows_are_written_as_the_handout_writes_them() -> None:
    adam = reference_formulas(shape("adam", batch=4, **ADAM))
    assert {k: adam[k] for k in ("g", "m", "v", "mhat", "vhat", "Δw", "w")} == {
        "g": "(g1 + g2 + g3 + g4)/4", "m": "beta1*m + (1 - beta1)*g", "v": "beta2*v + (1 - beta2)*g^2",
        "mhat": "m/(1 - beta1^t)", "vhat": "v/(1 - beta2^t)", "Δw": "-lr*mhat/(sqrt(vhat) + eps)",
        "w": "w + Δw"}
    assert reference_formulas(shape("sgd", batch=2, reduce="sum"))["g"] == "g1 + g2"
    assert reference_formulas(shape("sgd", batch=2))["w"] == "w - lr*g"
    assert reference_formulas(shape("momentum", beta=0.9))["Δw"] == "-lr*g + beta*Δw"
    assert reference_formulas(shape("rmsprop", rho=0.9, eps=1e-8))["Δw"] == "-lr*g/(sqrt(v) + eps)"


# Row -> the engine's cell for parameter w11 of layer 1 (this round's; "old:" the parameters
# column's, the value before the round). Written here, not read from rows.py.
def _place(name: str) -> Place:
    old = name.startswith("old:")
    name = name.removeprefix("old:")
    column = "parameters" if old else "updated"
    if name == "g":
        return Place("backward", 1, "dL/dw", (1, 1), 0)
    if name[:1] == "g" and name[1:].isdigit():
        return Place("backward", 1, "dL/dw", (1, 1), int(name[1:]))
    quantity = {"m": "m_w", "v": "v_w", "mhat": "mhat_w", "vhat": "vhat_w", "Δw": "Δw", "w": "w"}[name]
    return Place(column, 1, quantity, (1, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize("s", [
    shape("momentum", beta=0.9), shape("momentum", batch=3, reduce="sum", beta=0.5),
    shape("adam", **ADAM), shape("adam", batch=2, beta1=0.8, beta2=0.99, eps=1e-4),
    shape("rmsprop", rho=0.9, eps=1e-8), shape("rmsprop", batch=4, rho=0.7, eps=0.001),
    shape("sgd", batch=2), shape("sgd", batch=4, reduce="sum"),
])
def test_each_update_row_computes_what_the_engines_step_computes(s: Shape) -> None:
    """Each row's formula, at random values of what it is computed from, against the engine's
    ``_reduce``/``_update`` step function of parameter w11 at the same values, round by round."""
    lr, rng = 0.3, random.Random(20)
    table = q1_table(s, learning_rate=lr)
    steps = [st for st in round_steps(s, lr) if st.place.layer == 1 and st.place.index == (1, 1)
             and (st.place.column == "updated" or (st.place.column == "backward" and st.place.sample == 0
                                                   and s.batch > 1 and st.place.quantity == "dL/dw"))]
    update_rows = [row for row in table.rows if row.column == "update"]
    assert {_place(row.name) for row in update_rows} <= {st.place for st in steps}
    for t in (1, 2, 5):
        for _trial in range(4):
            values: dict[Place, float] = {}
            env = {"t": mpf(t)}
            for name in [f"g{k}" for k in range(1, s.batch + 1)] if s.batch > 1 else ["g"]:
                values[_place(name)] = env[name] = rng.uniform(-2, 2)
            for name in ("Δw", "m", "v", "w"):
                values[_place("old:" + name)] = env["old:" + name] = rng.uniform(0 if name == "v" else -2, 2)
            for step in steps:
                fn, _text = step.at_round(t)
                values[step.place] = fn(*(values[d] for d in step.deps))
            for row in update_rows:
                expected = values[_place(row.name)]
                assert float(evaluate(row.expr, env)) == pytest.approx(expected, rel=1e-12, abs=1e-15), row.name
                env[row.name] = expected  # the next row from the engine's value of this one


# ---------------------------------------------------------------- checking

MOMENTUM = shape("momentum", beta=0.9)


@pytest.mark.parametrize("text", [
    "-lr*g + beta*Δw", "-0.3*g + 0.9*Δw", "0.9*Δw - 0.3*g", "-η g + β Δw", "-eta*g + beta*delta_w",
    r"-\eta g + \beta \Delta w", "Δw = -lr*g + beta*deltaw", "-lr*g + beta*∆w",
])
def test_momentum_in_name_and_number_forms_is_right(text: str) -> None:
    assert verdict("Δw", text, MOMENTUM, 0.3) == ("correct", "correct")


@pytest.mark.parametrize(("row", "text"), [
    ("m", "beta1*m + (1 - beta1)*g"), ("m", "β₁·m + (1 − β₁)·g"), ("m", r"\beta_1 m + (1-\beta_{1}) g"),
    ("m", "0.9*m + 0.1*g"), ("v", "0.999*v + 0.001*g^2"), ("v", "β₂ v + (1 - β₂) g²"),
    ("mhat", "m/(1 - beta1^t)"), ("mhat", "m/(1 - 0.9^t)"), ("vhat", r"\frac{v}{1 - \beta_2^t}"),
    ("Δw", "-lr*mhat/(sqrt(vhat) + eps)"), ("Δw", "-0.01*m̂/(sqrt(v̂) + ε)"),
    ("Δw", r"-\eta \hat{m}/(\sqrt{\hat{v}} + \epsilon)"), ("Δw", "-lr*m̂/(√(v̂) + ϵ)"), ("Δw", "-lr*mhat/(vhat^(1/2) + 0.00000001)"),
    ("w", "w + Δw"), ("w", "Δw + w"),
])
def test_adam_rows_in_name_and_number_forms_are_right(row: str, text: str) -> None:
    assert verdict(row, text, shape("adam", batch=2, **ADAM), 0.01) == ("correct", "correct")


def test_rmsprop_and_a_batch_of_sgd_are_right_and_mean_and_sum_are_told_apart() -> None:
    rms = shape("rmsprop", batch=3, reduce="sum", rho=0.9, eps=1e-8)
    assert verdict("g", "g1 + g2 + g3", rms, 0.1)[0] == "correct"
    assert verdict("v", "rho*v + (1 - rho)*g^2", rms, 0.1)[0] == "correct"
    assert verdict("Δw", "-0.1*g/(sqrt(v) + 1e-8)", rms, 0.1)[0] == "correct"
    sgd = shape("sgd", batch=2)
    assert verdict("g", "(g1 + g2)/2", sgd, 0.5)[0] == "correct"
    assert verdict("w", "w - 0.5*g", sgd, 0.5)[0] == "correct"
    assert verdict("w", "w - 0.4*g", sgd, 0.5)[0] == "incorrect"  # the assignment's learning rate


@pytest.mark.parametrize(("s", "row", "text", "named"), [
    (MOMENTUM, "Δw", "lr*g + beta*Δw", "The step goes against the gradient"),
    (MOMENTUM, "Δw", "-lr*g - beta*Δw", "Momentum's velocity subtracted"),
    (MOMENTUM, "Δw", "-lr*g", "Velocity not carried"),
    (MOMENTUM, "Δw", "-0.3*g", "Velocity not carried"),
    (shape("adam", **ADAM), "Δw", "-lr*m/(sqrt(v) + eps)", "Adam without bias correction"),
    (shape("adam", **ADAM), "mhat", "m", "Adam without bias correction"),
    (shape("sgd", batch=3), "g", "g1 + g2 + g3", "Mean and sum of the samples confused"),
    (shape("sgd", batch=3, reduce="sum"), "g", "(g1 + g2 + g3)/3", "Mean and sum of the samples confused"),
    (shape("sgd", batch=3), "w", "w + lr*g", "The step goes against the gradient"),
])
def test_each_classic_mistake_is_named(s: Shape, row: str, text: str, named: str) -> None:
    status, message = verdict(row, text, s, 0.3)
    assert status == "incorrect" and named in message


def test_expanding_a_row_before_is_equivalent_but_not_chained() -> None:
    adam = shape("adam", **ADAM)
    status, message = verdict("Δw", "-lr*(m/(1 - beta1^t))/(sqrt(vhat) + eps)", adam, 0.01)
    assert status == "not_chained" and "in terms of mhat" in message
    status, message = verdict("w", "w - lr*mhat/(sqrt(vhat) + eps)", adam, 0.01)
    assert status == "not_chained" and "in terms of Δw" in message
    status, _message = verdict("w", "w - 0.3*g + 0.9*Δw", MOMENTUM, 0.3)
    assert status == "incorrect"  # Δw here is this round's: w - 0.3g + 0.9Δw is not w + Δw
    points = {m.row: m.credit for m in marks({"w": "w - lr*mhat/(sqrt(vhat) + eps)"}, adam, 0.01).values()}
    assert points["w"] == 0.5


def test_t_is_the_round_in_the_bias_correction() -> None:
    adam = shape("adam", **ADAM)
    assert verdict("vhat", "v/(1 - beta2^t)", adam, 0.01)[0] == "correct"
    assert verdict("vhat", "v/(1 - beta2)", adam, 0.01)[0] == "incorrect"   # round 1's only
    assert verdict("vhat", "v/(1 - beta2^2)", adam, 0.01)[0] == "incorrect"
    status, message = verdict("Δw", "-lr*g*t", MOMENTUM, 0.3)
    assert status == "invalid" and "Adam" in message  # t has no meaning without Adam


def test_a_rows_own_name_is_its_value_before_the_round_and_a_later_row_is_refused() -> None:
    adam = shape("adam", **ADAM)
    # m on the right of m is the m before the round; on the right of mhat it is this round's m.
    assert verdict("m", "beta1*m + (1 - beta1)*g", adam, 0.01)[0] == "correct"
    assert verdict("mhat", "mhat/(1 - beta1^t)", adam, 0.01)[0] == "incorrect"
    # momentum: Δw on the right of Δw is the round before's; w on the right of w the old w
    assert verdict("Δw", "beta*Δw - lr*g", MOMENTUM, 0.3)[0] == "correct"
    assert verdict("w", "w + Δw", MOMENTUM, 0.3)[0] == "correct"
    status, message = verdict("m", "mhat*(1 - beta1^t)", adam, 0.01)
    assert status == "incorrect" and "circular" in message and "mhat" in message
    status, message = verdict("Δw", "w - lr*g", MOMENTUM, 0.3)
    assert status == "incorrect" and "circular" in message


def test_a_name_this_problem_does_not_have_is_refused_with_the_names_it_has() -> None:
    status, message = verdict("Δw", "-lr*g + beta1*Δw", MOMENTUM, 0.3)
    assert status == "invalid" and "lr and beta" in message
    status, message = verdict("g", "(g1 + g2 + g3 + g4 + g5)/4", shape("sgd", batch=4), 0.3)
    assert status == "invalid" and "g1 to g4" in message
    status, message = verdict("w", "w - lr*dL/dw11", shape("sgd", batch=2), 0.3)
    assert status == "invalid" and "Δw" in message and "g" in message
    status, message = verdict("Δw", "-lr*dw", MOMENTUM, 0.3)
    assert status == "invalid" and "Δw" in message


def test_the_verdict_cache_tells_settings_and_learning_rates_apart() -> None:
    cache = VerdictCache()
    text = "-0.3*g + 0.9*Δw"
    assert marks({"Δw": text}, MOMENTUM, 0.3, cache)["Δw"].status == "correct"
    assert marks({"Δw": text}, shape("momentum", beta=0.8), 0.3, cache)["Δw"].status == "incorrect"
    assert marks({"Δw": text}, MOMENTUM, 0.2, cache)["Δw"].status == "incorrect"
    assert marks({"Δw": text}, MOMENTUM, 0.3, cache)["Δw"].status == "correct"
    mean, total = shape("sgd", batch=2), shape("sgd", batch=2, reduce="sum")
    assert marks({"g": "g1 + g2"}, total, 0.3, cache)["g"].status == "correct"
    assert marks({"g": "g1 + g2"}, mean, 0.3, cache)["g"].status == "incorrect"


def test_the_papers_time_indices_get_a_clear_message_not_a_product() -> None:
    """Adam's paper writes m_t = β₁·m_{t−1} + (1 − β₁)·g_t: here m_{t-1} would read as m·(t − 1)."""
    adam = shape("adam", **ADAM)
    status, message = verdict("m", "beta1*m_{t-1} + (1 - beta1)*g", adam, 0.01)
    assert status == "invalid" and "own name (m)" in message
    status, message = verdict("m", "beta1*m + (1 - beta1)*g_t", adam, 0.01)
    assert status == "invalid" and "write g alone" in message
    assert verdict("w", r"w + \Delta{w}", adam, 0.01)[0] == "correct"


def test_checking_update_rows_needs_the_learning_rate() -> None:
    with pytest.raises(ValueError, match="learning rate"):
        grade_formulas({}, shape=MOMENTUM)


@pytest.mark.parametrize("text", [
    "g^(9^9^9)", "beta1^t^t^t^t^t^t^t^99", "(" * 60 + "g" + ")" * 60, "g" + "+g" * 300,
    "exp(exp(exp(t)))*mhat", "sqrt(" * 40 + "v" + ")" * 40, "m\u0302\u0302", "Δ" * 400, "w\x00",
    "__import__('os')", "mhat" * 200,
])
def test_hostile_update_rows_stay_bounded(text: str) -> None:
    adam = shape("adam", batch=2, **ADAM)
    m = marks({"Δw": text, "m": text}, adam, 0.01)  # returns: no exception, no hang past the limit
    assert m["Δw"].status in ("invalid", "incorrect", "undecided")
    assert m["m"].status in ("invalid", "incorrect", "undecided")
    assert len(m["Δw"].message) < 2000


# ---------------------------------------------------------------- drawing


def test_the_preview_draws_the_update_names_as_a_handout_would() -> None:
    expr, _notes = read_answer(r"-\eta \hat{m}/(\sqrt{\hat{v}} + \epsilon) + β₁*Δw", "Δw", (2, 2))
    html = to_mathml(expr)
    assert "<mi>η</mi>" in html and "<mi>ε</mi>" in html
    assert '<mover accent="true"><mi>m</mi><mo>^</mo></mover>' in html
    assert "<msqrt>" in html and "<msub><mi>β</mi><mn>1</mn></msub>" in html
    assert '<mi mathvariant="normal">Δ</mi><mi>w</mi>' in html


# ---------------------------------------------------------------- the page


@pytest.fixture
def momentum(db):
    call_command("seed_demo", force=True)
    from grading.models import Assignment
    from django.contrib.auth import get_user_model

    from tests.factories import PASSWORD

    student = get_user_model().objects.get(username="student1")
    student.set_password(PASSWORD)  # the tests' own password, for their login helper
    student.save()
    return Assignment.objects.get(slug="momentum"), student


def test_the_momentum_homework_asks_the_update_rows_and_grades_them(momentum) -> None:
    from grading.models import Submission
    from tests.factories import report_of
    from tests.test_deadline import submit_page
    from tests.webtools import client_for

    assignment, student = momentum
    client = client_for(student)
    page = client.get(reverse("grading:assignment", args=[assignment.pk])).content.decode()
    assert "Update (one parameter)" in page and 'id="q1-update-rule"' in page
    assert "Q1 · Forward, backward and update formulas" in page
    assert "own name means its value before the round" in page
    assert 'name="formulas.Δw"' in page and 'name="formulas.w"' in page
    response, _token = submit_page(client, assignment, {"formulas.Δw": "-lr*g + beta*Δw",
                                                        "formulas.w": "w = w + Δw"})
    assert response.status_code == 302
    report = report_of(Submission.objects.get(state="submitted"))
    rows = {f.row: f for f in report.formulas}
    # the 2-1-1 network: 5 forward rows, 9 backward rows, then Δw and w
    assert len(report.formulas) == 16 and [f.row for f in report.formulas][-2:] == ["Δw", "w"]
    assert rows["Δw"].status == rows["w"].status == "correct"
    q1 = next(q for q in report.questions if q.kind == "formulas")
    assert rows["Δw"].points == pytest.approx(q1.max / 16, abs=1e-4)
    assert q1.score == pytest.approx(2 * q1.max / 16, abs=1e-3)
    feedback = client.get(response["Location"]).content.decode()
    assert "-lr*g + beta*Δw" in feedback and "<mi>η</mi>" in feedback
    assert "Q1 · Forward, backward and update formulas" in feedback
    # ... and every other place that names the question says the same (scores, "ask about")
    assert "Forward and backward formulas" not in feedback


def test_sample_gradients_read_in_plain_and_latex_forms() -> None:
    s = shape("sgd", batch=3)
    for text in ("(g1 + g2 + g3)/3", "(g_1 + g_{2} + g₃)/3", r"\frac{g_1 + g_2 + g_3}{3}"):
        assert verdict("g", text, s, 0.3) == ("correct", "correct"), text


def test_the_live_preview_and_the_key_page_read_an_update_row_with_its_names(momentum) -> None:
    from django.contrib.auth import get_user_model
    from tests.factories import PASSWORD
    from tests.webtools import client_for

    assignment, student = momentum
    client = client_for(student)
    url = reverse("grading:formula_preview")
    shown = client.get(url, {"text": "Δw = -η*g + β*Δw", "row": "Δw", "sizes": "2-1-1"}).json()
    assert shown["error"] == "" and "<mi>η</mi>" in shown["mathml"] and "<mi>β</mi>" in shown["mathml"]
    refused = client.get(url, {"text": "-lr*dw", "row": "Δw", "sizes": "2-1-1"}).json()
    assert refused["mathml"] == "" and "Δw" in refused["error"]
    teacher = get_user_model().objects.get(username="instructor")
    teacher.set_password(PASSWORD)
    teacher.save()
    key = client_for(teacher).get(reverse("grading:key", args=[assignment.pk])).content.decode()
    assert "-lr*g + beta*Δw" in key and '<mi mathvariant="normal">Δ</mi>' in key


@pytest.mark.browser
def test_a_student_types_the_update_rows_in_a_browser(page, live_server) -> None:
    """The momentum demo in Chromium: the update group's inputs preview η and β as typed, the
    autosave keeps them over a reload, and the submitted rows are marked correct."""
    import re

    from playwright.sync_api import expect

    from grading.models import Assignment
    from tests.test_browser import field, submit_attempt

    call_command("seed_demo", force=True)
    demo = Assignment.objects.get(slug="momentum")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "student1")
    page.fill("#id_password", "demo-student-41")
    page.click('main form[action="/accounts/login/"] button[type=submit]')
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/assignments/{demo.pk}/")
    expect(page.locator("table.formula-table caption").nth(2)).to_have_text("Update (one parameter)")
    page.fill(field("formulas.Δw"), "-η*g + β*Δw")
    page.fill(field("formulas.w"), "w + Δw")
    expect(page.locator('[data-preview-for="formulas.Δw"] math mi', has_text="η")).to_have_count(1)
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    page.reload()
    expect(page.locator(field("formulas.Δw"))).to_have_value("-η*g + β*Δw")
    submit_attempt(page)
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    rows = page.locator("#formulas tbody tr")
    expect(rows.filter(has_text="Δw =")).to_contain_text("correct")
    expect(rows.filter(has_text=re.compile(r"^\s*w ="))).to_contain_text("correct")


@pytest.mark.parametrize(("s", "text"), [
    (shape("adam", **ADAM), "-lr*mhat/sqrt(vhat)"),
    (shape("rmsprop", rho=0.9, eps=1e-8), "-0.5*g/sqrt(v)"),
])
def test_a_step_without_eps_is_wrong_and_says_so(s: Shape, text: str) -> None:
    status, message = verdict("Δw", text, s, 0.5)
    assert status == "incorrect"
    assert "ε left out" in message
    assert verdict("Δw", text.replace("sqrt(vhat)", "(sqrt(vhat) + eps)").replace("sqrt(v)", "(sqrt(v) + 1e-8)"),
                   s, 0.5)[0] == "correct"


def test_alpha_is_refused_with_why() -> None:
    """Mitchell's α is the momentum, Kingma and Ba's the step size: neither reading is guessed."""
    status, message = verdict("Δw", "-lr*g + alpha*Δw", shape("momentum", beta=0.9), 0.3)
    assert status != "correct"
    assert "beta (β) for the momentum" in message


@pytest.mark.parametrize("text", [r"-lr*g/(\sqrt[2]{v} + eps)", r"-lr*g/(\sqrt [3]{v} + eps)"])
def test_an_nth_root_is_refused_not_read_as_a_product(text: str) -> None:
    """``\\sqrt[n]{a}`` is LaTeX's n-th root: it is refused naming it, never read as sqrt(n)·a (which
    marked the square root written ``\\sqrt[2]{v}`` wrong, and drew √2 × v in the preview)."""
    rms = shape("rmsprop", rho=0.9, eps=1e-8)
    status, message = verdict("Δw", text, rms, 0.1)
    assert status == "invalid"
    assert "'\\sqrt" in message and "[" in message.split("'")[1]
    with pytest.raises(Exception, match=r"\\sqrt"):
        read_answer(text, "Δw", (2, 2))
    assert verdict("Δw", r"-lr*g/(\sqrt{v} + eps)", rms, 0.1) == ("correct", "correct")


@pytest.mark.parametrize("s", [shape("momentum", beta=0.9), shape("adam", **ADAM), shape("rmsprop", rho=0.9, eps=1e-8)])
def test_the_step_subtracted_again_is_named(s: Shape) -> None:
    status, message = verdict("w", "w - Δw", s, 0.3)
    assert status == "incorrect" and "Δw is added" in message
    assert verdict("w", "w + Δw", s, 0.3)[0] == "correct"
