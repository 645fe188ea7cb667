"""python manage.py variant SPEC.json --seed N [--student KEY]: print the concrete spec one student draws."""
import json

from django.core.management.base import BaseCommand, CommandError

from grading.engine.spec import SpecError
from grading.engine.variants import draw
from grading.management.commands._jsonfile import load_json


class Command(BaseCommand):
    help = ("Print the concrete spec (JSON, numbers only) that a seed and a student draw from a "
            "spec whose numbers may be ranges or choices.")
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec JSON (ranges and choices allowed)")
        parser.add_argument("--seed", type=int, required=True, help="the assignment's seed")
        parser.add_argument("--student", default="", help="the student's key (default: empty)")
        parser.add_argument("--attempt", type=int, default=0,
                            help="the attempt, for a practice assignment (default 0)")
        parser.add_argument("--decimals", type=int, default=4, choices=range(1, 9),
                            help="decimal places asked, for the degeneracy rule (default 4)")

    def handle(self, *args, spec, seed, student, attempt, decimals, **options):
        if attempt < 0:
            raise CommandError("--attempt must be 0 or more", returncode=2)
        try:
            concrete = draw(load_json(spec, "spec"), seed, student, attempt, decimals=decimals)
        except SpecError as exc:
            raise CommandError(f"spec {spec}: {exc}", returncode=2) from None
        self.stdout.write(json.dumps(concrete.to_json(), indent=2))
