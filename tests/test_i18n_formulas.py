"""The formula checker's, the number parser's and the engine's messages read in the reader's
language: each is a grading.engine.text.Text whose English is what it always was, whose structure
survives JSON, a stored report, the verdict cache and the sandbox, and which renders in Thai from
the catalogue (the Thai here is the fragment's hand-written translation, copied, not computed).

The Thai tests need locale/th/LC_MESSAGES/django.mo compiled from locale/parts/formulas.po (or
from the assembled catalogue).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grading import engine

from grading.grade import grader

from grading.engine import text
from grading.engine.degenerate import degenerate_reasons
from grading.engine.variants import VariantError, draw
from grading.formulas import FormulaError, VerdictCache, grade_formulas, parse_formula, q1_table
from grading.formulas import sandbox, symbolic
from grading.marking import parse_number
from grading.grade.report import Report
from grading.engine.text import Text

# A translator written here, independent of any catalogue: bracketed stand-ins for a language.
FAKE = {
    "'=' at character %(at)s: write only the right-hand side of the formula": "[EQ@%(at)s] RHS",
    "not equivalent to %(row)s: %(hint)s": "[NEQ %(row)s] %(hint)s",
    "it has the wrong sign": "[SIGN]",
    "round %(round)s %(name)s = %(value)s is outside [%(low)s, %(high)s]: the sigmoid is saturated "
    "and its slope f(1 - f) nearly 0": "[SAT r%(round)s %(name)s=%(value)s %(low)s..%(high)s]",
    "could not decide automatically (%(reason)s); an instructor will review this row": "[UNDECIDED %(reason)s]",
    "sympy could not simplify the difference": "[NO-SIMPLIFY]",
    "equivalent, but not chained: write %(row)s in terms of %(wanted)s (%(rule)s)":
        "[CHAIN %(row)s<-%(wanted)s %(rule)s]",
    "a forward function is written from the previous function": "[FWD]",
    "use a point for decimals, not a comma": "[COMMA]",
    "the problem is degenerate: %(reasons)s (and %(n)s more)": "[DEGENERATE %(reasons)s +%(n)s]",
    "the problem is degenerate: %(reasons)s": "[DEGENERATE %(reasons)s]",
    "learning_rate must be positive, got %(value)s": "[LR>0 %(value)s]",
}

ROOT = Path(__file__).resolve().parent.parent
HW = engine.parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))
S1 = "w11*x1 + w21*x2 + b1"
# Saturated on purpose: s1 = 5*x1 = 5 and s2 = 5*x2 = 5, so f = σ(5) > 0.99.
SATURATED = {"weights": [[5.0, 0.0], [0.0, 5.0]], "biases": [0.0, 0.0], "learning_rate": 0.1,
             "samples": [{"x": [1.0, 1.0], "y": [1.0, 0.0]}]}


@pytest.fixture
def fake() -> Iterator[None]:
    """Install the dictionary translator, and whatever was installed back afterwards."""
    before = text._translator
    text.use(lambda s: FAKE.get(s, s), lambda s, p, n: FAKE.get(s if n == 1 else p, s if n == 1 else p))
    yield
    text._translator = before


def parse_error(formula: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse_formula(formula)
    return caught.value


def stored(message: Text) -> Text:
    """The message written as JSON data and read back, as a report stores it."""
    return Text.from_data(json.loads(json.dumps(message.to_data())))


def saturated_f1_reason() -> Text:
    found = [r for r in degenerate_reasons(engine.parse_spec(SATURATED), decimals=4)
             if r.rule == "saturated" and r.round == 1 and r.name == "f1"]
    assert len(found) == 1
    return found[0].message


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ---------------------------------------------------------------- (a) pure, no catalogue


def test_a_parse_error_is_a_text_with_its_english_and_its_position_as_a_number(fake: None) -> None:
    """'s1 = ...' outside a row: the message is the English of before, kept as template and
    position, the same after JSON, and rendered by the installed translator with the same 4."""
    message = parse_error("s1 = w11*x1").message
    assert isinstance(message, Text)
    assert message == "'=' at character 4: write only the right-hand side of the formula"
    again = stored(message)
    assert again == message and again.template == message.template and again.params == {"at": 4}
    assert str(message) == str(again) == "[EQ@4] RHS"
    assert str(parse_error("s1 = w11*x1")) == "[EQ@4] RHS"  # str(exc) renders in the active language


def test_a_wrong_sign_verdict_is_a_text_and_renders_piece_by_piece(fake: None) -> None:
    """−s1 for s1 is 'not equivalent to s1: it has the wrong sign', translated as a whole and in
    its pieces, the row name untouched."""
    mark = grade_formulas({"s1": f"-({S1})"})[0]
    assert (mark.row, mark.status) == ("s1", "incorrect")
    assert isinstance(mark.message, Text)
    assert mark.message == "not equivalent to s1: it has the wrong sign"
    assert str(mark.message) == str(stored(mark.message)) == "[NEQ s1] [SIGN]"


def test_a_wrong_sign_verdict_keeps_its_structure_in_a_stored_report(fake: None) -> None:
    """The report (schema 3) stores the verdict's structure beside its English; read back, the
    formula's message renders translated again."""
    report = grader.grade_submission(HW, {"formulas": {"s1": f"-({S1})"}},
                                     grader.GradingConfig(questions=grader.default_questions(HW)))
    data = json.loads(json.dumps(report.to_json()))
    row = next(f for f in data["formulas"] if f["row"] == "s1")
    assert row["message"] == "not equivalent to s1: it has the wrong sign"  # English for old readers
    assert "i18n" in row and "message" in row["i18n"]
    message = Report.from_json(data).formula("s1").message
    assert isinstance(message, Text) and str(message) == "[NEQ s1] [SIGN]"


