"""What students read (issue 21, items 5-7): "Uses your ..." quotes what they typed, markup typed
in a cell is not called a fraction, a Q1 formula in LaTeX is graded as typed, and no raw cell id
("r1.forward.s1") reaches a student or the review queue."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from grading.marking import parse_number
from tests.factories import report_of, round1_values
from tests.test_feedback_wording import marks_of, round1, table
from tests.webtools import client_for, submit

BAND = 0.51e-4  # 4 decimals


def _no_half_round(squares: tuple[str | None, str | None]) -> tuple[dict, float, float]:
    """Round 1 with L typed as the sum of the squares without the ½ (from the exact squares,
    rounded once: a student who kept every digit), the squares typed as given here."""
    v = round1()
    sq1, sq2 = v["(y1-f1)^2"], v["(y2-f2)^2"]
    values: dict[str, float | str | None] = dict(v)
    values["(y1-f1)^2"], values["(y2-f2)^2"] = squares
    values["L"] = sq1 + sq2
    return table(values), sq1, sq2


def test_uses_your_quotes_the_values_typed_not_the_exact_ones():
    """The issue's case: (y1 − f1)² typed 0.1498 (exact 0.149758…); L typed without the ½ from
    the exact squares. The named mistake says it uses 0.1498 and 0.5113, the numbers typed."""
    v = round1()
    typed1, typed2 = f"{v['(y1-f1)^2']:.4f}", f"{v['(y2-f2)^2']:.4f}"
    answers, sq1, sq2 = _no_half_round((typed1, typed2))
    # From the typed squares the sum is off by more than the band: only the exact ones match,
    # which is when the values used were quoted at full precision before.
    assert abs(float(typed1) + float(typed2) - float(f"{sq1 + sq2:.4f}")) > BAND
    mark = marks_of(answers)[(1, "L")]
    assert mark.mistake == "no_half"
    assert mark.upstream == {"(y1-f1)^2": float(typed1), "(y2-f2)^2": float(typed2)}


def test_uses_your_leaves_out_a_blank_value_the_student_never_typed():
    """A blank (y1 − f1)²: the mistake is still recognised (from the key's value), but "your"
    lists only the square the student typed."""
    v = round1()
    typed2 = f"{v['(y2-f2)^2']:.4f}"
    answers, _sq1, _sq2 = _no_half_round((None, typed2))
    mark = marks_of(answers)[(1, "L")]
    assert mark.mistake == "no_half"
    assert mark.upstream == {"(y2-f2)^2": float(typed2)}


@pytest.mark.parametrize(("text", "named"), [
    ("<script>alert(1)</script>", "<"), ("<b>0.46</b>", "<"), ("</", "<"), ("a/b", "a"),
    ("0.4/x", "x"), ("ข้อ 1", "ข"),
])
def test_markup_typed_in_a_cell_is_not_called_a_fraction(text, named):
    """Text with markup or letters names the first character that is not part of a number."""
    parsed = parse_number(text)
    assert parsed.status == "invalid"
    assert "fraction" not in parsed.message
    assert f"'{named}' is not part of a number" in parsed.message


@pytest.mark.parametrize("text", ["1/2", "0.5/3", " 1 / 2 ", "-1/4"])
def test_a_fraction_is_still_called_a_fraction(text):
    parsed = parse_number(text)
    assert parsed.status == "invalid" and "not a fraction" in parsed.message


def test_a_control_character_is_named_by_its_code():
    parsed = parse_number("0.46\x07")
    assert "U+0007 is not part of a number" in parsed.message


def _uses_lines(html: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", m)) for m in
            re.findall(r'<div class="small text-body-secondary">Uses your (.*?)</div>', html)]


@pytest.mark.django_db
def test_the_feedback_page_quotes_the_typed_values_a_named_mistake_used(world):
    """On the feedback page: "Uses your (y1 − f1)² = 0.14980, …" as typed (trailing zero kept),
    never the exact 0.149758 the search matched with; markup in a cell is named, not a fraction."""
    v = round1()
    values = round1_values()
    typed1 = f"{v['(y1-f1)^2']:.4f}0"  # 0.14980: within the band, with a trailing zero
    typed2 = f"{v['(y2-f2)^2']:.4f}"
    values["r1.forward.(y1-f1)^2"], values["r1.forward.(y2-f2)^2"] = typed1, typed2
    values["r1.forward.L"] = f"{v['(y1-f1)^2'] + v['(y2-f2)^2']:.4f}"
    values["r1.backward.dL/dw22"] = "<script>alert(1)</script>"
    alice = client_for(world["alice"])
    html = alice.get(submit(alice, world["assignment"], values).get_absolute_url()).content.decode()
    assert "Loss without the ½" in html
    lines = _uses_lines(html)
    assert len(lines) == 1, lines
    assert f"= {typed1}" in lines[0] and f"= {typed2}" in lines[0]
    assert f"{v['(y1-f1)^2']:.6g}" not in lines[0]
    assert "<script>alert(1)</script>" not in html
    assert "is not part of a number" in unescape(html)
    assert "not a fraction" not in html


@pytest.mark.django_db
def test_a_latex_formula_is_graded_and_shown_as_its_plain_form(world):
    """Q1 typed as LaTeX or with names run together is correct on the feedback page, as the plain
    form is, and its MathML is the plain form's."""
    from grading.formulas import to_mathml

    alice = client_for(world["alice"])
    answers = {"formulas.s1": "w11x1 + w21x2 + b1", "formulas.f1": r"\sigma(s_1)",
               "formulas.dL/ds1": r"\frac{dL}{df_1} \cdot f_1\left(1 - f_1\right)",
               "formulas.f2": "sigma(s2)"}
    sub = submit(alice, world["assignment"], answers)
    rows = {m.row: m for m in report_of(sub).formulas}
    for row in ("s1", "f1", "dL/ds1", "f2"):
        assert rows[row].status == "correct", (row, rows[row].message)
    assert rows["dL/ds1"].mathml == to_mathml("dL/df1 * f1 * (1 - f1)")
    html = alice.get(sub.get_absolute_url()).content.decode()
    assert to_mathml("w11*x1 + w21*x2 + b1") in html


def _post(client, page_url, url, data):
    """A form post with the CSRF token of the page it sits on."""
    from tests.webtools import page_token

    return client.post(url, {"csrfmiddlewaretoken": page_token(client, page_url), **data})


def _section(html: str, start: str, end: str = "</section>") -> str:
    """The text of the part of ``html`` from ``start`` to ``end``, tags out, spaces collapsed."""
    at = html.index(start)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html[at:html.index(end, at)])).split())


