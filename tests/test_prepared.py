"""selectors.prepared.first_pk gives what the ORM's own query gives, on varied rows."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from grading.models import Extension, Variant
from grading.selectors.prepared import first_pk
from tests.factories import make_assignment, make_course, make_member

pytestmark = pytest.mark.django_db


def test_the_latest_extension_of_each_student_and_assignment_as_the_orm_finds_it():
    course = make_course()
    teacher = make_member(course=course, username="t", role="instructor")
    assignments = [make_assignment(course=course, slug=f"a{k}") for k in range(3)]
    students = [make_member(course=course, username=f"s{k}") for k in range(4)]
    rng = random.Random(7)
    for _ in range(25):
        Extension.objects.create(assignment=rng.choice(assignments), student=rng.choice(students),
                                 due_at=timezone.now() + timedelta(days=rng.randint(1, 9)),
                                 extra_attempts=rng.randint(0, 2), reason="r", created_by=teacher)
    seen = set()
    for a in assignments:
        for s in students:
            expected = (Extension.objects.filter(assignment=a, student=s).order_by("-pk")
                        .values_list("pk", flat=True).first())
            assert first_pk(Extension, assignment_id=a.pk, student_id=s.pk) == expected
            seen.add(expected is None)
    assert seen == {True, False}  # both cases were met
    oldest = Extension.objects.order_by("pk").first()
    assert first_pk(Extension, order=("pk",), assignment_id=oldest.assignment_id,
                    student_id=oldest.student_id) == oldest.pk


def test_a_stored_variant_by_attempt_and_none_for_another():
    a = make_assignment()
    alice = make_member(course=a.course, username="alice")
    v = Variant.objects.create(assignment=a, student=alice, attempt_no=2, spec={"x": 1}, spec_sha256="0" * 64)
    assert first_pk(Variant, order=("pk",), assignment_id=a.pk, student_id=alice.pk, attempt_no=2) == v.pk
    assert first_pk(Variant, order=("pk",), assignment_id=a.pk, student_id=alice.pk, attempt_no=0) is None
    assert first_pk(Variant, order=("pk",), assignment_id=a.pk + 99, student_id=alice.pk, attempt_no=2) is None


def test_an_assignments_questions_as_the_orm_reads_them():
    from grading.models import Question
    from grading.selectors.prepared import rows

    a = make_assignment()
    other = make_assignment(course=a.course, slug="other")
    Question.objects.filter(assignment=a, number=2).update(extra_credit=True, points=2.5)
    mine = rows(Question, order=("number",), assignment_id=a.pk)
    orm = list(Question.objects.filter(assignment=a).order_by("number"))
    assert len(orm) >= 2 and [q.pk for q in mine] == [q.pk for q in orm]
    for q, expected in zip(mine, orm):
        for field in Question._meta.concrete_fields:
            got, want = getattr(q, field.attname), getattr(expected, field.attname)
            assert got == want and type(got) is type(want), (field.name, got, want)
        assert not q._state.adding and q._state.db == expected._state.db
    assert rows(Question, order=("number",), assignment_id=other.pk + 99) == []


def test_a_model_with_dates_or_json_is_refused():
    with pytest.raises(ValueError):
        from grading.selectors.prepared import rows
        rows(Variant, order=("pk",), assignment_id=1)
