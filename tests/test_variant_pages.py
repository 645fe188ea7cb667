"""Per-student variants through the web: each student's own numbers, drawn on first open and
kept, graded on their own problem everywhere (page, submit, grading, feedback, regrades, the
ledger, the staff's pages), and never shown to another student."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from grading import services

from grading.grade import grader
from grading.models import Grading, Membership, Submission, Variant
from tests import refnet
from tests.factories import SPEC_4_1, make_assignment, make_course, make_member, report_of
from tests.variant_help import (FREE, R, expected_draw, numbers_of, round_answers, shown_numbers,
                                template)
from tests.webtools import client_for, post_answers, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def klass():
    """FRA501 with four students, a TA, an instructor, and an assignment with ranges."""
    course = make_course()
    people = {name: make_member(course=course, username=name) for name in ("ann", "ben", "cat", "dan")}
    people["ta"] = make_member(course=course, username="ta", role=Membership.Role.TA)
    people["teacher"] = make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course, spec=template(), reveal="after_attempt", max_attempts=3)
    return {"course": course, "assignment": assignment, **people}


def page(client, assignment) -> str:
    response = client.get(reverse("grading:assignment", args=[assignment.pk]))
    assert response.status_code == 200
    return response.content.decode()


def open_as(klass, name: str) -> tuple[str, dict]:
    """Open the assignment as a student: the page, and the numbers the scheme gives them."""
    student = klass[name]
    html = page(client_for(student), klass["assignment"])
    return html, expected_draw(template(), FREE, klass["assignment"].seed, str(student.pk))


def test_two_students_see_their_own_numbers_drawn_by_the_documented_scheme(klass):
    """Each student's page shows the numbers the documented draw gives for them (computed here
    from SHAKE-256 and the reference's degeneracy rule), and the class's numbers differ."""
    seen = {}
    for name in ("ann", "ben", "cat", "dan"):
        html, expected = open_as(klass, name)
        assert shown_numbers(html) == pytest.approx(numbers_of(expected))
        assert "These numbers are yours" in html
        variant = Variant.objects.get(assignment=klass["assignment"], student=klass[name])
        assert variant.attempt_no == 0 and variant.spec == expected
        seen[name] = tuple(numbers_of(expected).values())
    assert len(set(seen.values())) > 1, "four students drew the very same numbers"
    assert Variant.objects.filter(assignment=klass["assignment"]).count() == 4


def test_each_student_is_graded_on_their_own_numbers(klass):
    """ann typing her own correct round 1 gets it all right; a classmate typing ann's correct
    values (which are not theirs) gets the cells their numbers change marked wrong."""
    a = klass["assignment"]
    _, ann_spec = open_as(klass, "ann")
    theirs = refnet.trace(ann_spec)
    loss = (1, "forward", "L", None, ())
    # A classmate whose round-1 loss differs from ann's (four draws cannot all give hers).
    name, spec = next((n, s) for n, s in ((n, open_as(klass, n)[1]) for n in ("ben", "cat", "dan"))
                      if abs(refnet.trace(s)[loss] - theirs[loss]) > 1e-3)
    ann_answers = round_answers(ann_spec)
    ann_sub = submit(client_for(klass["ann"]), a, ann_answers)
    other_sub = submit(client_for(klass[name]), a, ann_answers)
    ann_report, other_report = report_of(ann_sub), report_of(other_sub)
    ann_round1 = [c for c in ann_report.cells if c.round == 1]
    assert ann_round1 and all(c.status == "correct" for c in ann_round1)
    mark = other_report.cell("r1.forward.L")
    assert mark.status != "correct"
    assert mark.expected == pytest.approx(refnet.trace(spec)[loss])
    assert other_report.questions[1].score < ann_report.questions[1].score
    assert ann_sub.variant.student_id == klass["ann"].pk and other_sub.variant.student_id == klass[name].pk


def test_numbers_are_fixed_once_drawn_whatever_the_template_becomes(klass):
    """After the instructor changes the ranges, a student who has their numbers keeps them (page,
    grading); a student opening for the first time draws from the new template."""
    a = klass["assignment"]
    html_before, ann_spec = open_as(klass, "ann")
    changed = template()
    changed["weights"][0][0] = R(1.1, 1.5, 0.1)  # w11 now from another range altogether
    a.spec = changed
    a.full_clean()
    a.save()
    html_after = page(client_for(klass["ann"]), a)
    assert shown_numbers(html_after) == shown_numbers(html_before) == pytest.approx(numbers_of(ann_spec))
    assert Variant.objects.filter(assignment=a, student=klass["ann"]).count() == 1
    sub = submit(client_for(klass["ann"]), a, round_answers(ann_spec))
    assert all(c.status == "correct" for c in report_of(sub).cells if c.round == 1)
    html_ben = page(client_for(klass["ben"]), a)
    assert 1.1 <= shown_numbers(html_ben)["w11"] <= 1.5
    assert Variant.objects.get(assignment=a, student=klass["ben"]).spec == expected_draw(
        changed, [((("weights", 0, 0)), [1.1, 1.2, 1.3, 1.4, 1.5]), *FREE[1:]], a.seed, str(klass["ben"].pk))


def test_a_first_open_that_loses_the_race_reads_the_winners_numbers(klass, monkeypatch):
    """Two first opens at once: the second insert meets the unique constraint and returns the
    record the first stored, even when the template changed in between (so its own draw differs)."""
    from grading.services import variants as variant_service

    a, ann = klass["assignment"], klass["ann"]
    first = services.variant_draw(assignment=a, student=ann)
    changed = template()
    changed["weights"][0][0] = R(2.1, 2.5, 0.1)
    a.spec = changed
    monkeypatch.setattr(variant_service, "_stored", lambda *args: None)  # it looked before the winner stored
    second = services.variant_draw(assignment=a, student=ann)
    assert second.pk == first.pk and second.spec == first.spec
    assert Variant.objects.filter(assignment=a, student=ann).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_tabs_opening_at_once_store_one_variant():
    """Two real requests of one student at the same moment (threads, own connections): one
    Variant record, and both pages show its numbers."""
    from tests.test_concurrency import run_together

    course = make_course()
    ann = make_member(course=course, username="ann")
    a = make_assignment(course=course, spec=template())
    clients = [client_for(ann), client_for(ann)]
    url = reverse("grading:assignment", args=[a.pk])
    pages = run_together([lambda c=c: c.get(url) for c in clients])
    assert [p.status_code for p in pages] == [200, 200]
    stored = Variant.objects.get(assignment=a, student=ann)
    for p in pages:
        assert shown_numbers(p.content.decode()) == pytest.approx(numbers_of(stored.spec))


def test_the_variant_unique_constraint_holds_in_the_database(klass):
    """The database itself refuses a second variant of one student's attempt."""
    a, ann = klass["assignment"], klass["ann"]
    services.variant_draw(assignment=a, student=ann)
    with pytest.raises(IntegrityError):
        Variant.objects.create(assignment=a, student=ann, attempt_no=0, spec=SPEC_4_1, spec_sha256="x" * 64)


