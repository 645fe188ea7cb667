"""Regrades: recompute attempts with the current spec, settings and grader; preview or apply.

Each attempt is graded again on its own problem: its student's variant (fixed once drawn), or
the assignment's shared spec; one pool grades a class of variants, every job with its spec.

A regrade grades the attempt's answers again and replays every change staff made on top
(``ledger.regrade_group``, in a grading pool's workers), so corrections survive a regrade. A dry run writes nothing; applying writes
a regrade record only for attempts whose grade changes, so a second dry run finds nothing.
A class-sized run goes to a task worker (``grading.tasks``) with its progress in a RegradeJob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import json
import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from grading.grade import grader, ledger
from grading.models import Assignment, Grading, RegradeJob, Submission
from grading.selectors.variants import problem_of
from grading.services.assignments import grading_config
from grading.services.grades import _latest, _locked, _record, grade_changed_notify, staff_changes
from grading.selectors.copying import class_index, numbers_for_answers
from grading.selectors.regrade import AttemptRow, chunks, report_texts, variant_problems

if TYPE_CHECKING:
    from grading.grade.report import Report

log = logging.getLogger(__name__)
CHUNK = 1000  # attempts read, graded and compared at a time: memory stays bounded for any class


@dataclass(frozen=True)
class AttemptRegrade:
    """One attempt's regrade: its current grade, what would change, and (when something does)
    the grader's new report, before staff changes are replayed on it."""

    submission: Submission
    current: Grading
    diff: ledger.ReportDiff
    auto: Report | None = None

    def to_json(self) -> dict[str, Any]:
        """The attempt's line of a dry run: student, attempt, totals, questions, cells, rows,
        whether points change (``score``; else only marks' statuses do), the staff changes kept."""
        d = self.diff
        return {
            "submission": self.submission.pk,
            "student": self.submission.student.get_username(),
            "attempt": self.submission.attempt,
            "old": d.old_total, "new": d.new_total,
            "score": d.score_changed,
            "questions": [{"id": q, "old": old, "new": new} for q, old, new in d.questions],
            "cells": [{"id": c.id, "old": c.old, "new": c.new} for c in d.cells],
            "formulas": [{"id": c.id, "old": c.old, "new": c.new} for c in d.formulas],
            "kept": [{"kind": k.kind, "id": k.target, "grader": k.grader, "kept": k.kept,
                      "differs": k.differs} for k in d.kept],
        }

    @property
    def fingerprint(self) -> list[Any]:
        """What a dry run saw of this attempt: its current record and the report a regrade
        would write ("" when nothing would change)."""
        return [self.current.sequence, self.diff.digest if self.diff.changed else ""]


@dataclass(frozen=True)
class RegradeOutcome:
    changed: list[AttemptRegrade]
    unchanged: int
    kept: list[AttemptRegrade] = field(default_factory=list)  # unchanged, with staff changes kept
    plan: dict[str, list[Any]] = field(default_factory=dict)  # submission pk -> fingerprint

    def to_json(self) -> dict[str, Any]:
        """As ``manage.py regrade --json`` prints it: score changes first, then status-only
        ones (each line says which), the attempts that keep staff changes, and the plan an
        "apply" of this run must find again."""
        ordered = sorted(self.changed, key=lambda a: not a.diff.score_changed)
        return {"changed": [a.to_json() for a in ordered],
                "score_changes": sum(1 for a in self.changed if a.diff.score_changed),
                "status_only": sum(1 for a in self.changed if not a.diff.score_changed),
                "kept": [a.to_json() for a in self.kept],
                "unchanged": self.unchanged, "plan": self.plan}


class RegradeRefused(Exception):
    """What was reviewed is not what applying would do now: the new outcome, to review again."""

    def __init__(self, outcome: RegradeOutcome, differing: list[int]) -> None:
        super().__init__(f"{len(differing)} attempt(s) changed since the dry run")
        self.outcome, self.differing = outcome, differing