@pytest.mark.django_db
def test_requests_and_the_queue_name_a_cell_by_its_round_and_name(world):
    """A request about r1.forward.f1 reads "about round 1 f1" to the student and in the review
    queue; one about a Q1 row reads "about Q1 dL/ds1"; the raw ids are never shown as text."""
    a = world["assignment"]
    alice = client_for(world["alice"])
    sub = submit(alice, a, {**round1_values(), "r1.forward.f1": "0.6200"})
    url = reverse("grading:review_request", args=[sub.pk])
    for target, message in (("r1.forward.f1", "σ(0.46) is 0.62?"), ("dL/ds1", "my formula is right")):
        assert _post(alice, sub.get_absolute_url(), url, {"target": target, "message": message}).status_code == 302
    requests = _section(alice.get(sub.get_absolute_url()).content.decode(), 'id="requests"', "<form")
    assert "about round 1 f1: “σ(0.46) is 0.62?”" in requests, requests
    assert "about Q1 dL/ds1: “my formula is right”" in requests
    assert "r1.forward" not in requests
    queue = unescape(client_for(world["ta"]).get(reverse("grading:queue", args=[a.pk])).content.decode())
    assert "about round 1 f1: “σ(0.46) is 0.62?”" in queue
    assert "about Q1 dL/ds1: “my formula is right”" in queue
    assert "r1.forward.f1" not in re.sub(r'<[^>]+>', "", queue)


