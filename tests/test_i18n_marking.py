"""The marking's messages are grading.engine.text.Text: kept whole in a stored report (JSON and pickle)
and read in the reader's language, with the numbers and cell names as they were.

One Homework 4.1 attempt, round 1 computed by hand here, with four slips:

* s2 typed with its sign flipped (from given values only): "not within ...; it has the wrong sign";
* y1-f1 cut off at 4 places, f1 typed in full: "not within ...; looks truncated ...";
* dL/df1 typed y1 − f1: the named mistake "dL/df with the sign flipped";
* dL/ds1 worked on from that dL/df1: carried, "correct given your dL/df1 = 0.3870".

The Thai tests (``th``) read the catalogue compiled from locale/parts/marking.po.
"""

from __future__ import annotations

import json
import math
import pickle

import pytest
from django.urls import reverse
from django.utils import translation

from grading import keyaudit

from grading.figures import analytics

from grading.grade import grader, ledger

from grading.engine import text
from grading.engine import parse_spec
from grading.grade.report import Report
from grading.engine.text import Text
from tests.factories import make_assignment, make_course, make_member, report_of
from tests.test_feedback_wording import BACKWARD, FORWARD, SPEC, round1
from tests.webtools import client_for, submit

BAND = "±0.000051"  # 0.51 × 10^-4 written to 6 places, as a student reads it


# The Thai of locale/parts/marking.po, written out here.
TH_NOT_WITHIN = f"ไม่อยู่ในช่วง {BAND} ของค่าที่ถูกต้อง"
TH_WRONG_SIGN = "ค่านี้มีเครื่องหมายกลับ"
TH_FLIP_TITLE = "dL/df เครื่องหมายกลับ"
TH_FLIP_EXPLANATION = ("การหาอนุพันธ์ของ (y − f)²/2 เทียบกับ f จะได้ −1 จาก y − f ที่อยู่ข้างใน "
                       "ดังนั้น dL/df = f − y ไม่ใช่ y − f")
TH_CARRIED = "ถูกต้องเมื่อคิดต่อจากค่าของคุณเอง {values}"
TH_REVIEWED = "ทีมผู้สอนตรวจทานแล้ว"
TH_GRADER_SAID = "{said} (เดิมระบบตรวจอัตโนมัติระบุว่า: {automatic})"

EN_FLIP_TITLE = "dL/df with the sign flipped"
EN_FLIP_EXPLANATION = ("Differentiating (y − f)²/2 by f brings a −1 from the inner y − f, "
                       "so dL/df = f − y, not y − f.")


def typed() -> dict[str, str]:
    """Round 1 as typed: every value to 4 places, but for the four slips of the module docstring."""
    v = round1()
    out = {name: f"{value:.4f}" for name, value in v.items()}
    y1 = SPEC["samples"][0]["y"][0]
    f1_text = repr(v["f1"])  # typed in full: y1-f1 is then the student's own to round
    out["f1"] = f1_text
    out["s2"] = f"{-v['s2']:.4f}"
    cut = math.floor((y1 - v["f1"]) * 1e4) / 1e4
    assert f"{cut:.4f}" != f"{y1 - v['f1']:.4f}"  # the cut differs from the rounding here
    out["y1-f1"] = f"{cut:.4f}"
    flipped = f"{y1 - float(f1_text):.4f}"
    out["dL/df1"] = flipped
    f1 = float(f1_text)
    own = float(flipped) * f1 * (1 - f1)  # dL/ds1 from the student's own dL/df1 and f1
    out["dL/ds1"] = f"{own:.4f}"
    assert abs(float(out["dL/ds1"]) - own) < 0.51e-4 and abs(float(out["dL/ds1"]) - v["dL/ds1"]) > 1e-3
    return out