def regrade_compute(submissions: Sequence[Submission], pool: grader.GradingPool, *,
                    keep: bool = True) -> list[AttemptRegrade]:
    """Grade these attempts again (in the pool's workers) and compare with their current
    grades; writes nothing. ``keep``: bring back the new reports of changed attempts (to write
    them); a dry run needs only the differences. (Attempts with their ledgers prefetched.)"""
    out: list[AttemptRegrade] = []
    by_assignment: dict[int, list[Submission]] = {}
    for s in submissions:
        if s.gradings.all():
            by_assignment.setdefault(s.assignment_id, []).append(s)
    for group in by_assignment.values():
        assignment = group[0].assignment
        rows = [_row_of(s) for s in group]
        problems = {s.variant_id: problem_of(s) for s in group}
        found = _compute(rows, assignment, pool, keep=keep, problems=problems)()
        out.extend(AttemptRegrade(s, list(s.gradings.all())[-1], diff, auto)
                   for s, (_, diff, auto) in zip(group, found))
    order = {s.pk: k for k, s in enumerate(submissions)}
    return sorted(out, key=lambda item: order[item.submission.pk])


def _row_of(s: Submission) -> AttemptRow:
    gradings = list(s.gradings.all())
    return AttemptRow(s.pk, s.student_id, s.student.get_username(), s.attempt, s.variant_id,
                      json.dumps(s.answers), (gradings[-1].pk, gradings[-1].sequence),
                      tuple(g for g in gradings if g.kind in (Grading.Kind.OVERRIDE, Grading.Kind.REVIEW)))


Found = tuple[AttemptRow, ledger.ReportDiff, "Report | None"]


def _compute(rows: Sequence[AttemptRow], assignment: Assignment, pool: grader.GradingPool, *,
             keep: bool, problems: dict[int | None, Any]) -> Callable[[], list[Found]]:
    """Hand these attempts of one assignment to the pool; the returned function waits for
    their diffs (so the caller reads the next chunk meanwhile). ``problems``: variant pk (None:
    the shared spec) -> parsed problem, filled in as variants are met.

    Attempts whose answers, problem and class numbers are the same are graded once (a report
    is a function of exactly these and the settings); each is compared with its own record."""
    texts = report_texts([r.latest[0] for r in rows])
    try:
        index = class_index(assignment)  # read once for the chunk, not once per attempt
    except Exception:  # noqa: BLE001 - grade without the copy signal rather than not at all
        log.warning("class numbers of assignment %s unavailable; regrading without them",
                    assignment.pk, exc_info=True)
        index = None
    missing = {r.variant_id for r in rows if r.variant_id not in problems}
    if None in missing:
        problems[None] = assignment.parsed_spec
    for variant, problem in variant_problems({v for v in missing if v is not None}).items():
        problems[variant] = problem
    groups: dict[tuple[Any, ...], int] = {}
    parsed: dict[str, Any] = {}
    jobs: list[tuple[Any, Any, list[ledger.Compared]]] = []
    specs: list[Any] = []
    members: list[list[int]] = []
    written: dict[str, str | None] = {}  # typed text -> its number: a class types the same ones
    for position, r in enumerate(rows):
        answers = parsed.get(r.answers_text)
        if answers is None:
            answers = parsed[r.answers_text] = json.loads(r.answers_text)
        others = numbers_for_answers(index.view(r.username) if index is not None else None, answers,
                                     assignment.decimals, written=written)
        key = (r.variant_id, r.answers_text, repr(others))
        j = groups.get(key)
        if j is None:
            j = groups[key] = len(jobs)
            jobs.append((answers, others, []))
            specs.append(problems[r.variant_id])
            members.append([])
        jobs[j][2].append((texts[r.latest[0]], staff_changes(r.staff), keep))
        members[j].append(position)
    results = pool.imap(ledger.regrade_group, jobs, specs)

    def collect() -> list[Found]:
        out: list[Any] = [None] * len(rows)
        for j, found in enumerate(results):
            for position, (diff, auto) in zip(members[j], found):
                out[position] = (rows[position], diff, auto)
        return out

    return collect


def _item(row: AttemptRow, assignment: Assignment, diff: ledger.ReportDiff, auto: Report | None) -> AttemptRegrade:
    """A dry run's line for an attempt read as a row: its attempt and record as (unsaved-looking)
    model objects carrying what the line shows, made only for the attempts a run lists."""
    student = get_user_model()(pk=row.student_id, username=row.username)
    submission = Submission(pk=row.pk, assignment=assignment, student=student, attempt=row.attempt,
                            variant_id=row.variant_id, state=Submission.State.SUBMITTED)
    submission._state.adding = False
    current = Grading(pk=row.latest[0], submission=submission, sequence=row.latest[1])
    current._state.adding = False
    return AttemptRegrade(submission, current, diff, auto)


