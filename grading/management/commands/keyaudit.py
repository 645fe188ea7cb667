"""python manage.py keyaudit SPEC.json PRINTED.json: every printed number the engine disagrees with."""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading import keyaudit
from grading.management.commands._jsonfile import load_json, load_spec, read_text


class Command(BaseCommand):
    help = ("Audit a printed answer key against the engine: every printed number that disagrees "
            "at its own printed precision, as typo, carried or last_digit, as JSON.")
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec JSON")
        parser.add_argument("printed", help="the printed key: JSON of the ANSWERS.json shape with "
                                            "the printed text as strings, or .csv "
                                            "(round,column,name,value), or text (.txt, .md)")

    def handle(self, *args, spec, printed, **options):
        problem = load_spec(spec)
        suffix = Path(printed).suffix.lower()
        try:
            if suffix == ".json":
                cells = keyaudit.from_json(load_json(printed, "printed key"))
            elif suffix == ".csv":
                cells = keyaudit.from_csv(read_text(printed, "printed key"))
            else:
                cells = keyaudit.from_text(read_text(printed, "printed key"))
            found = keyaudit.audit(problem, cells)
        except keyaudit.PrintedKeyError as exc:
            raise CommandError(f"printed key {printed}: {exc}", returncode=2) from None
        self.stdout.write(json.dumps({"disagreements": [d.to_json() for d in found]}, indent=2))
