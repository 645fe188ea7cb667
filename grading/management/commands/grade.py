"""python manage.py grade SPEC.json ANSWERS.json: print the grading report, as JSON."""
import json

from django.core.management.base import BaseCommand, CommandError

from grading.grade import grader
from grading.marking import roots
from grading.management.commands._jsonfile import load_json, load_spec


class Command(BaseCommand):
    help = ("Grade ANSWERS.json (the key's shape, values as typed) against SPEC.json with "
            "Homework 4.1's question layout; prints cells, formulas, questions, the total and the "
            "roots of carried credit (each with its explanation, or null, and its carried cells).")
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec JSON")
        parser.add_argument("answers", help="path to the answers JSON")
        parser.add_argument("--decimals", type=int, default=4, choices=range(1, 9),
                            help="decimal places asked for (default 4)")
        parser.add_argument("--unexplained-roots", choices=roots.POLICIES, default="review",
                            help="what the cells carried from a wrong value no honest slip explains "
                                 "do: wait for review (default), carry, or none")

    def handle(self, *args, spec, answers, decimals, unexplained_roots, **options):
        parsed = load_spec(spec)
        data = load_json(answers, "answers")
        problem = grader.answers_shape_error(parsed, data)
        if problem:
            raise CommandError(f"answers {answers}: {problem}", returncode=2)
        config = grader.GradingConfig(questions=grader.default_questions(parsed), decimals=decimals,
                                      unexplained_roots=roots.policy(unexplained_roots))
        report = grader.grade_submission(parsed, data, config)
        self.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