def regrade_assignment(*, assignment: Assignment, dry_run: bool, by=None, reason: str = "",
                       workers: int = 1, reviewed: dict[str, list[Any]] | None = None,
                       progress: Callable[[int, int], None] | None = None) -> RegradeOutcome:
    """Regrade every submitted attempt; a dry run only reports what would change.

    ``reviewed``: the plan of a dry run staff reviewed. Applying then writes exactly that diff:
    every attempt is compared first (nothing written), and when any attempt's current record or
    new report differs from the plan, RegradeRefused carries the new outcome and nothing is
    written. (The reports to write are held meanwhile: those of the changed attempts only.)
    """
    total = Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED).count()
    items: list[AttemptRegrade] = []
    changed: list[AttemptRegrade] = []
    kept: list[AttemptRegrade] = []
    plan: dict[str, list[Any]] = {}
    unchanged = done = 0
    check_first = reviewed is not None and not dry_run

    def tally(item: AttemptRegrade) -> None:
        """Count one regraded attempt: changed, or unchanged (noting the staff changes it keeps)."""
        nonlocal unchanged, done
        if item.diff.changed:
            changed.append(item)
        else:
            unchanged += 1
            if item.diff.kept:
                kept.append(item)
        done += 1
        if progress is not None:
            progress(done, total)

    def take(found: list[Found]) -> None:
        for row, diff, auto in found:
            plan[str(row.pk)] = [row.latest[1], diff.digest if diff.changed else ""]  # its fingerprint
            if not (check_first or diff.changed or diff.kept):
                tally_unchanged()  # nothing to list: no object is made for it
                continue
            item = _item(row, assignment, diff, auto)
            if check_first:
                items.append(item)
                continue
            if not dry_run and item.auto is not None:
                item = regrade_commit(item, by=by, reason=reason) or item
            tally(item)

    def tally_unchanged() -> None:
        nonlocal unchanged, done
        unchanged += 1
        done += 1
        if progress is not None:
            progress(done, total)

    shared = None if assignment.has_variants else assignment.parsed_spec
    problems: dict[int | None, Any] = {} if shared is None else {None: shared}
    with grader.GradingPool(shared, grading_config(assignment), workers=workers) as pool:
        # One chunk is graded while the next is read: the workers never wait for the database.
        waiting: Callable[[], list[Found]] | None = None
        for rows in chunks(assignment, CHUNK):
            started = _compute(rows, assignment, pool, keep=not dry_run, problems=problems)
            if waiting is not None:
                take(waiting())
            waiting = started
        if waiting is not None:
            take(waiting())
    if not check_first:
        return RegradeOutcome(changed, unchanged, kept, plan)
    assert reviewed is not None
    differing = sorted(int(pk) for pk in set(plan) | set(reviewed) if plan.get(pk) != reviewed.get(pk))
    if differing:
        preview = [i for i in items if i.diff.changed]
        raise RegradeRefused(RegradeOutcome(preview, len(items) - len(preview),
                                            [i for i in items if not i.diff.changed and i.diff.kept],
                                            plan), differing)
    for item in items:
        if item.auto is not None:
            written = regrade_commit(item, by=by, reason=reason, expect=item.fingerprint)
            if written is None:  # pragma: no cover - a change between the check and the write
                raise RegradeRefused(RegradeOutcome([], 0, [], plan), [item.submission.pk])
            item = written
        tally(item)
    return RegradeOutcome(changed, unchanged, kept, plan)


def regrade_commit(item: AttemptRegrade, *, by=None, reason: str = "",
                   expect: list[Any] | None = None) -> AttemptRegrade | None:
    """Write one attempt's regrade record, if its grade changes; None when it no longer does
    (or, with ``expect``, the fingerprint a reviewed dry run saw, when the attempt changed since).

    Under the attempt's lock the staff changes are read again: an override made while the
    regrade ran is replayed on the new report too, never lost. The student is told when the
    points change (a notice on their pages, and an e-mail where one is configured).
    """
    if item.auto is None:
        return None
    with transaction.atomic():
        submission = _locked(item.submission)
        gradings = list(submission.gradings.select_related("created_by").order_by("sequence"))
        latest = gradings[-1]
        new = ledger.replay(item.auto, staff_changes(gradings))
        diff = ledger.diff(latest.report, new)
        if not diff.changed:
            return None
        if expect is not None and [latest.sequence, ledger.digest(new)] != expect:
            return None
        record = _record(submission=submission, kind=Grading.Kind.REGRADE, report=new,
                         config=grading_config(submission.assignment), based_on=latest, created_by=by,
                         reason=reason or "regrade")
        if abs(record.score - latest.score) > 1e-9:
            grade_changed_notify(submission, latest, record)  # the attempt as stored: its student's address
    return AttemptRegrade(item.submission, latest, diff, item.auto)


