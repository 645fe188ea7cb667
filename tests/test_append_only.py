"""Append-only records (issue 16): the models refuse to change or delete them, and so does the
database (migration 0008's triggers), on SQLite and on PostgreSQL (DATABASE_URL)."""
import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from grading import services
from grading.grade import ledger
from grading.models import (AppendOnlyError, AssignmentChange, Extension, Grading, ReviewReply, ReviewRequest,
                            Submission, Variant)
from tests import variant_help
from tests.factories import make_assignment, make_course, make_member, round1_values

APPEND_ONLY = [Grading, ReviewRequest, ReviewReply, Extension, Variant, Submission, AssignmentChange]
TABLES = {m: m._meta.db_table for m in APPEND_ONLY}
# A column of each table and a value to write over it.
COLUMN = {Grading: ("score", 12345), ReviewRequest: ("message", "changed"),
          ReviewReply: ("message", "changed"), Extension: ("extra_attempts", 9),
          Variant: ("spec_sha256", "0" * 64), Submission: ("late", True),
          AssignmentChange: ("reason", "changed")}


def answers(values: dict[str, str]) -> dict:
    """The form's "r1.forward.s1" keys as the answers' JSON (round 1 only)."""
    table: dict = {"round": 1}
    for key, value in values.items():
        _r, column, name = key.split(".", 2)
        table.setdefault(column, {})[name] = value
    return {"rounds": [table]}


@pytest.fixture
def records(db):
    """One record of each append-only kind, made by the services as the site makes them, and a
    student's draft."""
    course = make_course()
    alice = make_member(course=course, username="alice")
    bob = make_member(course=course, username="bob")
    teacher = make_member(course=course, username="teacher", role="instructor")
    assignment = make_assignment(course=course, spec=variant_help.template())
    variant = services.variant_draw(assignment=assignment, student=alice)
    attempt = services.submission_submit(assignment=assignment, student=alice,
                                         answers=answers(round1_values()))
    request = services.review_request_create(submission=attempt, student=alice, target="",
                                             message="please look again")
    reply = services.review_request_answer(
        request=request, by=teacher, message="Q1 is yours", reason="request",
        changes=[ledger.Change(kind="total", points=50.0)])
    extension = services.extension_create(assignment=assignment, student=bob, by=teacher,
                                          reason="ill", extra_attempts=1)
    draft = services.submission_save_draft(assignment=assignment, student=bob,
                                           answers=answers({"r1.forward.s1": "0.5"}))
    change = services.assignment_change_record(assignment=assignment, by=teacher, kind="edit", reason="typo",
                                               changes={"title": {"before": "HW", "after": "HW 4.1"}})
    return {Grading: reply.grading, ReviewRequest: request, ReviewReply: reply, AssignmentChange: change,
            Extension: extension, Variant: variant, Submission: attempt,
            "draft": draft, "assignment": assignment, "alice": alice, "bob": bob}


def stored(record):
    """The record's row as the database holds it now."""
    return type(record)._base_manager.filter(pk=record.pk).values().get()


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_saving_an_existing_record_again_is_refused_and_changes_nothing(records, model):
    record = model.objects.get(pk=records[model].pk)
    before = stored(record)
    column, value = COLUMN[model]
    setattr(record, column, value)
    with pytest.raises(AppendOnlyError, match=rf"^{model.__name__} records are append-only: .*"
                                              rf"Append a new {model.__name__} record instead"):
        record.save()
    assert stored(record) == before


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_deleting_a_record_is_refused(records, model):
    record = records[model]
    with pytest.raises(AppendOnlyError, match=f"{model.__name__} records are append-only"):
        record.delete()
    assert model.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_bulk_updates_and_deletes_of_a_queryset_are_refused(records, model):
    record = records[model]
    before = stored(record)
    column, value = COLUMN[model]
    rows = model.objects.filter(pk=record.pk)
    with pytest.raises(AppendOnlyError, match=r"QuerySet\.update\(\) is refused"):
        rows.update(**{column: value})
    with pytest.raises(AppendOnlyError, match=r"QuerySet\.delete\(\) is refused"):
        rows.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    setattr(record, column, value)
    with pytest.raises(AppendOnlyError):
        model.objects.bulk_update([record], [column])
    assert stored(record) == before


