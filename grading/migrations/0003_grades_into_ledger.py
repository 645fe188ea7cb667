"""Move every grade into the ledger, losing nothing.

Each graded attempt's score, report and grader version become its first record (automatic),
dated when it was submitted; each formula review becomes a review record on top, dated when it
was made, by the reviewer, with the note. The reports are read with ``Report.from_json``, which
reads the reports stored before schema 1, and reviews are replayed with the ledger's own rule.
tests/test_migrations.py checks it on a report stored by the earlier grader.
"""

import hashlib
import json
from dataclasses import replace

from django.db import migrations
from django.utils import timezone

from grading.grade import ledger
from grading.grade.report import Report


def _config(assignment, questions):
    return {
        "decimals": assignment.decimals, "carried_credit": assignment.carried_credit,
        "carried_cap": assignment.carried_cap, "not_chained_credit": assignment.not_chained_credit,
        "questions": [{"number": q.number, "kind": q.kind, "points": q.points, "round": q.round,
                       "extra_credit": q.extra_credit} for q in questions],
    }


def _hash(spec, config):
    text = json.dumps({"spec": spec, "config": config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _record(Grading, *, submission, sequence, kind, report, config, spec_hash, created_at,
            based_on=None, created_by_id=None, reason="", note="", changes=()):
    return Grading.objects.create(
        submission=submission, sequence=sequence, kind=kind, based_on=based_on,
        report=report.to_json(), score=report.total, max_score=report.max, scores=report.scores(),
        needs_review=bool(report.undecided_rows), changes=list(changes),
        grader_version=report.grader_version, spec_hash=spec_hash, config=config,
        created_by_id=created_by_id, created_at=created_at, reason=reason, note=note)


def forwards(apps, schema_editor):
    Submission = apps.get_model("grading", "Submission")
    Grading = apps.get_model("grading", "Grading")
    FormulaReview = apps.get_model("grading", "FormulaReview")
    Question = apps.get_model("grading", "Question")
    graded = (Submission.objects.filter(state="submitted", report__isnull=False)
              .select_related("assignment").order_by("pk"))
    for submission in graded.iterator(chunk_size=200):
        assignment = submission.assignment
        config = _config(assignment, Question.objects.filter(assignment=assignment).order_by("number"))
        spec_hash = _hash(assignment.spec, config)
        report = Report.from_json(submission.report)
        # The stored score is what the pages showed before reviews: keep it exactly.
        report = replace(report, total=submission.score, max=submission.max_score,
                         grader_version=submission.grader_version or report.grader_version)
        undecided = set(report.undecided_rows)
        record = _record(Grading, submission=submission, sequence=1, kind="auto", report=report,
                         config=config, spec_hash=spec_hash,
                         created_at=submission.submitted_at or timezone.now())
        reviews = (FormulaReview.objects.filter(submission=submission).select_related("reviewer")
                   .order_by("created_at", "pk"))
        for review in reviews:
            if review.row not in undecided:
                continue  # a review of a decided row never changed the score before either
            verdict = "accepted" if review.accepted else "rejected"
            change = ledger.Change(kind="formula", target=review.row,
                                   status="correct" if review.accepted else "incorrect",
                                   credit=1.0 if review.accepted else 0.0)
            reason = f"Q1 row {review.row} {verdict} on review"
            applied = ledger.Applied(change=change, record=record.sequence + 1, reason=reason,
                                     note=review.note, by=review.reviewer.username,
                                     at=timezone.localtime(review.created_at).isoformat(timespec="seconds"),
                                     review=True)
            report = ledger.apply(report, [applied])
            record = _record(Grading, submission=submission, sequence=record.sequence + 1,
                             kind="review", report=report, config=config, spec_hash=spec_hash,
                             created_at=review.created_at, based_on=record,
                             created_by_id=review.reviewer_id, reason=reason, note=review.note,
                             changes=[{"kind": "formula", "target": review.row, "status": change.status,
                                       "credit": change.credit, "points": None}])


class Migration(migrations.Migration):

    dependencies = [
        ("grading", "0002_ledger"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