def regrade_attempt(*, submission: Submission, dry_run: bool, by=None, reason: str = "",
                    expect: list[Any] | None = None) -> AttemptRegrade:
    """Regrade one attempt (from its page): the preview, or the applied change; with ``expect``
    (the preview's ``fingerprint``), exactly the change previewed, else RegradeRefused."""
    submission = (Submission.objects.select_related("student", "assignment", "variant")
                  .prefetch_related(Prefetch("gradings", queryset=Grading.objects.defer("report")
                                             .select_related("created_by").order_by("sequence")))
                  .get(pk=submission.pk))
    if not submission.gradings.all():
        # Not graded yet (still grading, or submitted while the worker was down): nothing to
        # regrade; the page says so rather than failing.
        raise ValidationError(_("This attempt has no grade yet: it is graded first, then it can "
                                "be regraded."), code="not_graded")
    assignment = submission.assignment
    with grader.GradingPool(None, grading_config(assignment)) as pool:
        [item] = regrade_compute([submission], pool)
    if dry_run:
        return item
    if expect is not None:
        if item.fingerprint != expect:
            raise RegradeRefused(RegradeOutcome([item] if item.diff.changed else [], 0), [submission.pk])
        return regrade_commit(item, by=by, reason=reason, expect=expect) or item
    return regrade_commit(item, by=by, reason=reason) or item


# ---------------------------------------------------------------- the class-sized job


def regrade_job_create(*, assignment: Assignment, by, dry_run: bool, reason: str = "",
                       reviewed: RegradeJob | None = None) -> RegradeJob:
    """Queue a regrade (or dry run) of the whole assignment for a task worker; ``reviewed``: the
    finished dry run (or refused apply) whose diff this regrade applies, exactly or not at all."""
    from grading import tasks

    if reviewed is not None:
        reviewed = RegradeJob.objects.get(pk=reviewed.pk)  # as it stands now, not as it was read
    if reviewed is not None and (reviewed.assignment_id != assignment.pk or not reviewed.result.get("plan")
                                 or not (reviewed.status == RegradeJob.Status.REFUSED
                                         or reviewed.status == RegradeJob.Status.DONE and reviewed.dry_run)):
        raise ValidationError(_("Only a finished dry run can be applied."), code="not_reviewed")
    job = RegradeJob(assignment=assignment, requested_by=by, dry_run=dry_run,
                     reason=reason.strip(), reviewed=reviewed if not dry_run else None,
                     total=Submission.objects.filter(assignment=assignment,
                                                     state=Submission.State.SUBMITTED).count())
    job.full_clean()
    job.save()
    tasks.enqueue_regrade(job.pk)
    return job


def regrade_job_run(*, job_id: int) -> None:
    """Run a queued regrade job: progress as it goes, the dry run's lines or the changes at the end."""
    jobs = RegradeJob.objects.filter(pk=job_id)
    job = jobs.select_related("assignment", "requested_by", "reviewed").get()
    if job.status != RegradeJob.Status.QUEUED:
        return  # another worker took it
    if not jobs.filter(status=RegradeJob.Status.QUEUED).update(status=RegradeJob.Status.RUNNING):
        return
    step = max(1, job.total // 50)

    def progress(done: int, total: int) -> None:
        if done == total or done % step == 0:
            jobs.update(done=done, total=total)

    reviewed = job.reviewed.result.get("plan") if job.reviewed is not None else None
    try:
        outcome = regrade_assignment(assignment=job.assignment, dry_run=job.dry_run,
                                     by=job.requested_by, reason=job.reason or "class regrade",
                                     reviewed=reviewed, progress=progress)
    except RegradeRefused as refused:
        # Nothing written: the page shows the new diff, which can be reviewed and applied.
        result = refused.outcome.to_json()
        result["differing"] = refused.differing
        jobs.update(status=RegradeJob.Status.REFUSED, changed=len(refused.outcome.changed),
                    done=job.total, result=result, finished_at=timezone.now())
        return
    except Exception as exc:  # noqa: BLE001 - the job records the failure; the worker goes on
        jobs.update(status=RegradeJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                    finished_at=timezone.now())
        raise
    jobs.update(status=RegradeJob.Status.DONE, changed=len(outcome.changed),
                result=outcome.to_json(), finished_at=timezone.now())
