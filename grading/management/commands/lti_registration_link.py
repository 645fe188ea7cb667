"""Print a one-time LTI dynamic registration link (valid a day) to paste into Moodle's "Tool URL"
under *Manage tools* or Canvas's *Dynamic Registration* field."""

import secrets

from django.core.management.base import BaseCommand

from grading.views.lti import registration_link


class Command(BaseCommand):
    help = "Print a one-time LTI dynamic registration link, valid for a day."

    def add_arguments(self, parser) -> None:
        parser.add_argument("base", help="the site's address, e.g. https://grader.example.org")

    def handle(self, *args, **options) -> None:
        self.stdout.write(options["base"].rstrip("/") + registration_link(secrets.token_urlsafe(16)))
