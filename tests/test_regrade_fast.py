"""A class regrade's fast path (attempts read as rows, identical answers graded once, chunks
graded while the next is read, a pool of workers) finds exactly what grading each attempt again
on its own finds: a plain loop here through ``grader.grade_submission``, the staff changes
replayed, the diff taken, over a class with slips, copies, overrides, a withdrawal, Q1
formulas, per-student variants and practice attempts, after a change of decimals 4 -> 3.
"""
from __future__ import annotations

import math

import pytest

from grading import engine, selectors, services
from grading.grade import grader, ledger
from grading.models import Assignment, Grading, Membership, Submission
from grading.services import regrade as regrade_module
from grading.services.grades import staff_changes
from tests.factories import SPEC_4_1, make_assignment, make_course, make_member
from tests.variant_help import FREE, expected_draw, round_answers, template

pytestmark = pytest.mark.django_db

KEY = engine.answer_key(engine.parse_spec(SPEC_4_1))


def round1(offset: float = 0.0, cell: str = "s1", formulas: dict | None = None) -> dict:
    """Round 1 typed to 4 places, one forward ``cell`` moved by ``offset``."""
    table: dict = {"round": 1}
    for c in KEY.graph.gradable(1):
        value = KEY.values[c.key] + (offset if c.name == cell and c.key.column == "forward" else 0.0)
        table.setdefault(c.key.column, {})[c.name] = f"{value:.4f}"
    return {"rounds": [table], **({"formulas": formulas} if formulas else {})}


def digit_slip() -> dict:
    """Round 1 with s1 typed 0.5600 for 0.4600 (a digit slip) and f1 carried from it: a root
    the class index keeps (two students who make it alike are a copy signal)."""
    answers = round1()
    forward = answers["rounds"][0]["forward"]
    forward["s1"] = "0.5600"
    forward["f1"] = f"{1 / (1 + math.exp(-0.56)):.4f}"
    return answers


def nested(flat: dict[str, str], slip: str = "", by: float = 0.0) -> dict:
    """The answer form's names (``r1.forward.s1``) as stored answers; ``slip``'s value moved."""
    rounds: dict[int, dict] = {}
    for name, text in flat.items():
        r, column, cell = name.split(".", 2)
        value = f"{float(text) + by:.4f}" if name == slip else text
        rounds.setdefault(int(r[1:]), {"round": int(r[1:])}).setdefault(column, {})[cell] = value
    return {"rounds": list(rounds.values())}


@pytest.fixture
def school():
    course = make_course()
    names = ("ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida", "jon")
    people = {n: make_member(course=course, username=n) for n in names}
    prof = make_member(course=course, username="prof", role=Membership.Role.INSTRUCTOR)
    shared = make_assignment(course=course)
    submit = services.submission_submit

    def attempt(assignment, name, answers):
        return submit(assignment=assignment, student=people[name], answers=answers)

    attempt(shared, "ann", round1())
    attempt(shared, "ann", round1())  # the same answers twice: one grading for both
    ben = attempt(shared, "ben", round1(0.0003, "f1"))
    attempt(shared, "dan", round1(0.0003, "f1"))  # ben's answers, another student
    cat = attempt(shared, "cat", round1(0.01, "s1"))
    eve = attempt(shared, "eve", round1(0.01, "s1"))
    attempt(shared, "fay", {})
    attempt(shared, "gus", round1(0.0003, "f1", formulas={"s1": "w11*x1 + w21*x2 + b1", "f1": "s1",
                                                           "dL/df1": "y1 - f1"}))
    # ida's first attempt and jon's are the same answers, but only ida's meets a classmate's
    # numbers now (the index holds each student's latest attempt: ida's second is right).
    attempt(shared, "ida", digit_slip())
    attempt(shared, "ida", round1())
    attempt(shared, "jon", digit_slip())
    services.grading_override(submission=cat, changes=[services.Change("question", "Q2", points=30.0)],
                              by=prof, reason="worked on paper")
    services.grading_override(submission=cat, changes=[services.Change("cell", "r1.forward.f2", "incorrect", 0.0)],
                              by=prof, reason="f2 copied")
    services.grading_override(submission=ben, changes=[services.Change("question", "Q2", points=20.0)],
                              by=prof, reason="late page")
    services.grading_withdraw(submission=ben, kind="question", target="Q2", by=prof, reason="page found")
    services.grading_override(submission=eve, changes=[services.Change("total", points=33.0)],
                              by=prof, reason="agreed")

    # Per-student numbers: hal types gus's (right for gus, a copy for hal), cat slips one cell.
    varied = make_assignment(course=course, spec=template(), slug="varied")
    own = {n: expected_draw(template(), FREE, varied.seed, str(people[n].pk)) for n in ("gus", "hal", "cat")}
    attempt(varied, "gus", nested(round_answers(own["gus"])))
    attempt(varied, "hal", nested(round_answers(own["gus"])))
    attempt(varied, "cat", nested(round_answers(own["cat"]), "r1.forward.f1", 0.0003))

    # Practice: a fresh problem each attempt.
    practice = make_assignment(course=course, spec=template(), slug="practice", max_attempts=1)
    Assignment.objects.filter(pk=practice.pk).update(practice=True)
    practice.refresh_from_db()
    for n in (1, 2, 3):  # the third typed as the second: the same answers on another problem
        spec = expected_draw(template(), FREE, practice.seed, str(people["ann"].pk), attempt=min(n, 2))
        attempt(practice, "ann", nested(round_answers(spec), "r1.forward.f2" if n > 1 else "", 0.0003))

    Assignment.objects.filter(course=course).update(decimals=3)
    return {name: Assignment.objects.get(pk=a.pk) for name, a in
            (("shared", shared), ("varied", varied), ("practice", practice))}