def test_feedback_and_loss_plot_use_the_students_numbers(klass):
    """The feedback page's given cells and the key's loss in the report are the student's own."""
    a = klass["assignment"]
    _, ann_spec = open_as(klass, "ann")
    sub = submit(client_for(klass["ann"]), a, round_answers(ann_spec))
    expected_loss = [refnet.trace(ann_spec)[(r, "forward", "L", None, ())] for r in range(1, 5)]
    assert list(report_of(sub).loss.key) == pytest.approx(expected_loss)
    html = client_for(klass["ann"]).get(sub.get_absolute_url()).content.decode()
    x1 = ann_spec["samples"][0]["x"][0]
    assert f'<span class="num">{x1:.10g}</span>' in html
    svg = client_for(klass["ann"]).get(reverse("grading:submission_loss_plot", args=[sub.pk]))
    assert svg.status_code == 200


def test_staff_see_each_students_numbers_and_key(klass):
    """The submission page names the student's numbers and links their key; the gradebook links
    every student's key with the numbers as its tooltip; the key page shows their full key."""
    a = klass["assignment"]
    _, ann_spec = open_as(klass, "ann")
    sub = submit(client_for(klass["ann"]), a, round_answers(ann_spec))
    variant = Variant.objects.get(assignment=a, student=klass["ann"])
    ta = client_for(klass["ta"])
    feedback = ta.get(sub.get_absolute_url()).content.decode()
    assert 'id="variant-line"' in feedback
    assert f"w11 = <span class=\"num\">{ann_spec['weights'][0][0]:g}</span>" in feedback
    key_url = reverse("grading:variant_key", args=[a.pk, variant.pk])
    assert key_url in feedback
    book = ta.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert f'href="{key_url}"' in book
    assert f"w11 = {ann_spec['weights'][0][0]:g}, w22 = {ann_spec['weights'][1][1]:g}" in book
    assert "not drawn yet" in book  # ben, cat and dan have not opened it
    key = ta.get(key_url).content.decode()
    s1 = refnet.trace(ann_spec)[(1, "forward", "s", 1, (1,))]
    assert f"{s1:.6f}" in key and shown_numbers(key) == pytest.approx(numbers_of(ann_spec))
    assert ta.get(reverse("grading:variant_loss_plot", args=[a.pk, variant.pk])).status_code == 200


