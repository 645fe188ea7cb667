"""The grade ledger's writes: automatic gradings, staff overrides and reviews, student requests.

Every write adds a ``Grading`` record under a lock on the attempt's row; nothing is updated in
place. A change by staff names the record it was made on (``based_on``): when someone else
wrote a newer record meanwhile, the change is refused with who and when, never merged blindly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from grading.grade import grader, ledger
from grading.marking import roots
from grading.models import Grading, ReviewReply, ReviewRequest, Submission
from grading.grade.report import Report
from grading.selectors.variants import problem_of, spec_json_of
from grading.services.assignments import config_snapshot, spec_hash


# A mark's status as a message says it (the stored status is the code).
STATUS_WORDS = {"correct": gettext_lazy("correct"), "incorrect": gettext_lazy("incorrect"),
                "carried": gettext_lazy("carried"), "not_chained": gettext_lazy("equivalent, not chained")}


class GradeConflict(Exception):
    """Someone else changed this grade after the page was opened; the message says who and when."""


def _latest(submission: Submission) -> Grading | None:
    return submission.gradings.order_by("-sequence").first()


def _locked(submission: Submission) -> Submission:
    """The attempt's row, locked until the transaction ends: ledger writes of one attempt queue up."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def _record(*, submission: Submission, kind: str, report: Report, config: grader.GradingConfig,
            based_on: Grading | None, created_by=None, reason: str = "", note: str = "",
            changes: Sequence[ledger.Change] = ()) -> Grading:
    """Validate and save the next record of an attempt's ledger (the caller holds the lock)."""
    record = Grading(
        submission=submission, sequence=(based_on.sequence + 1) if based_on else 1, kind=kind,
        based_on=based_on, report=report.to_json(), score=report.total, max_score=report.max,
        scores=report.scores(), needs_review=bool(report.undecided_rows or report.waiting_roots),
        changes=[_change_json(c) for c in changes], grader_version=report.grader_version,
        spec_hash=spec_hash(spec_json_of(submission), config), config=config_snapshot(config),
        created_by=created_by, reason=reason, note=note)
    record.full_clean()
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:  # the unique (submission, sequence): someone wrote first
        raise GradeConflict(_("Someone else graded this attempt at the same moment; reload and "
                              "check the current grade before changing it.")) from exc
    # Every new current grade goes to the LMS the assignment is linked to, once it is committed.
    assignment_id, student_id = submission.assignment_id, submission.student_id
    transaction.on_commit(lambda: _passback(assignment_id, student_id))
    return record


def _passback(assignment_id: int, student_id: int) -> None:
    from grading.services.lti import passback_queue  # lti imports the grade selectors

    passback_queue(assignment_id=assignment_id, student_id=student_id)


def _change_json(change: ledger.Change) -> dict[str, Any]:
    return {"kind": change.kind, "target": change.target, "status": change.status,
            "credit": change.credit, "points": change.points}


def change_from_json(data: dict[str, Any]) -> ledger.Change:
    """A stored change read back."""
    return ledger.Change(kind=data["kind"], target=data.get("target", ""),
                         status=data.get("status", ""), credit=data.get("credit"),
                         points=data.get("points"))


def staff_changes(gradings: Sequence[Grading]) -> list[ledger.Applied]:
    """Every change staff made in these records, in ledger order, as ``ledger.apply`` takes them."""
    out = []
    for g in sorted(gradings, key=lambda g: g.sequence):
        if g.kind not in (Grading.Kind.OVERRIDE, Grading.Kind.REVIEW):
            continue
        for data in g.changes:
            out.append(ledger.Applied(
                change=change_from_json(data), record=g.sequence, reason=g.reason, note=g.note,
                by=g.created_by.get_username() if g.created_by else "",
                at=timezone.localtime(g.created_at).isoformat(timespec="seconds"),
                review=g.kind == Grading.Kind.REVIEW))
    return out


def grade_changed_notify(submission: Submission, before: Grading, after: Grading) -> None:
    """Tell a student their grade changed (a regrade, a withdrawn override): their pages show a
    notice from the ledger itself (``selectors.grade_notices``); an e-mail goes, once the record
    is committed, where the site sends mail (``GRADE_CHANGE_EMAILS``) and the student has an
    address. A mail that cannot be sent is no reason to lose the grade: it fails silently."""
    student = submission.student
    if not getattr(settings, "GRADE_CHANGE_EMAILS", False) or not student.email:
        return
    assignment = submission.assignment
    subject = _("Your grade for %(title)s changed") % {"title": assignment.shown_title}
    body = _("Your grade for %(title)s, attempt %(attempt)s, changed from %(old)s to %(new)s "
             "(%(kind)s). The feedback page shows every mark and the reason.") % {
        "title": assignment.shown_title, "attempt": submission.attempt, "old": f"{before.score:g}",
        "new": f"{after.score:g}", "kind": after.get_kind_display().lower()}
    transaction.on_commit(lambda: send_mail(subject, body, None, [student.email], fail_silently=True))