def test_related_managers_refuse_too(records):
    attempt = records[Submission]
    with pytest.raises(AppendOnlyError, match="Grading records"):
        attempt.gradings.update(score=1)
    with pytest.raises(AppendOnlyError, match="Grading records"):
        attempt.gradings.all().delete()
    with pytest.raises(AppendOnlyError, match="Submission records"):
        records["alice"].submissions.update(late=True)
    assert [g.score for g in attempt.gradings.order_by("sequence")][-1] == 50.0


def test_a_new_object_with_an_existing_pk_is_an_insert_not_an_update(records):
    """Without force_insert, Django would UPDATE the row that has this pk."""
    grading = records[Grading]
    copy = Grading.objects.get(pk=grading.pk)
    copy._state.adding = True
    copy.score = 12345
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert stored(grading)["score"] == 50.0


# ---------------------------------------------------------------- the draft's state machine


def test_a_draft_is_saved_again_and_submitted_once(records):
    draft = Submission.objects.get(pk=records["draft"].pk)
    draft.answers = answers({"r1.forward.s1": "0.46"})
    draft.save()  # an autosave
    assert stored(draft)["answers"] == answers({"r1.forward.s1": "0.46"})
    submitted = services.submission_submit(assignment=records["assignment"], student=records["bob"],
                                           answers=answers({"r1.forward.s1": "0.47"}))
    assert submitted.pk == draft.pk and submitted.state == "submitted" and submitted.receipt
    submitted.receipt = "0" * 64
    with pytest.raises(AppendOnlyError, match="from 'submitted' to 'submitted'"):
        submitted.save()
    # A copy read while it was a draft cannot save over the submitted attempt either.
    draft.answers = {}
    with pytest.raises(AppendOnlyError, match="from 'submitted' to 'draft'"):
        draft.save()
    assert stored(submitted)["answers"] == submitted.answers != {}
    assert stored(submitted)["receipt"] != "0" * 64


def test_the_submit_transition_is_allowed_once_directly_too(records):
    draft = Submission.objects.get(pk=records["draft"].pk)
    draft.state, draft.submitted_at, draft.receipt = "submitted", draft.updated_at, "f" * 64
    draft.save()
    draft.late = True
    with pytest.raises(AppendOnlyError):
        draft.save()
    assert stored(draft)["late"] is False and stored(draft)["state"] == "submitted"


@pytest.mark.parametrize("field, value", [("created_at", None), ("attempt", 7), ("student", "alice")])
def test_a_draft_changes_only_what_an_autosave_or_a_submit_changes(records, field, value):
    draft = Submission.objects.get(pk=records["draft"].pk)
    before = stored(draft)
    if field == "created_at":
        value = draft.created_at.replace(year=2001)
    elif field == "student":
        value = records["alice"]
    setattr(draft, field, value)
    with pytest.raises(AppendOnlyError, match="changing .* of a draft attempt"):
        draft.save()
    assert stored(draft) == before


def test_a_draft_goes_but_a_submitted_attempt_stays(records):
    """A draft may be deleted, alone or with its assignment; a submitted attempt keeps its
    assignment and its student (PROTECT), as extensions and variants do."""
    course = make_course(code="X1")
    carol = make_member(course=course, username="carol")
    plain = make_assignment(course=course, slug="plain")
    draft = services.submission_save_draft(assignment=plain, student=carol, answers={})
    plain.delete()
    assert not Submission.objects.filter(pk=draft.pk).exists()
    with pytest.raises(ProtectedError, match="Submission.assignment"):
        records["assignment"].delete()
    with pytest.raises(ProtectedError):
        records["bob"].delete()  # his extension
    with pytest.raises(ProtectedError):
        records["alice"].delete()  # her attempt, her variant
    assert Submission.objects.filter(pk=records[Submission].pk).exists()


# ---------------------------------------------------------------- the database refuses too


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: PostgreSQL goes on
        cursor.execute(sql, params)


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_the_database_refuses_update_and_delete_around_the_orm(records, model):
    record = records[model]
    before = stored(record)
    table, (column, value) = TABLES[model], COLUMN[model]
    with pytest.raises(IntegrityError, match=f"{table} rows are append-only: UPDATE refused"):
        raw(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, record.pk])
    with pytest.raises(IntegrityError, match=f"{table} rows are append-only: DELETE refused"):
        raw(f"DELETE FROM {table} WHERE id = %s", [record.pk])
    with pytest.raises(IntegrityError, match="append-only"):
        raw(f"DELETE FROM {table}")
    assert stored(record) == before


