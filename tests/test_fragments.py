"""Pages drawn from kept fragments (grading/views/fragments.py) show each reader their own
values, in their language, and a new ledger record at once: nothing kept leaks across students,
languages or records."""
from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from grading import services
from grading.models import Question
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.webtools import client_for


@pytest.fixture
def world(db):
    course = make_course()
    return {"alice": make_member(course=course, username="alice"),
            "bob": make_member(course=course, username="bob"),
            "teacher": make_member(course=course, username="teacher", role="instructor"),
            "assignment": make_assignment(course=course)}


def inputs(html: str) -> dict[str, str]:
    """Cell input name -> its value attribute, read from the page."""
    out = {}
    for tag in re.findall(r"<input [^>]*data-cell[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        out[name] = unescape(re.search(r'value="([^"]*)"', tag).group(1))
    return out


def draft_of(values: dict[str, str]) -> dict:
    """The answers JSON of a draft holding ``values`` ("r1.forward.s1" -> text)."""
    rounds: dict[int, dict] = {}
    for name, text in values.items():
        r, column, cell = name.split(".", 2)
        table = rounds.setdefault(int(r[1:]), {"round": int(r[1:])})
        table.setdefault(column, {})[cell] = text
    return {"rounds": list(rounds.values()), "formulas": {}}


def test_each_student_sees_their_own_values_from_the_same_kept_tables(world):
    a = world["assignment"]
    url = reverse("grading:assignment", args=[a.pk])
    names = list(inputs(client_for(world["teacher"]).get(url).content.decode()))
    assert len(names) > 40
    mine = {name: f"0.{k + 1:04d}" for k, name in enumerate(names)}
    theirs = {name: f"-{k + 3}.5" for k, name in enumerate(names[:10])}
    services.draft_save(assignment=a, student=world["alice"], answers=draft_of(mine))
    services.draft_save(assignment=a, student=world["bob"], answers=draft_of(theirs))
    for _ in range(2):  # the second reading comes from what the first one kept
        alice = inputs(client_for(world["alice"]).get(url).content.decode())
        bob = inputs(client_for(world["bob"]).get(url).content.decode())
        assert alice == mine
        assert bob == {name: theirs.get(name, "") for name in names}
    empty = inputs(client_for(make_member(course=a.course, username="carol")).get(url).content.decode())
    assert set(empty.values()) == {""} and set(empty) == set(names)


def test_a_value_that_is_not_a_number_is_drawn_with_its_message_and_escaped(world):
    a = world["assignment"]
    url = reverse("grading:assignment", args=[a.pk])
    client_for(world["bob"]).get(url)  # the tables are kept, empty
    services.draft_save(assignment=a, student=world["alice"],
                        answers=draft_of({"r1.forward.s1": '"><b>x</b>', "r1.forward.f1": "0.5"}))
    html = client_for(world["alice"]).get(url).content.decode()
    assert "<b>x</b>" not in html
    tag = re.search(r'<input [^>]*name="r1\.forward\.s1"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tag and "is-invalid" in tag
    assert inputs(html)["r1.forward.s1"] == '"><b>x</b>' and inputs(html)["r1.forward.f1"] == "0.5"


def test_the_language_and_the_questions_are_part_of_what_is_kept(world):
    a = world["assignment"]
    url = reverse("grading:assignment", args=[a.pk])
    client = client_for(world["alice"])
    english = client.get(url).content.decode()
    assert "Round 1 (initialization step)" in english
    client.cookies["django_language"] = "th"
    thai = client.get(url).content.decode()
    assert "Round 1 (initialization step)" not in thai and 'lang="th"' in thai
    Question.objects.filter(assignment=a, round=2).update(extra_credit=True)  # staff's authoring
    heading = re.search(r'<h2 class="h5" id="round-2-title">.*?</h2>', client.get(url).content.decode()).group(0)
    assert "badge" in heading


def test_a_new_ledger_record_shows_at_once_on_the_feedback_page(world):
    a = world["assignment"]
    values = round1_values()
    wrong = dict(values, **{"r1.forward.s1": "9.9999"})
    sub = services.submission_submit(assignment=a, student=world["alice"], answers=draft_of(wrong))
    url = reverse("grading:submission", args=[sub.pk])
    client = client_for(world["alice"])

    def mark_of_s1() -> str:
        html = client.get(url).content.decode()
        return re.search(r'<tr id="cell-r1\.forward\.s1">.*?</tr>', html, re.S).group(0)

    assert "mark-incorrect" in mark_of_s1()
    assert "mark-incorrect" in mark_of_s1()  # read again, from what was kept
    services.grading_override(submission=sub, by=world["teacher"], reason="the printed key is wrong here",
                              changes=[services.Change(kind="cell", target="r1.forward.s1", status="correct", credit=1.0)])
    assert "mark-correct" in mark_of_s1()


def test_a_skeleton_fills_each_input_by_its_own_name_and_escapes():
    from grading.views.fragments import EntrySkeleton

    html = ('<p value="">text</p><input data-old-value="" name="r1.forward.s1" value="" data-cell>'
            '<span data-given="0.5">0.5</span><input type="text" name="a&amp;b" id="x" value="" disabled>')
    skeleton = EntrySkeleton(html)
    assert skeleton.names == ["r1.forward.s1", "a&b"]
    filled = skeleton.fill({"a&b": '"><i>', "r1.forward.s1": "0.46"})
    assert filled == ('<p value="">text</p><input data-old-value="" name="r1.forward.s1" value="0.46" data-cell>'
                      '<span data-given="0.5">0.5</span><input type="text" name="a&amp;b" id="x" '
                      'value="&quot;&gt;&lt;i&gt;" disabled>')
    assert skeleton.fill({}) == html


def test_the_store_holds_its_objects_weakly_and_never_mistakes_a_reused_id():
    """A value kept for an object is found for that object only; once the object is gone the
    entry no longer matches (even if another object gets its id), and the store kept nothing alive."""
    import gc
    import weakref

    from grading.views import fragments

    class Problem:
        pass

    first = Problem()
    gone = weakref.ref(first)
    assert fragments.kept(("test", id(first)), lambda: "first", holds=first) == "first"
    assert fragments.kept(("test", id(first)), lambda: "again", holds=first) == "first"  # kept
    key = ("test", id(first))
    del first
    gc.collect()
    assert gone() is None  # the store did not keep it alive
    other = Problem()
    assert fragments.kept(key, lambda: "other", holds=other) == "other"  # a reused id is not the same object


def score_line(html: str) -> str:
    return re.search(r'<table class="table table-sm w-auto" id="question-scores">.*?</table>', html, re.S).group(0)


def test_a_students_kept_marks_follow_the_student_the_record_the_language_and_the_reveal(world, clock):
    """The kept reading of a record (scores, Q1 verdicts, the note on expected values): each
    student their own; a new record at once; Thai in Thai; the note changes when the due time
    passes and when staff change the reveal rule."""
    from datetime import timedelta

    from grading.models import Assignment

    a = world["assignment"]
    right = services.submission_submit(assignment=a, student=world["alice"], answers=draft_of(round1_values()))
    empty = services.submission_submit(assignment=a, student=world["bob"], answers=draft_of({}))
    alice, bob = client_for(world["alice"]), client_for(world["bob"])
    total = re.compile(r'<tfoot><tr><th>Total</th><th class="text-end">([^<]*)</th>')
    mine = alice.get(right.get_absolute_url()).content.decode()
    theirs = bob.get(empty.get_absolute_url()).content.decode()
    assert float(total.search(score_line(mine)).group(1)) > 0
    assert total.search(score_line(theirs)).group(1) == "0"
    assert score_line(alice.get(right.get_absolute_url()).content.decode()) == score_line(mine)  # kept
    services.grading_override(submission=empty, by=world["teacher"], reason="a kind hand",
                              changes=[services.Change(kind="total", points=12.5)])
    again = bob.get(empty.get_absolute_url()).content.decode()
    assert total.search(score_line(again)).group(1) == "12.5" and 'id="staff-changes"' in again
    bob.cookies["django_language"] = "th"
    thai = bob.get(empty.get_absolute_url()).content.decode()
    assert "Score per question" not in thai and 'id="question-scores"' in thai
    hidden_until_due = "Expected values are not shown yet: they appear after the due time"
    assert hidden_until_due in alice.get(right.get_absolute_url()).content.decode()
    Assignment.objects.filter(pk=a.pk).update(reveal="never")
    never = alice.get(right.get_absolute_url()).content.decode()
    assert "this assignment never shows them" in never and hidden_until_due not in never
    Assignment.objects.filter(pk=a.pk).update(reveal="after_due")
    clock.shift(timedelta(days=8))  # past the due time: the expected values show
    after = alice.get(right.get_absolute_url()).content.decode()
    assert hidden_until_due not in after and "Expected values are not shown" not in after


def test_the_pages_fixed_help_follows_the_language_the_decimals_and_the_depth(world):
    """The tolerance note, Q1's help and the spreadsheet note are kept per language, decimals
    and network depth: each reader sees their own language, each assignment its own decimals."""
    a = world["assignment"]
    other = make_assignment(course=a.course, slug="three-places")
    type(other).objects.filter(pk=other.pk).update(decimals=3)
    client = client_for(world["alice"])

    def tolerance(assignment) -> str:
        page = client.get(reverse("grading:assignment", args=[assignment.pk])).content.decode()
        return re.search(r'<div class="alert alert-info" id="tolerance">(.*?)</div>', page, re.S).group(1)

    four, three = tolerance(a), tolerance(other)
    assert f"Answer with {a.decimals} decimal places" in four and "Answer with 3 decimal places" in three
    assert "w11*x1 + w21*x2 + b1" in client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    client.cookies["django_language"] = "th"
    thai = tolerance(a)
    assert "Tolerance" not in thai and str(a.decimals) in thai and re.search("[\u0e00-\u0e7f]", thai)
    client.cookies["django_language"] = "en"
    assert tolerance(a) == four