def grading_create_auto(*, submission: Submission, report: Report,
                        config: grader.GradingConfig) -> Grading:
    """The first record of a submitted attempt: the grader's report as it came."""
    with transaction.atomic():
        submission = _locked(submission)
        latest = _latest(submission)
        if latest is not None:
            raise ValidationError(_("This attempt is already graded; a new grade is a regrade."),
                                  code="already_graded")
        return _record(submission=submission, kind=Grading.Kind.AUTO, report=report,
                       config=config, based_on=None)


def grading_override(*, submission: Submission, changes: Sequence[ledger.Change], by,
                     reason: str, note: str = "", based_on: int | None = None,
                     review: bool = False) -> Grading:
    """Staff set marks, points or the total of an attempt: a new record on top of the current grade.

    ``based_on`` is the record number the staff member was looking at; when a newer record
    exists, GradeConflict says who made it and when. The automatic report is never changed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the grade changes: the reason is kept with the change."),
                              code="no_reason")
    if not changes:
        raise ValidationError(_("Nothing to change."), code="no_change")
    with transaction.atomic():
        submission = _locked(submission)
        latest = _latest(submission)
        if latest is None:
            raise ValidationError(_("This attempt has no grade yet."), code="not_graded")
        if based_on is not None and latest.sequence != based_on:
            who = latest.created_by.get_username() if latest.created_by else _("the grader")
            raise GradeConflict(
                _("The grade changed since you opened it: %(kind)s by %(who)s at %(time)s. Check the "
                  "new grade and try again.") % {
                    "kind": latest.get_kind_display().lower(), "who": who,
                    "time": f"{timezone.localtime(latest.created_at):%H:%M:%S}"})
        current = Report.from_json(latest.report)
        stamp = timezone.localtime(timezone.now()).isoformat(timespec="seconds")
        applied = []
        for change in changes:
            try:
                ledger.check(current, change)
            except ledger.ChangeError as exc:
                raise ValidationError(str(exc), code="bad_change") from exc
            applied.append(ledger.Applied(change=change, record=latest.sequence + 1, reason=reason,
                                          note=note.strip(), by=by.get_username(), at=stamp,
                                          review=review))
        report = ledger.apply(current, applied)
        config = _config_of(latest)
        return _record(submission=submission,
                       kind=Grading.Kind.REVIEW if review else Grading.Kind.OVERRIDE,
                       report=report, config=config, based_on=latest, created_by=by,
                       reason=reason, note=note.strip(), changes=changes)


def grading_withdraw(*, submission: Submission, kind: str, target: str = "", by, reason: str,
                     note: str = "", based_on: int | None = None) -> Grading:
    """Staff take back every change they made to one mark (a cell's or Q1 row's mark, a
    question's points, the total): a new override record whose grade is the automatic one there.

    Append-only: the earlier records stay; the new one carries a ``withdraw`` change that
    ``ledger.replay`` (and so every later regrade) honours. Points go back to what the marks add
    up to; a mark goes back to what the grader gives for it (graded again here, with the settings
    of the current record).
    """
    change = ledger.withdrawal(kind, target)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the grade changes: the reason is kept with the change."),
                              code="no_reason")
    with transaction.atomic():
        submission = _locked(submission)
        gradings = list(submission.gradings.select_related("created_by").order_by("sequence"))
        if not gradings:
            raise ValidationError(_("This attempt has no grade yet."), code="not_graded")
        latest = gradings[-1]
        if based_on is not None and latest.sequence != based_on:
            raise GradeConflict(_("The grade changed since you opened it; check the new grade and "
                                  "try again."))
        current = Report.from_json(latest.report)
        try:
            ledger.check_withdrawal(current, change)
        except ledger.ChangeError as exc:
            raise ValidationError(str(exc), code="bad_change") from exc
        stamp = timezone.localtime(timezone.now()).isoformat(timespec="seconds")
        applied = ledger.Applied(change=change, record=latest.sequence + 1, reason=reason,
                                 note=note.strip(), by=by.get_username(), at=stamp)
        config = _config_of(latest)
        if kind in ("question", "total"):
            report = ledger.apply(current, [applied])
        else:  # the grader's own mark: grade the answers again, replay what staff still keep
            from grading.services.submissions import others_of

            auto = grader.grade_submission(problem_of(submission), submission.answers, config,
                                           others_of(submission))
            report = ledger.replay(auto, [*staff_changes(gradings), applied])
        record = _record(submission=submission, kind=Grading.Kind.OVERRIDE, report=report,
                         config=config, based_on=latest, created_by=by, reason=reason,
                         note=note.strip(), changes=[change])
        if abs(record.score - latest.score) > 1e-9:
            grade_changed_notify(submission, latest, record)
        return record


def _config_of(record: Grading) -> grader.GradingConfig:
    """The settings a record was graded with, read back from its snapshot."""
    data = record.config or {}
    questions = tuple(grader.QuestionSpec(**q) for q in data.get("questions", ()))
    return grader.GradingConfig(
        questions=questions, decimals=data.get("decimals", 4),
        carried_credit=data.get("carried_credit", 1.0), carried_cap=data.get("carried_cap", 1.0),
        not_chained_credit=data.get("not_chained_credit", 0.5),
        # Records from before the policy existed carried every root.
        unexplained_roots=roots.policy(data.get("unexplained_roots", "carry")))


def formula_review_create(*, submission: Submission, row: str, accepted: bool, reviewer,
                          note: str = "", based_on: int | None = None) -> Grading:
    """Staff accept or reject a Q1 row the grader could not decide: a review record."""
    latest = _latest(submission)
    report = Report.from_json(latest.report) if latest else None
    formula = report.formula(row) if report else None
    if formula is None:
        raise ValidationError(_("There is no Q1 row %(row)s in this attempt.") % {"row": repr(row)},
                              code="no_row")
    if formula.status != "undecided":
        raise ValidationError(_("Row %(row)s is already decided (%(status)s).") % {
            "row": row, "status": STATUS_WORDS.get(formula.status, formula.status)}, code="decided")
    verdict = "accepted" if accepted else "rejected"  # the ledger's reason: an audit record, in English
    change = ledger.Change(kind="formula", target=row, status="correct" if accepted else "incorrect",
                           credit=1.0 if accepted else 0.0)
    return grading_override(submission=submission, changes=[change], by=reviewer,
                            reason=f"Q1 row {row} {verdict} on review", note=note,
                            based_on=based_on, review=True)


def root_review_create(*, submission: Submission, root: str, accepted: bool, reviewer,
                       note: str = "", based_on: int | None = None) -> Grading:
    """Staff accept a root no honest slip explains (the cells carried from it earn their carried
    credit) or decline it (they are wrong): one review record, whatever the number of cells."""
    latest = _latest(submission)
    report = Report.from_json(latest.report) if latest else None
    found = report.root(root) if report else None
    if found is None or found.state not in ledger.DECIDABLE_ROOTS:  # e.g. another TA decided it first
        where = ledger.place(report, root) if report else repr(root)
        raise ValidationError(_("There is no root waiting for a decision at %(cell)s in this attempt.")
                              % {"cell": str(where)}, code="no_root")
    verdict = "accepted" if accepted else "declined"  # the ledger's reason: an audit record, in English
    change = ledger.Change(kind="root", target=root, status=verdict)
    return grading_override(submission=submission, changes=[change], by=reviewer,
                            reason=f"carried credit from {found.name} (round {found.round}) {verdict} on review",
                            note=note, based_on=based_on, review=True)


# ---------------------------------------------------------------- students' requests


def review_request_create(*, submission: Submission, student, target: str, message: str) -> ReviewRequest:
    """A student asks for a cell, a question or the attempt to be looked at again."""
    if submission.student_id != student.pk or submission.is_draft:
        raise ValidationError(_("You can ask about your own submitted attempts only."), code="not_yours")
    latest = _latest(submission)
    report = Report.from_json(latest.report) if latest else None
    if target and (report is None or (report.cell(target) is None and report.question(target) is None
                                      and report.formula(target) is None)):
        raise ValidationError(_("Choose a cell, a question or the whole attempt."), code="no_target")
    if submission.review_requests.filter(target=target, reply__isnull=True).exists():
        raise ValidationError(_("You already asked about this; staff will answer it."), code="open")
    request = ReviewRequest(submission=submission, target=target, message=message.strip(),
                            created_by=student)
    request.full_clean()
    request.save()
    return request


def review_request_answer(*, request: ReviewRequest, by, message: str,
                          changes: Sequence[ledger.Change] = (), reason: str = "",
                          based_on: int | None = None) -> ReviewReply:
    """Answer a request: with changes, an override (reason required); without, "no change"."""
    if not message.strip():
        raise ValidationError(_("Write a reply the student will read."), code="no_reply")
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=request.pk)
        if ReviewReply.objects.filter(request=request).exists():
            raise ValidationError(_("This request was already answered."), code="answered")
        grading = None
        if changes:
            grading = grading_override(submission=request.submission, changes=changes, by=by,
                                       reason=reason or f"student request: {request.message[:200]}",
                                       note=message, based_on=based_on, review=True)
        reply = ReviewReply(request=request, outcome=ReviewReply.Outcome.CHANGED if grading
                            else ReviewReply.Outcome.NO_CHANGE, grading=grading,
                            message=message.strip(), created_by=by)
        reply.full_clean()
        reply.save()
    return reply