def test_the_class_key_shows_the_ranges_and_each_cells_spread_over_the_class(klass):
    """The class key lists each ranged number with its range, and a computed cell as the lowest
    and highest value over the students' problems (the reference's, over the same problems)."""
    a = klass["assignment"]
    specs = [open_as(klass, name)[1] for name in ("ann", "ben", "cat")]
    html = client_for(klass["teacher"]).get(reverse("grading:key", args=[a.pk])).content.decode()
    for text in ("0.1..0.5 step 0.1", "0.2..0.6 step 0.1", "0.1..0.4 step 0.1", "0.2..0.8 step 0.2"):
        assert f"<code>{text}</code>" in html
    s1 = [refnet.trace(s)[(1, "forward", "s", 1, (1,))] for s in specs]
    low, high = min(s1), max(s1)
    shown = f"{low:.6f} … {high:.6f}" if f"{low:.6f}" != f"{high:.6f}" else f"{low:.6f}"
    assert shown in html
    assert "3 students have drawn their numbers so far" in html
    assert client_for(klass["teacher"]).get(reverse("grading:key_loss_plot", args=[a.pk])).status_code == 404


def test_a_student_never_reaches_another_students_numbers(klass):
    """A student's key page and its plot are staff's: 404 for every student, the owner too."""
    a = klass["assignment"]
    open_as(klass, "ann")
    variant = Variant.objects.get(assignment=a, student=klass["ann"])
    for name in ("ann", "ben"):
        client = client_for(klass[name])
        for url in (reverse("grading:variant_key", args=[a.pk, variant.pk]),
                    reverse("grading:variant_loss_plot", args=[a.pk, variant.pk]),
                    reverse("grading:key_audit", args=[a.pk]) + f"?variant={variant.pk}"):
            assert client.get(url).status_code == 404, (name, url)
    other = make_assignment(course=klass["course"], spec=template(), slug="other")
    assert client_for(klass["ta"]).get(reverse("grading:variant_key", args=[other.pk, variant.pk])).status_code == 404


def test_the_ledger_records_the_hash_of_the_students_own_problem(klass):
    """Each automatic record's spec hash is of that student's problem: two students' differ,
    and one's is the hash of their variant's spec with the settings."""
    a = klass["assignment"]
    subs = []
    for name in ("ann", "ben"):
        _, spec = open_as(klass, name)
        subs.append(submit(client_for(klass[name]), a, round_answers(spec)))
    records = [Grading.objects.get(submission=s) for s in subs]
    if subs[0].variant.spec != subs[1].variant.spec:
        assert records[0].spec_hash != records[1].spec_hash
    config = services.grading_config(a)
    assert records[0].spec_hash == services.spec_hash(subs[0].variant.spec, config)
    assert records[0].spec_hash != services.spec_hash(a.spec, config)


