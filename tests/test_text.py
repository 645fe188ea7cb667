"""grading.engine.text: a pure module's message is its English string and renders again in the
reader's language; its structure survives JSON, pickling and a stored report."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from dataclasses import replace

import pytest

from grading.engine import text
from grading.grade.report import Report
from grading.engine.text import Text, _, join, ngettext
from tests.test_report_schema import HW, graded

# A translator written here, independent of any catalogue: a few templates in "Thai".
THAI = {
    "not within %(band)s of the expected value": "ไม่อยู่ในช่วง %(band)s ของค่าที่ถูกต้อง",
    "your %(name)s is blank": "%(name)s ของคุณเว้นว่าง",
    "%(n)s cell": "%(n)s ช่อง",
    "wrong sign": "เครื่องหมายกลับ",
}


@pytest.fixture
def thai() -> Iterator[None]:
    """Install the dictionary translator, and the real one back afterwards."""
    before = text._translator
    text.use(lambda s: THAI.get(s, s), lambda s, p, n: THAI.get(s, s))
    yield
    text._translator = before


def test_a_message_is_its_english_string() -> None:
    """Comparisons, JSON and str methods see the English text with the parameters filled in."""
    m = _("not within %(band)s of the expected value", band="±0.000051")
    assert m == "not within ±0.000051 of the expected value"
    assert json.dumps({"m": m}) == '{"m": "not within \\u00b10.000051 of the expected value"}'
    assert m.startswith("not within")


def test_str_renders_in_the_installed_language_with_the_same_numbers(thai: None) -> None:
    """str() and f-strings render the template translated; the parameters stay as they were."""
    m = _("not within %(band)s of the expected value", band="±0.000051")
    assert str(m) == "ไม่อยู่ในช่วง ±0.000051 ของค่าที่ถูกต้อง"
    assert f"{m}" == str(m)
    assert m.english() == "not within ±0.000051 of the expected value"
    assert m == "not within ±0.000051 of the expected value"  # the value itself stays English


def test_nested_messages_and_joins_render_each_piece(thai: None) -> None:
    """A message inside a message and a "; " join are translated piece by piece."""
    inner = _("your %(name)s is blank", name="s1")
    joined = join("; ", [_("wrong sign"), inner, "0.4600"])
    assert joined == "wrong sign; your s1 is blank; 0.4600"
    assert str(joined) == "เครื่องหมายกลับ; s1 ของคุณเว้นว่าง; 0.4600"
    assert str(ngettext("%(n)s cell", "%(n)s cells", 3)) == "3 ช่อง"
    assert ngettext("%(n)s cell", "%(n)s cells", 3) == "3 cells"
    assert ngettext("%(n)s cell", "%(n)s cells", 1) == "1 cell"


def test_a_translation_with_a_broken_placeholder_falls_back_to_english() -> None:
    """A typo in a catalogue entry must not break a page."""
    before = text._translator
    text.use(lambda s: "ไม่อยู่ใน %(bnd)s", lambda s, p, n: s)
    try:
        assert str(_("not within %(band)s of the expected value", band="x")) == "not within x of the expected value"
    finally:
        text._translator = before


def test_structure_survives_json_data_and_pickle(thai: None) -> None:
    """to_data/from_data and pickling keep the template, so a stored message renders later."""
    m = join("; ", [_("not within %(band)s of the expected value", band="±0.05"),
                    ngettext("%(n)s cell", "%(n)s cells", 2)])
    for back in (Text.from_data(json.loads(json.dumps(m.to_data()))), pickle.loads(pickle.dumps(m))):
        assert isinstance(back, Text) and back == m
        assert str(back) == "ไม่อยู่ในช่วง ±0.05 ของค่าที่ถูกต้อง; 2 ช่อง"


def test_a_report_stores_a_messages_structure_beside_its_english(thai: None) -> None:
    """A stored report's cell message is English in its own field (what exports read) and
    renders translated once read back; a plain string (an older report) stays as stored."""
    report = graded(HW, {"rounds": [{"round": 1, "forward": {"s1": "0.1"}}]})
    cell = next(c for c in report.cells if c.status == "incorrect")
    message = _("not within %(band)s of the expected value", band="±0.000051")
    report = replace(report, cells=(replace(cell, message=message), *report.cells[1:]))
    stored = json.loads(json.dumps(report.to_json()))
    assert stored["cells"][0]["message"] == "not within ±0.000051 of the expected value"
    back = Report.from_json(stored)
    assert str(back.cells[0].message) == "ไม่อยู่ในช่วง ±0.000051 ของค่าที่ถูกต้อง"
    del stored["cells"][0]["i18n"]
    assert str(Report.from_json(stored).cells[0].message) == "not within ±0.000051 of the expected value"
