"""A draft's versions: its number now, and the history a student restores from (issue 18)."""

from __future__ import annotations

from django.db.models import Max, OuterRef, Subquery

from grading.models import Assignment, DraftVersion, Submission


def student_draft(assignment: Assignment, student) -> Submission | None:
    """The student's draft of the assignment (answers included), or None."""
    return Submission.objects.filter(assignment=assignment, student=student, state=Submission.State.DRAFT).first()


def draft_version(draft: Submission | None) -> int:
    """A draft's version: the number of its newest save (0: none kept, or no draft)."""
    if draft is None or draft.pk is None:
        return 0
    if "newest_version" in draft.__dict__:  # read with the draft (annotated ``newest_version()``)
        return draft.__dict__["newest_version"] or 0
    return DraftVersion.objects.filter(draft=draft).aggregate(m=Max("number"))["m"] or 0


def newest_version() -> Subquery:
    """The newest version's number of each draft in a query of submissions, read with the rows
    (``.annotate(newest_version=newest_version())``): ``draft_version`` then asks nothing more."""
    return Subquery(DraftVersion.objects.filter(draft=OuterRef("pk")).order_by("-number").values("number")[:1])


def draft_history(draft: Submission | None) -> list[DraftVersion]:
    """The versions a draft keeps, newest first, without their answers (time, cells, kind)."""
    if draft is None:
        return []
    return list(DraftVersion.objects.filter(draft=draft).defer("answers").order_by("-number"))
