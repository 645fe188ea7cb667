"""Assignments: creating one with its questions, and the grader's settings read from it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grading import tasks

from grading.grade import grader
from grading.marking import roots
from grading.models import Assignment, Question


def grading_config(assignment: Assignment) -> grader.GradingConfig:
    """The grader's settings for an assignment, from its fields and its questions."""
    questions = tuple(
        grader.QuestionSpec(number=q.number, kind=q.kind, points=q.points, round=q.round,
                            extra_credit=q.extra_credit)
        for q in assignment.questions.all())
    return grader.GradingConfig(
        questions=questions or grader.default_questions(assignment.shape_spec),
        decimals=assignment.decimals,
        carried_credit=assignment.carried_credit,
        carried_cap=assignment.carried_cap,
        not_chained_credit=assignment.not_chained_credit,
        unexplained_roots=roots.policy(assignment.unexplained_roots),
        formula_time_limit=getattr(settings, "GRADING_FORMULA_TIME_LIMIT", 2.0),
    )


def config_snapshot(config: grader.GradingConfig) -> dict[str, Any]:
    """The settings a grading used, as stored beside it (the time limit is the server's, not the
    assignment's, and is left out)."""
    return {
        "decimals": config.decimals, "carried_credit": config.carried_credit,
        "carried_cap": config.carried_cap, "not_chained_credit": config.not_chained_credit,
        "unexplained_roots": config.unexplained_roots,
        "questions": [{"number": q.number, "kind": q.kind, "points": q.points, "round": q.round,
                       "extra_credit": q.extra_credit} for q in config.questions],
    }


def spec_hash(spec: dict, config: grader.GradingConfig) -> str:
    """SHA-256 of the spec and the settings, in a canonical JSON form: what a grade was graded against."""
    text = json.dumps({"spec": spec, "config": config_snapshot(config)}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def assignment_create(*, course, title: str, slug: str, spec: dict, due_at: datetime,
                      opens_at: datetime | None = None, statement: str = "",
                      **options: Any) -> Assignment:
    """Create an assignment with Homework 4.1's question layout for its spec."""
    assignment = Assignment(course=course, title=title, slug=slug, spec=spec, due_at=due_at,
                            opens_at=opens_at or timezone.now(), statement=statement, **options)
    assignment.full_clean()
    with transaction.atomic():
        assignment.save()
        assignment_questions_default(assignment=assignment)
        tasks.schedule_auto_submit(assignment)
    return assignment


def assignment_questions_default(*, assignment: Assignment) -> list[Question]:
    """Give an assignment without questions Homework 4.1's layout for its spec (the admin calls
    this too), so the grader, the gradebook and the page headings read the same questions."""
    if assignment.questions.exists():
        return list(assignment.questions.all())
    created = []
    for q in grader.default_questions(assignment.shape_spec):
        question = Question(assignment=assignment, number=q.number, kind=q.kind,
                            points=q.points, round=q.round, extra_credit=q.extra_credit)
        question.full_clean()
        question.save()
        created.append(question)
    return created


def assignment_schedule(*, assignment: Assignment) -> bool:
    """(Re)queue the assignment's auto-submit after its due time changed; a task queued for an
    earlier time finds nothing to do and comes back when it should."""
    return tasks.schedule_auto_submit(assignment)