def answers() -> dict:
    table: dict = {"round": 1, "forward": {}, "backward": {}, "updated": {}}
    for name, value in typed().items():
        column = "forward" if name in FORWARD else "backward" if name in BACKWARD else "updated"
        table[column][name.removeprefix("new ")] = value
    return {"rounds": [table]}


def graded() -> Report:
    spec = parse_spec(SPEC)
    return grader.grade_submission(spec, answers(), grader.GradingConfig(questions=grader.default_questions(spec)))


def cell(report: Report, name: str):
    return next(c for c in report.cells if c.round == 1 and c.name == name and c.column != "updated")


def round_trips(report: Report) -> dict[str, Report]:
    return {"json": Report.from_json(json.loads(json.dumps(report.to_json()))),
            "pickle": pickle.loads(pickle.dumps(report))}


# ---------------------------------------------------------------- (a) pure: a translator made here

FAKE = {
    "not within %(band)s of the expected value": "OUT[%(band)s]",
    "it has the wrong sign": "SIGN!",
    "correct given your %(values)s": "CARRIED<%(values)s>",
    "%(title)s (%(cell)s = %(formula)s): %(explanation)s": "{%(title)s|%(cell)s|%(formula)s|%(explanation)s}",
    EN_FLIP_TITLE: "FLIP",
    EN_FLIP_EXPLANATION: "WHY-FLIP",
    "reviewed by staff": "REVIEWED",
    "%(said)s: %(note)s": "%(said)s/%(note)s",
    "%(said)s (the grader said: %(automatic)s)": "%(said)s <- %(automatic)s",
    "line %(line)s: round must be a whole number, got %(got)s": "L%(line)s ROUND? %(got)s",
    "points must be between 0 and %(limit)s": "POINTS 0..%(limit)s",
    "old %(name)s": "OLD(%(name)s)",
    "Round %(round)s": "R#%(round)s",
}


@pytest.fixture
def fake_translator():
    """Messages render with FAKE (a plain dict) while the test runs; the translator before it after."""
    before = text._translator

    def gettext(message: str) -> str:
        return FAKE.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return FAKE.get(singular if n == 1 else plural, singular if n == 1 else plural)

    text.use(gettext, ngettext)
    yield
    text.use(*before)


def test_cell_messages_and_mistake_titles_are_messages_with_their_english() -> None:
    """Each slip's message is a Text whose English is the wording the feedback always had."""
    report = graded()
    v, t = round1(), typed()
    s2, dfl, dsl, trunc = (cell(report, n) for n in ("s2", "dL/df1", "dL/ds1", "y1-f1"))
    assert (s2.status, dfl.status, dsl.status, trunc.status) == ("incorrect", "incorrect", "carried", "incorrect")
    assert all(isinstance(c.message, Text) for c in report.cells)
    assert s2.message == f"not within {BAND} of the expected value; it has the wrong sign"
    assert dfl.message == f"{EN_FLIP_TITLE} (dL/df1 = y1 - f1): {EN_FLIP_EXPLANATION}"
    assert dsl.message == f"correct given your dL/df1 = {t['dL/df1']}"
    assert trunc.message == (f"not within {BAND} of the expected value; looks truncated rather than rounded: "
                             f"round to 4 decimals")
    assert isinstance(trunc.hint, Text) and trunc.hint in trunc.message
    [flip] = report.mistakes
    assert (flip.id, flip.title, flip.explanation) == ("sign_flipped", EN_FLIP_TITLE, EN_FLIP_EXPLANATION)
    assert isinstance(flip.title, Text) and isinstance(flip.explanation, Text)
    assert cell(report, "s1").message == "correct" and v["s1"] == pytest.approx(0.46)