def test_a_degenerate_reason_is_a_text_with_the_value_computed_by_hand(fake: None) -> None:
    """σ(5) = 0.993307 is outside [0.01, 0.99]: said in English as before, and in another language
    with the same value and bounds."""
    f1 = f"{sigmoid(5.0):.6f}"
    assert f1 == "0.993307"
    message = saturated_f1_reason()
    assert isinstance(message, Text)
    assert message == (f"round 1 f1 = {f1} is outside [0.01, 0.99]: the sigmoid is saturated and its "
                       "slope f(1 - f) nearly 0")
    assert str(message) == str(stored(message)) == f"[SAT r1 f1={f1} 0.01..0.99]"


def test_a_degenerate_template_error_renders_in_the_active_language(fake: None) -> None:
    """The VariantError of a degenerate spec keeps its type; str(exc) renders every reason."""
    with pytest.raises(VariantError) as caught:
        draw(SATURATED, 1, "student")
    message = caught.value.args[0]
    assert isinstance(message, Text) and message.english().startswith("the problem is degenerate: ")
    assert str(caught.value).startswith("[DEGENERATE ")
    assert f"[SAT r1 f1={sigmoid(5.0):.6f} 0.01..0.99]" in str(caught.value)


def test_a_spec_error_keeps_its_type_and_renders_in_the_active_language(fake: None) -> None:
    """A negative learning rate is a SpecError (a ValueError) saying so in the reader's language."""
    with pytest.raises(engine.SpecError) as caught:
        engine.parse_spec({**SATURATED, "learning_rate": -1})
    assert isinstance(caught.value, ValueError)
    assert caught.value.args[0] == "learning_rate must be positive, got -1.0"
    assert str(caught.value) == f"{caught.value}" == "[LR>0 -1.0]"


def test_a_number_message_is_a_text(fake: None) -> None:
    """A decimal comma is refused with the same English, kept as a message to translate."""
    parsed = parse_number("0,46")
    assert parsed.status == "invalid" and isinstance(parsed.message, Text)
    assert parsed.message == "use a point for decimals, not a comma"
    assert str(parsed.message) == "[COMMA]"


def test_the_sandbox_sends_a_plain_key_and_the_parent_makes_the_message(fake: None) -> None:
    """relu(a) − relu(−a) is a = s1 at every point, which sympy cannot prove: the child reports the
    reason as a plain key (the sandbox refuses objects), the row's message is built from it in the
    parent and renders translated, reason included."""
    answer = f"relu({S1}) - relu(-({S1}))"
    table = q1_table(2, 2)
    expr = parse_formula(answer)
    result = sandbox.run_with_deadline(symbolic.equivalent, [("s1", (expr, "s1", table))],
                                       time.monotonic() + 20)
    assert result == {"s1": ("unknown", "not_simplified")}
    assert type(result["s1"][1]) is str
    mark = grade_formulas({"s1": answer}, time_limit=20)[0]
    assert mark.status == "undecided"
    assert mark.message == ("could not decide automatically (sympy could not simplify the difference); "
                            "an instructor will review this row")
    assert isinstance(mark.message.params["reason"], Text)
    assert str(mark.message) == "[UNDECIDED [NO-SIMPLIFY]]"