def test_the_database_lets_a_draft_change_but_never_a_submitted_attempt_back(records):
    draft, attempt = records["draft"], records[Submission]
    raw("UPDATE grading_submission SET answers = %s WHERE id = %s", ['{"formulas": {}}', draft.pk])
    assert stored(draft)["answers"] == {"formulas": {}}
    with pytest.raises(IntegrityError, match="append-only"):
        raw("UPDATE grading_submission SET state = 'draft' WHERE id = %s", [attempt.pk])
    # A draft's saved versions (issue 18) point at it: around the ORM they go first.
    raw("DELETE FROM grading_draftversion WHERE draft_id = %s", [draft.pk])
    raw("DELETE FROM grading_submission WHERE id = %s", [draft.pk])
    assert not Submission.objects.filter(pk=draft.pk).exists()
    assert stored(attempt)["state"] == "submitted"


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall() if "append_only" in name}


@pytest.mark.django_db(transaction=True)
def test_flush_wipes_the_records_and_leaves_the_triggers_in_place():
    """``manage.py flush`` (pytest-django's teardown of transactional tests) deletes every row,
    and every trigger is there again afterwards."""
    course = make_course()
    teacher = make_member(course=course, username="teacher", role="instructor")
    bob = make_member(course=course, username="bob")
    assignment = make_assignment(course=course)
    services.extension_create(assignment=assignment, student=bob, by=teacher, reason="ill",
                              extra_attempts=1)
    before = trigger_names()
    # Migration 0008's, the UPDATE trigger of draft versions (0010), the LTI score sends' (0016)
    # and the assignment history's (0017).
    assert len(before) == (17 if connection.vendor == "sqlite" else 9)
    call_command("flush", interactive=False, verbosity=0)
    assert not Extension.objects.exists()
    assert trigger_names() == before
    course = make_course()
    bob = make_member(course=course, username="bob")
    extension = services.extension_create(
        assignment=make_assignment(course=course), student=bob, reason="ill", extra_attempts=1,
        by=make_member(course=course, username="teacher", role="instructor"))
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM grading_extension WHERE id = %s", [extension.pk])


@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m.__name__)
def test_the_admin_shows_records_read_only(rf, model):
    from django.contrib.auth import get_user_model

    request = rf.get("/")
    request.user = get_user_model()(username="root", is_superuser=True, is_active=True)
    assert request.user.has_perm(f"grading.change_{model._meta.model_name}")  # but not here:
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_draft_read_under_its_lock_is_saved_without_reading_it_again_and_only_once(records):
    """submission_draft(lock=True) notes the row it read under the transaction's lock: the save
    in that transaction judges against it (no second read); the note is used once, and outside a
    transaction it is never trusted (a copy read earlier cannot turn a submitted attempt back)."""
    from django.test.utils import CaptureQueriesContext

    draft, assignment, bob = records["draft"], records["assignment"], records["bob"]
    with transaction.atomic():
        locked = services.submission_draft(assignment=assignment, student=bob, lock=True)
        locked.answers = answers({"r1.forward.s1": "0.6"})
        with CaptureQueriesContext(connection) as seen:
            locked.save()
    reads = [q["sql"] for q in seen.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert reads == [] and stored(draft)["answers"] == answers({"r1.forward.s1": "0.6"})
    with CaptureQueriesContext(connection) as seen:
        locked.save()  # the note was used: this save reads the row again
    assert any("grading_submission" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
               for q in seen.captured_queries)
    # A note misused (taken, then the attempt submitted elsewhere before the save): the database's
    # trigger still refuses, and the attempt stays as submitted.
    stale = Submission.objects.get(pk=draft.pk)
    stale.remember_locked_row()
    services.submission_submit(assignment=assignment, student=bob, answers=answers({"r1.forward.s1": "0.7"}))
    stale.answers = answers({"r1.forward.s1": "0.1"})
    with pytest.raises((AppendOnlyError, IntegrityError)), transaction.atomic():
        stale.save()
    assert stored(stale)["state"] == "submitted"