def one_by_one(assignment: Assignment) -> tuple[dict, dict]:
    """Each graded attempt graded again on its own, in a plain loop: its line (what changes and
    the overrides kept) and its fingerprint (record number, digest of the report to write)."""
    config = services.grading_config(assignment)
    lines, plan = {}, {}
    for sub in (Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
                .select_related("student", "variant").order_by("student__username", "attempt")):
        records = list(Grading.objects.filter(submission=sub).order_by("sequence"))
        if not records:
            continue
        problem = engine.parse_spec(sub.variant.spec if sub.variant is not None else assignment.spec)
        others = selectors.class_numbers(assignment, exclude_student=sub.student)
        auto = grader.grade_submission(problem, sub.answers, config, others)
        changes = staff_changes(records)
        new = ledger.replay(auto, changes)
        d = ledger.diff(records[-1].report, new)
        kept = ledger.kept_overrides(auto, changes, new)
        plan[str(sub.pk)] = [records[-1].sequence, ledger.digest(new) if d.changed else ""]
        if d.changed or kept:
            lines[sub.pk] = (d.changed, d.old_total, d.new_total, d.questions, d.cells, d.formulas, kept)
    return lines, plan


def fast_lines(outcome: regrade_module.RegradeOutcome) -> dict:
    return {i.submission.pk: (i.diff.changed, i.diff.old_total, i.diff.new_total, i.diff.questions,
                              i.diff.cells, i.diff.formulas, i.diff.kept) for i in outcome.changed + outcome.kept}


@pytest.mark.parametrize("name", ["shared", "varied", "practice"])
def test_a_class_dry_run_equals_grading_each_attempt_again_on_its_own(school, name):
    """Every line, every fingerprint and the count of unchanged attempts are those of the loop."""
    assignment = school[name]
    outcome = services.regrade_assignment(assignment=assignment, dry_run=True)
    lines, plan = one_by_one(assignment)
    assert outcome.plan == plan
    assert fast_lines(outcome) == lines
    assert outcome.unchanged == len(plan) - sum(1 for line in lines.values() if line[0])
    assert any(line[0] for line in lines.values()), "the change of decimals changes some attempt"
    assert outcome.unchanged > 0


def test_the_class_has_what_the_fast_path_could_get_wrong(school):
    """The fixture is what the comparison needs: identical answers, copies flagged by name,
    kept overrides and a withdrawn one, variants and practice attempts on their own problems."""
    shared = school["shared"]
    lines, _ = one_by_one(shared)
    answers = [s.answers for s in Submission.objects.filter(assignment=shared)]
    assert any(answers.count(a) > 1 for a in answers)
    assert any(line[6] for line in lines.values()), "some attempt keeps an override"
    ida, jon = (Submission.objects.get(assignment=shared, student__username=n, attempt=1) for n in ("ida", "jon"))
    assert ida.answers == jon.answers
    assert lines[ida.pk][4] and jon.pk not in lines, "ida's copy signal changes her marks, not jon's"
    hal = Submission.objects.get(assignment=school["varied"], student__username="hal")
    assert any(r.copied_from == ("gus",) for r in selectors.current_report(hal).roots)
    practice = Submission.objects.filter(assignment=school["practice"])
    assert len({s.variant_id for s in practice}) == 3
    assert practice.get(attempt=2).answers == practice.get(attempt=3).answers


def test_a_pool_and_small_chunks_find_what_one_process_finds(school, monkeypatch):
    """Two worker processes, three attempts a chunk (the next read while one is graded): the
    same outcome, in the same order, as one process."""
    shared = school["shared"]
    alone = services.regrade_assignment(assignment=shared, dry_run=True).to_json()
    monkeypatch.setattr(regrade_module, "CHUNK", 3)
    pooled = services.regrade_assignment(assignment=shared, dry_run=True, workers=2).to_json()
    assert pooled == alone
    assert alone["changed"] and alone["kept"]


