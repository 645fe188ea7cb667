"""python manage.py grade SPEC.json ANSWERS.json: print the grading report, as JSON."""
import json

from django.core.management.base import BaseCommand, CommandError

from grading.grade import grader
from grading.management.commands._jsonfile import load_json, load_spec


class Command(BaseCommand):
    help = ("Grade ANSWERS.json (the key's shape, values as typed) against SPEC.json with "
            "Homework 4.1's question layout; prints cells, formulas, questions and the total.")
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec JSON")
        parser.add_argument("answers", help="path to the answers JSON")
        parser.add_argument("--decimals", type=int, default=4, choices=range(1, 9),
                            help="decimal places asked for (default 4)")

    def handle(self, *args, spec, answers, decimals, **options):
        parsed = load_spec(spec)
        data = load_json(answers, "answers")
        problem = grader.answers_shape_error(parsed, data)
        if problem:
            raise CommandError(f"answers {answers}: {problem}", returncode=2)
        config = grader.GradingConfig(questions=grader.default_questions(parsed), decimals=decimals)
        report = grader.grade_submission(parsed, data, config)
        self.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
