"""python manage.py regrade COURSE/SLUG [--dry-run] [--json]: grade every submitted attempt again.

A dry run writes nothing and lists, per attempt, the old and new totals, the questions and
every mark that would change; applying writes a regrade record only where the grade changes
(so a second dry run finds nothing), keeping every earlier record.
"""
import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from grading import services
from grading.models import Assignment


class Command(BaseCommand):
    help = "Regrade an assignment (COURSE/SLUG) with its current spec, settings and grader."

    def add_arguments(self, parser):
        parser.add_argument("assignment", help="COURSE/SLUG, e.g. FRA501/homework-4-1")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--reason", default="", help="why (kept with each regrade record)")
        parser.add_argument("--user", default="", help="the staff username recorded as having regraded")
        parser.add_argument("--workers", type=int, default=1,
                            help="grading processes (default 1; 0 = one per CPU)")

    def handle(self, *args, assignment, dry_run, json: bool, reason, user, workers, **options):
        course, _, slug = assignment.partition("/")
        target = Assignment.objects.filter(course__code=course, slug=slug).select_related("course").first()
        if target is None:
            raise CommandError(f"no assignment {assignment!r} (expected COURSE/SLUG)", returncode=2)
        by = None
        if user:
            by = get_user_model().objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"no user {user!r}", returncode=2)
        if workers == 0:
            import os

            workers = os.cpu_count() or 1
        outcome = services.regrade_assignment(assignment=target, dry_run=dry_run, by=by,
                                              reason=reason or "manage.py regrade", workers=workers)
        if json:
            self.stdout.write(_json(outcome))
            return
        verb = "would change" if dry_run else "changed"
        for item in outcome.changed:
            line = item.to_json()
            self.stdout.write(f"{line['student']} attempt {line['attempt']}: {line['old']:g} -> {line['new']:g}")
            for q in line["questions"]:
                self.stdout.write(f"    {q['id']}: {q['old']:g} -> {q['new']:g}")
            for c in line["cells"] + line["formulas"]:
                self.stdout.write(f"    {c['id']}: {c['old']} -> {c['new']}")
        self.stdout.write(f"{len(outcome.changed)} attempt(s) {verb}, {outcome.unchanged} unchanged"
                          + (" (dry run: nothing written)" if dry_run else ""))


def _json(outcome: services.RegradeOutcome) -> str:
    data = outcome.to_json()
    # The documented shape: student, attempt, old, new and the cells; questions and Q1 rows too.
    return json.dumps({"changed": [{"student": c["student"], "attempt": c["attempt"], "old": c["old"],
                                    "new": c["new"], "cells": c["cells"], "questions": c["questions"],
                                    "formulas": c["formulas"]} for c in data["changed"]],
                       "unchanged": data["unchanged"]}, indent=2, ensure_ascii=False)