def test_a_regrade_grades_each_attempt_against_its_own_variant(klass):
    """After the template changes, a class regrade changes nothing for attempts graded right on
    their own numbers; with another decimals setting, each attempt's expected values are still
    its own problem's."""
    a = klass["assignment"]
    subs, specs = {}, {}
    for name in ("ann", "ben", "cat"):
        _, specs[name] = open_as(klass, name)
        subs[name] = submit(client_for(klass[name]), a, round_answers(specs[name]))
    changed = template()
    changed["biases"][0] = R(0.6, 0.9, 0.1)
    a.spec = changed
    a.full_clean()
    a.save()
    outcome = services.regrade_assignment(assignment=a, dry_run=True)
    assert outcome.changed == [] and outcome.unchanged == 3
    a.decimals = 3
    a.save()
    outcome = services.regrade_assignment(assignment=a, dry_run=False, by=klass["teacher"], reason="3 places")
    assert outcome.unchanged + len(outcome.changed) == 3
    for name, sub in subs.items():
        report = report_of(sub)
        mine = refnet.trace(specs[name])
        assert report.cell("r1.forward.s1").expected == pytest.approx(mine[(1, "forward", "s", 1, (1,))])
        assert report.cell("r1.backward.dL/dw11").expected == pytest.approx(mine[(1, "backward", "dL/dw", 1, (1, 1))])


def test_one_attempt_regraded_from_its_page_uses_its_variant(klass):
    """Regrading one attempt (its page's preview) grades it on its own numbers: nothing changes."""
    a = klass["assignment"]
    _, spec = open_as(klass, "ann")
    sub = submit(client_for(klass["ann"]), a, round_answers(spec))
    a.spec = {**template(), "biases": [R(0.6, 0.9, 0.1), 0.4]}
    a.save()
    item = services.regrade_attempt(submission=sub, dry_run=True)
    assert not item.diff.changed


def test_the_grading_pool_grades_each_job_on_its_own_spec_in_workers():
    """GradingPool.map with a spec per job, in two spawned workers, gives what grading each
    answer sheet on its own spec gives (and not the pool's spec)."""
    from grading.engine import parse_spec

    specs = [parse_spec(expected_draw(template(), FREE, 7, str(k))) for k in range(6)]
    sheets = [{"rounds": [{"round": 1, "forward": {"s1": "0.5000"}}]} for _ in specs]
    config = grader.GradingConfig(questions=grader.default_questions(specs[0]))
    serial = [grader.grade_submission(s, a, config) for s, a in zip(specs, sheets)]
    with grader.GradingPool(None, config, workers=2) as pool:
        pooled = pool.grade(sheets, specs)
    assert pooled == serial
    assert len({r.cell("r1.forward.s1").expected for r in pooled}) > 1
    # A reviewed regrade's fingerprint is the same whichever process graded the report.
    from grading.grade.ledger import digest

    assert [digest(r) for r in pooled] == [digest(r) for r in serial]
    assert all((digest(a) == digest(b)) == (a == b) for a in pooled for b in pooled)
    assert len({digest(r) for r in pooled}) > 1
    with pytest.raises(ValueError):
        grader.GradingPool(None, config).grade(sheets)  # no spec for the jobs: refused, not guessed


def test_a_shared_assignment_has_no_variants_and_works_as_before(world):
    """Homework 4.1 (no ranges): opening, saving and submitting store no Variant, the attempt has
    none, and the record's hash is of the assignment's spec."""
    a = world["assignment"]
    client = client_for(world["alice"])
    html = page(client, a)
    assert "These numbers are yours" not in html
    sub = submit(client, a, {"r1.forward.s1": "0.4600"})
    assert Variant.objects.count() == 0 and sub.variant is None
    record = Grading.objects.get(submission=sub)
    assert record.spec_hash == services.spec_hash(SPEC_4_1, services.grading_config(a))
    assert report_of(sub).cell("r1.forward.s1").status == "correct"