@pytest.mark.parametrize("how", ["json", "pickle"])
def test_a_stored_report_renders_each_message_with_the_translator(fake_translator, how: str) -> None:
    """Stored as JSON or pickled (the regrade pool), a report's messages keep their templates and
    numbers: read again, each renders through the translator, the numbers unchanged."""
    original = graded()
    report = round_trips(original)[how]
    assert report == original
    t = typed()
    assert str(cell(report, "s2").message) == f"OUT[{BAND}]; SIGN!"
    assert str(cell(report, "dL/ds1").message) == f"CARRIED<dL/df1 = {t['dL/df1']}>"
    assert str(cell(report, "dL/df1").message) == "{FLIP|dL/df1|y1 - f1|WHY-FLIP}"
    trunc = cell(report, "y1-f1")
    # The hint is the number reader's (not in FAKE: it stays English), joined to the translated part.
    assert str(trunc.message) == f"OUT[{BAND}]; looks truncated rather than rounded: round to 4 decimals"
    [flip] = report.mistakes
    assert (str(flip.title), str(flip.explanation)) == ("FLIP", "WHY-FLIP")
    # English stays English whatever the translator says.
    assert cell(report, "s2").message.english() == f"not within {BAND} of the expected value; it has the wrong sign"


def test_a_staff_review_keeps_what_the_grader_said_as_a_message(fake_translator) -> None:
    """A reviewed cell's text quotes the grader's message whole: stored and read back, both
    parts render in the reader's language, the staff note as written."""
    report = graded()
    s2 = cell(report, "s2")
    applied = ledger.Applied(ledger.Change("cell", s2.id, "correct", 1.0), record=2, reason="sign convention",
                             note="accepted: -0.92 with the other sign", by="ta", at="2026-11-28T10:00:00",
                             review=True)
    reviewed = ledger.apply(report, [applied])
    for stored in round_trips(reviewed).values():
        message = cell(stored, "s2").message
        assert message == ("reviewed by staff: accepted: -0.92 with the other sign (the grader said: "
                           f"not within {BAND} of the expected value; it has the wrong sign)")
        assert str(message) == f"REVIEWED/accepted: -0.92 with the other sign <- OUT[{BAND}]; SIGN!"


def test_staff_facing_messages_render_with_the_translator(fake_translator) -> None:
    """The key audit's and the ledger's refusals and the heatmap's labels are messages too: the
    same English as before, rendered through the translator, the values as given."""
    with pytest.raises(keyaudit.PrintedKeyError) as refused:
        keyaudit.from_csv("round,column,name,value\nx,forward,s1,0.46\n")
    assert refused.value.args[0] == "line 2: round must be a whole number, got 'x'"
    assert str(refused.value) == "L2 ROUND? 'x'"
    report = graded()
    with pytest.raises(ledger.ChangeError) as bad:
        ledger.check(report, ledger.Change("question", "Q2", points=99.0))
    assert bad.value.args[0] == "points must be between 0 and 35" and str(bad.value) == "POINTS 0..35"
    heatmap = analytics.wrong_share([report], n_rounds=1, cells=[("parameters", "w11"), ("forward", "s2")])
    assert heatmap.rows == ("Round 1",) and heatmap.columns == ("old w11", "s2")
    assert [str(r) for r in heatmap.rows] == ["R#1"] and [str(c) for c in heatmap.columns] == ["OLD(w11)", "s2"]


# ---------------------------------------------------------------- (b) Thai, from the catalogue


def test_a_stored_report_reads_in_thai() -> None:
    """In Thai, a stored report's sign flip, carried cell, truncation and named mistake read as
    the Thai catalogue has them, with the same numbers and cell names; in English as before."""
    original = graded()
    report = Report.from_json(json.loads(json.dumps(original.to_json())))
    t = typed()
    with translation.override("th"):
        assert str(cell(report, "s2").message) == f"{TH_NOT_WITHIN}; {TH_WRONG_SIGN}"
        assert str(cell(report, "dL/ds1").message) == TH_CARRIED.format(values=f"dL/df1 = {t['dL/df1']}")
        assert str(cell(report, "dL/df1").message) == f"{TH_FLIP_TITLE} (dL/df1 = y1 - f1): {TH_FLIP_EXPLANATION}"
        trunc = cell(report, "y1-f1")
        # The truncation hint is the number reader's words, rendered in the same language.
        assert str(trunc.message) == f"{TH_NOT_WITHIN}; {trunc.hint}"
        [flip] = report.mistakes
        assert (str(flip.title), str(flip.explanation)) == (TH_FLIP_TITLE, TH_FLIP_EXPLANATION)
    with translation.override("en"):
        assert str(cell(report, "s2").message) == f"not within {BAND} of the expected value; it has the wrong sign"
        assert str(report.mistakes[0].title) == EN_FLIP_TITLE


