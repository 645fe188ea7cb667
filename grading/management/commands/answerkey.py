"""python manage.py answerkey SPEC.json: print every cell of every round, as JSON."""
import json

from django.core.management.base import BaseCommand

from grading import engine
from grading.management.commands._jsonfile import load_spec


class Command(BaseCommand):
    help = "Print the answer key (every cell of every round) of a problem spec, as JSON."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec JSON")

    def handle(self, *args, spec, **options):
        key = engine.answer_key(load_spec(spec))
        self.stdout.write(json.dumps(key.to_json(), indent=2))