def test_staff_preview_shows_an_example_draw_and_stores_nothing(klass):
    """Staff opening the students' page see an example's numbers with a note, and draw nothing."""
    html = page(client_for(klass["teacher"]), klass["assignment"])
    assert "shown here is an example draw" in html
    assert Variant.objects.count() == 0


def test_a_template_whose_ranges_admit_nothing_is_refused_with_the_reason():
    """Saving an assignment whose every draw is degenerate fails with the engine's reasons."""
    from django.core.exceptions import ValidationError

    spec = copy.deepcopy(SPEC_4_1)
    spec["samples"] = [{"x": [0, 0], "y": [1, 0]}] * 4  # with x = 0 every dL/dw is 0
    spec["biases"] = [R(0.1, 0.3, 0.1), 0.4]
    with pytest.raises(ValidationError) as info:
        make_assignment(spec=spec)
    assert "no non-degenerate problem" in str(info.value) and "dL/dw11" in str(info.value)


def test_variants_survive_a_template_losing_its_ranges(klass):
    """When the ranges are taken out, a student who had numbers keeps them; a new one gets the
    shared spec and no variant."""
    a = klass["assignment"]
    _, ann_spec = open_as(klass, "ann")
    a.spec = SPEC_4_1
    a.save()
    assert shown_numbers(page(client_for(klass["ann"]), a)) == pytest.approx(numbers_of(ann_spec))
    ben_html = page(client_for(klass["ben"]), a)
    assert shown_numbers(ben_html) == {"w11": 0.2, "w22": 0.5, "b1": 0.3, "x1": 0.4}
    assert not Variant.objects.filter(student=klass["ben"]).exists()


def test_a_refused_submit_keeps_the_draft_on_the_students_numbers(klass):
    """Past the due time a submit is refused; what was typed is kept as a draft tied to the
    student's variant."""
    a = klass["assignment"]
    a.due_at = timezone.now() - timedelta(minutes=10)
    a.opens_at = timezone.now() - timedelta(days=2)
    a.grace_seconds = 0
    a.save()
    response = post_answers(client_for(klass["ann"]), a, {"r1.forward.s1": "0.5"}, action="submit")
    assert response.status_code == 409
    draft = Submission.objects.get(assignment=a, student=klass["ann"])
    assert draft.is_draft and draft.answers["rounds"][0]["forward"]["s1"] == "0.5"
    assert draft.variant == Variant.objects.get(assignment=a, student=klass["ann"])


def test_a_draft_submitted_at_the_due_time_is_graded_on_the_students_numbers(klass):
    """A draft saved while the assignment had no ranges, auto-submitted after ranges were added:
    the attempt gets the student's variant and is graded on it."""
    ann = klass["ann"]
    a = make_assignment(course=klass["course"], slug="later-ranged")
    draft = services.submission_save_draft(assignment=a, student=ann,
                                           answers={"rounds": [{"round": 1, "forward": {"s1": "0.5"}}]})
    assert draft.variant is None
    a.spec = template()
    a.auto_submit, a.grace_seconds = True, 0
    a.due_at = draft.updated_at + timedelta(minutes=1)
    a.full_clean()
    a.save()
    [taken] = services.submissions_auto_submit(assignment=a, now=a.due_at + timedelta(hours=1))
    taken.refresh_from_db()
    assert taken.auto_submitted and taken.variant == Variant.objects.get(assignment=a, student=ann)
    expected = expected_draw(template(), FREE, a.seed, str(ann.pk))
    assert taken.variant.spec == expected
    s1 = refnet.trace(expected)[(1, "forward", "s", 1, (1,))]
    assert report_of(taken).cell("r1.forward.s1").expected == pytest.approx(s1)