def test_nothing_changed_but_the_class_still_changes_a_grade_so_no_attempt_is_skipped():
    """Same grader version, spec, settings and answers as its record, yet a classmate's later
    attempt makes ida's first one a copy signal: a report is not a function of the attempt's own
    inputs alone, so a regrade never skips an attempt for matching its record's inputs."""
    course = make_course()
    ida, jon = (make_member(course=course, username=n) for n in ("ida", "jon"))
    shared = make_assignment(course=course)
    first = services.submission_submit(assignment=shared, student=ida, answers=digit_slip())
    services.submission_submit(assignment=shared, student=ida, answers=round1())
    services.submission_submit(assignment=shared, student=jon, answers=digit_slip())
    record = Grading.objects.get(submission=first)
    assert record.grader_version == grader.GRADER_VERSION
    assert record.spec_hash == services.spec_hash(shared.spec, services.grading_config(shared))

    outcome = services.regrade_assignment(assignment=shared, dry_run=True)
    [line] = [item.to_json() for item in outcome.changed]
    assert line["submission"] == first.pk
    assert {"id": "r1.forward.f1", "old": "carried", "new": "pending"} in line["cells"]
    assert fast_lines(outcome) == one_by_one(shared)[0]


def test_the_numbers_sent_with_an_attempt_are_what_its_view_of_the_class_says(school):
    """For every attempt of the variant class (expected values and copies in the index), the
    narrowed numbers are exactly the view's entries at the typed values, read through the view
    as a mapping; a plain mapping of others is narrowed the same way; so with the written numbers
    of typed texts kept from one attempt to the next (as a regrade keeps them for a chunk)."""
    from grading.selectors.copying import numbers_for_answers

    varied = school["varied"]
    seen = 0
    kept: dict = {}
    for sub in Submission.objects.filter(assignment=varied).select_related("student"):
        view = selectors.class_numbers(varied, exclude_student=sub.student)
        expected: dict = {}
        for table in sub.answers["rounds"]:
            for column, cells in table.items():
                if column == "round":
                    continue
                for name, text in cells.items():
                    cell, written = f"r{table['round']}.{column}.{name}", f"{float(text):.3f}"
                    users = view[cell].get(written) if cell in view else None
                    if users:
                        expected.setdefault(cell, {})[written] = tuple(users)
        assert numbers_for_answers(view, sub.answers, 3) == expected
        assert numbers_for_answers(view, sub.answers, 3, written=kept) == expected
        plain = {cell: dict(values) for cell, values in view.items()}
        assert numbers_for_answers(plain, sub.answers, 3) == expected
        seen += bool(expected)
    assert seen, "some attempt meets a classmate's numbers"
    assert kept and all(v is None or v == f"{float(t):.3f}" for t, v in kept.items())


def test_a_class_dry_run_reads_the_database_the_same_number_of_times_for_a_larger_class(school):
    """No query per attempt: three more students (one with an override) cost no query more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shared = school["shared"]
    with CaptureQueriesContext(connection) as before:
        services.regrade_assignment(assignment=shared, dry_run=True)
    prof = Membership.objects.get(role=Membership.Role.INSTRUCTOR).user
    for name in ("kim", "lee", "max"):
        student = make_member(course=shared.course, username=name)
        sub = services.submission_submit(assignment=shared, student=student, answers=round1(0.0003, "f2"))
    services.grading_override(submission=sub, changes=[services.Change("question", "Q2", points=1.0)],
                              by=prof, reason="a test")
    with CaptureQueriesContext(connection) as after:
        outcome = services.regrade_assignment(assignment=shared, dry_run=True)
    assert len(outcome.plan) == Submission.objects.filter(assignment=shared).count()
    assert len(after.captured_queries) == len(before.captured_queries)


def test_a_stored_reports_marks_read_from_its_text_equal_the_parsed_jsons(school):
    """``ledger.stored_marks`` decodes only the fields a diff reads; for every record of the class
    (as the database gives its text back: PostgreSQL reorders the keys) it gives what parsing the
    whole JSON gives, and so does a report of schema 0 (cells named by place, no ids)."""
    import json

    from grading.selectors.regrade import report_texts

    texts = report_texts(list(Grading.objects.values_list("pk", flat=True)))
    assert len(texts) >= 20
    for text in texts.values():
        assert ledger.stored_marks(text) == ledger._marks(json.loads(text))
    old = {"total": 12, "questions": [{"id": "Q2", "score": 12}],
           "cells": [{"round": 1, "column": "forward", "name": "s1", "status": "correct", "credit": 1}],
           "formulas": [{"row": "s1", "status": "correct", "credit": 1.0}]}
    marks = ledger.stored_marks(json.dumps(old))
    assert marks == ledger._marks(old)
    assert marks[2] == {"r1.forward.s1": ("correct", 1)}
    # A text the decoder's fields do not fit is parsed whole, to the same marks.
    odd = {**old, "questions": [{"id": "Q2", "score": None}]}
    assert ledger.stored_marks(json.dumps(odd)) == ledger._marks(odd)