def test_a_key_audit_refusal_reads_in_thai() -> None:
    """The key audit page shows a printed key's refusal in Thai: the line and the value as given."""
    with pytest.raises(keyaudit.PrintedKeyError) as refused:
        keyaudit.from_csv("round,column,name,value\n1,forward,s1,0.46\n1,sideways,s1,0.46\n")
    with translation.override("th"):
        assert str(refused.value) == ("บรรทัด 3: column ต้องเป็นหนึ่งใน parameters, forward, backward, updated "
                                      "แต่ได้ 'sideways'")


def test_a_review_reads_in_thai_after_a_pickle() -> None:
    """A reviewed cell, pickled as the regrade pool does, reads in Thai: staff's words, then the
    grader's message in Thai; the note as the TA wrote it."""
    report = graded()
    s2 = cell(report, "s2")
    applied = ledger.Applied(ledger.Change("cell", s2.id, "correct", 1.0), record=2, reason="ok",
                             note="", by="ta", at="2026-11-28T10:00:00", review=True)
    stored = pickle.loads(pickle.dumps(ledger.apply(report, [applied])))
    with translation.override("th"):
        assert str(cell(stored, "s2").message) == TH_GRADER_SAID.format(
            said=TH_REVIEWED, automatic=f"{TH_NOT_WITHIN}; {TH_WRONG_SIGN}")


# ---------------------------------------------------------------- (c) the feedback page


@pytest.mark.django_db
def test_the_feedback_page_shows_cell_messages_in_the_readers_language() -> None:
    """A student whose browser asks for Thai reads the marks' messages in Thai on the feedback
    page; the same attempt in English reads as before."""
    course = make_course()
    alice = make_member(course=course, username="alice")
    assignment = make_assignment(course=course)
    client = client_for(alice)
    values = {f"r1.{'forward' if n in FORWARD else 'backward' if n in BACKWARD else 'updated'}."
              f"{n.removeprefix('new ')}": value for n, value in typed().items()}
    submission = submit(client, assignment, values)
    assert report_of(submission).total > 0
    url = reverse("grading:submission", args=[submission.pk])
    thai = client.get(url, HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert f"{TH_NOT_WITHIN}; {TH_WRONG_SIGN}" in thai
    assert TH_CARRIED.format(values=f"dL/df1 = {typed()['dL/df1']}") in thai
    assert TH_FLIP_TITLE in thai
    assert "it has the wrong sign" not in thai
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"not within {BAND} of the expected value; it has the wrong sign" in english
    assert TH_WRONG_SIGN not in english


def test_a_hidden_layer_tables_headings_read_in_thai() -> None:
    """The round tables of a network with a hidden layer name each layer and the loss in the
    reader's language (the catalogue's Thai), and in English as before."""
    from django.utils import translation

    from grading import engine
    from grading.selectors.problems import table_layout
    from tests.test_marking_layers import HIDDEN

    groups = table_layout(engine.parse_spec(HIDDEN))
    assert [g.title for g in groups] == ["Layer 1 (hidden)", "Layer 2 (output)", "Loss"]
    with translation.override("th"):
        assert [str(g.title) for g in groups] == ["ชั้นที่ 1 (ชั้นซ่อน)", "ชั้นที่ 2 (เอาต์พุต)", "ค่าความสูญเสีย"]