def test_a_verdict_from_the_cache_is_still_a_text(fake: None) -> None:
    """An unchained f1 decided in the sandbox, then read from the verdict cache (no new check),
    is the same message and renders translated."""
    answers = {"f1": f"1/(1 + e^(-({S1})))"}
    cache = VerdictCache()
    first = {m.row: m for m in grade_formulas(answers, cache=cache, time_limit=20)}["f1"]
    hits = cache.hits
    second = {m.row: m for m in grade_formulas(answers, cache=cache, time_limit=20)}["f1"]
    assert cache.hits > hits
    assert first.status == second.status == "not_chained"
    english = ("equivalent, but not chained: write f1 in terms of s1 (a forward function is written "
               "from the previous function)")
    assert first.message == second.message == english
    assert isinstance(second.message, Text)
    assert str(second.message) == "[CHAIN f1<-s1 [FWD]]"


# ---------------------------------------------------------------- (b) Thai from the catalogue


@pytest.fixture
def thai() -> Iterator[Callable[[object], str]]:
    """Render with Django's translator in Thai (the app installs it at start-up)."""
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    before = text._translator
    text.use(gettext, ngettext)
    with translation.override("th"):
        yield str
    text._translator = before


def test_a_parse_error_reads_in_thai(thai: Callable[[object], str]) -> None:
    """The '=' error says where in Thai, with the same position."""
    assert thai(parse_error("s1 = w11*x1").message) == "'=' ที่ตำแหน่ง 4: เขียนเฉพาะด้านขวาของสูตร"
    assert thai(parse_error("w11*x1 +").message) == "สูตรจบเร็วเกินไป: ขาดค่าหลัง '+' ที่ตำแหน่ง 8"


def test_number_messages_read_in_thai(thai: Callable[[object], str]) -> None:
    """A non-Thai script's digits and a decimal comma are refused in Thai."""
    assert thai(parse_number("٠.٤٦").message) == \
        "ใช้ตัวเลข 0-9 (ระบบอ่านเลขไทย ๐-๙ และตัวเลขแบบเต็มความกว้างได้ด้วย)"
    assert thai(parse_number("0,46").message) == "ใช้จุดเป็นจุดทศนิยม ไม่ใช่เครื่องหมายจุลภาค"
    assert thai(parse_number("1.2.3").message) == "มีจุดทศนิยมมากกว่าหนึ่งจุด"


def test_a_degenerate_reason_reads_in_thai(thai: Callable[[object], str]) -> None:
    """The saturated sigmoid is explained in Thai with the value σ(5) computed here."""
    f1 = f"{sigmoid(5.0):.6f}"
    assert thai(saturated_f1_reason()) == (
        f"รอบ 1 f1 = {f1} อยู่นอกช่วง [0.01, 0.99]: ซิกมอยด์อิ่มตัวและความชัน f(1 - f) เกือบเป็น 0")


def test_a_wrong_sign_verdict_and_a_spec_error_read_in_thai(thai: Callable[[object], str]) -> None:
    """The verdict on −s1 and a spec's negative learning rate, both in Thai."""
    assert thai(grade_formulas({"s1": f"-({S1})"})[0].message) == "ไม่สมมูลกับ s1: ค่านี้มีเครื่องหมายกลับ"
    with pytest.raises(engine.SpecError) as caught:
        engine.parse_spec({**SATURATED, "learning_rate": -1})
    assert str(caught.value) == "learning_rate ต้องเป็นบวก แต่ได้ -1.0"


# ---------------------------------------------------------------- (c) the live preview in Thai


def test_the_formula_preview_says_why_not_in_thai(world) -> None:
    """A student reading Thai gets the parser's message in Thai in the preview's JSON, for a text
    alone and for a row whose name the text does not start with."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    from tests.webtools import client_for

    url = reverse("grading:formula_preview")
    # LocaleMiddleware leaves the request's language active in this thread: put it back after.
    with translation.override(translation.get_language()):
        client = client_for(world["alice"])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
        alone = client.get(url, {"text": "s1 = w11*x1", "n": 2, "m": 2}).json()
        row = client.get(url, {"text": "s2 = w11*x1", "n": 2, "m": 2, "row": "s1"}).json()
        english = client_for(world["alice"]).get(url, {"text": "s1 = w11*x1", "n": 2, "m": 2}).json()
    assert alone == {"mathml": "", "error": "'=' ที่ตำแหน่ง 4: เขียนเฉพาะด้านขวาของสูตร"}
    assert row["error"] == "แถวนี้คือ s1 แต่คำตอบขึ้นต้นด้วย 's2 =': เขียนเฉพาะด้านขวา"
    assert english["error"] == "'=' at character 4: write only the right-hand side of the formula"
