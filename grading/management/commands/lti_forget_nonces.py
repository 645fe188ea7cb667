"""Drop spent LTI nonces older than two days (a launch token lives minutes): run daily from cron."""

from django.core.management.base import BaseCommand

from grading.services.lti import lti_nonces_forget


class Command(BaseCommand):
    help = "Drop spent LTI launch nonces older than two days."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{lti_nonces_forget()} spent nonces dropped.")
