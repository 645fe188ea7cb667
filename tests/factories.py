"""Small keyword-only factories: each sets only what a test depends on."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from grading import engine, selectors, services
from grading.models import Course, Membership

SPEC_4_1 = json.loads((Path(__file__).resolve().parent.parent / "grading" / "specs" / "homework-4.1.json").read_text())
PASSWORD = "pw-for-tests-1"


def make_user(*, username: str = "alice"):
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def make_course(*, code: str = "FRA501", title: str = "Pattern Recognition") -> Course:
    return Course.objects.create(code=code, title=title)


def make_member(*, course: Course, username: str, role: str = Membership.Role.STUDENT):
    user = make_user(username=username)
    Membership.objects.create(course=course, user=user, role=role)
    return user


def make_assignment(*, course: Course | None = None, spec: dict | None = None, decimals: int = 4,
                    max_attempts: int = 3, due_in: timedelta = timedelta(days=7),
                    reveal: str = "after_due", accept_late: bool = False, slug: str = "hw-4-1",
                    title: str = "Homework 4.1", **texts: str):
    """``texts``: title_th, statement, statement_th, as an author writes them."""
    course = course or make_course()
    now = timezone.now()
    return services.assignment_create(
        course=course, title=title, slug=slug, spec=spec or SPEC_4_1,
        opens_at=now - timedelta(days=1), due_at=now + due_in, decimals=decimals,
        max_attempts=max_attempts, reveal=reveal, accept_late=accept_late, **texts)


def round1_values(decimals: int = 4) -> dict[str, str]:
    """Round 1 as a careful student types it in the page: the engine's values, rounded."""
    table = engine.answer_key(engine.parse_spec(SPEC_4_1)).to_json()["rounds"][0]
    return {f"r1.{column}.{name}": f"{value:.{decimals}f}"
            for column in ("forward", "backward", "updated")
            for name, value in table[column].items()}


def report_of(submission):
    """The attempt's current grade (its latest ledger record), as a typed report."""
    return selectors.current_report(submission)