@pytest.mark.django_db
def test_staff_changes_name_the_cell_by_its_round_and_name(world):
    """A TA's cell override and its withdrawal read "round 1 s1" on the student's page, in the
    staff's history and on the withdraw button; never "r1.forward.s1" as text."""
    from grading import services

    sub = submit(client_for(world["alice"]), world["assignment"], {**round1_values(), "r1.forward.s1": "0.4800"})
    ta = client_for(world["ta"])
    response = _post(ta, sub.get_absolute_url(), reverse("grading:grade_override", args=[sub.pk]), {
        "kind": "cell", "target": "r1.forward.s1", "status": "correct", "reason": "misread",
        "note": "Read from your paper.", "based_on": 1})
    assert response.status_code == 302
    student = client_for(world["alice"])
    changes = _section(student.get(sub.get_absolute_url()).content.decode(), 'id="staff-changes"')
    assert "Changed: round 1 s1 incorrect (0) → correct (1)" in changes, changes
    assert "r1.forward" not in changes
    staff_page = ta.get(sub.get_absolute_url()).content.decode()
    assert "round 1 s1: back to automatic" in staff_page
    history = _section(staff_page, 'id="history"', "</table>")
    assert "round 1 s1 → correct" in history and "r1.forward" not in history
    services.grading_withdraw(submission=sub, kind="cell", target="r1.forward.s1", by=world["ta"],
                              reason="the paper said 0.48")
    changes = _section(student.get(sub.get_absolute_url()).content.decode(), 'id="staff-changes"')
    assert "Back to the automatic grade: round 1 s1" in changes, changes
    assert "r1.forward" not in changes


def test_q1_is_titled_one_way_wherever_it_is_named():
    """The authoring form's points labels title each question as the feedback page does
    ("Q1 · Forward and backward formulas"), and the assignment page heads Q1 the same."""
    from pathlib import Path

    from grading.authoring_form import AuthoringForm, questions_of

    labels = [AuthoringForm.question_label(q) for q in questions_of(3, {})]
    assert labels == ["Q1 · Forward and backward formulas", "Q2 · Round 1 table", "Q3 · Round 2 table",
                      "Q4 · Round 3 table", "Q5 · Loss plot"]
    templates = Path(__file__).resolve().parent.parent / "templates" / "grading"
    # The feedback page's marks are drawn from their own include (kept per record for students).
    for page in ("assignment.html", "includes/feedback_report.html"):
        text = (templates / page).read_text()
        assert '{% translate "Q1 · Forward and backward formulas" %}' in text, page


@pytest.mark.django_db
def test_a_regrade_preview_names_cells_by_their_round_and_name(world):
    """The regrade preview's "marks that change" and "changes by staff kept" say "round 1 f1",
    not the raw id: f1 typed 0.0003 off is wrong at 4 decimals and right at 3."""
    from grading.models import Assignment

    a = world["assignment"]
    values = round1_values()
    values["r1.forward.f1"] = f"{float(values['r1.forward.f1']) + 0.0003:.4f}"
    values["r1.forward.s1"] = "0.4800"
    sub = submit(client_for(world["alice"]), a, values)
    ta = client_for(world["ta"])
    assert _post(ta, sub.get_absolute_url(), reverse("grading:grade_override", args=[sub.pk]), {
        "kind": "cell", "target": "r1.forward.s1", "status": "correct", "reason": "misread",
        "note": "", "based_on": 1}).status_code == 302
    Assignment.objects.filter(pk=a.pk).update(decimals=3)
    page = ta.get(reverse("grading:regrade_attempt", args=[sub.pk])).content.decode()
    lines = _section(page, 'class="table table-sm align-middle regrade-lines"', "</table>")
    assert "round 1 f1 incorrect → correct" in lines, lines
    assert "round 1 s1: grader incorrect, override correct kept" in lines, lines
    assert "r1.forward" not in lines
