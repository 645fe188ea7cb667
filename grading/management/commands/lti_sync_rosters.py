"""Queue a roster sync (NRPS) of every course linked to an LMS course: run it from cron (say,
nightly) beside the "Sync roster" button."""

from django.core.management.base import BaseCommand

from grading.services.lti import roster_sync_all


class Command(BaseCommand):
    help = "Sync the roster of every course linked to an LMS (NRPS), as a queued task each."

    def handle(self, *args, **options) -> None:
        jobs = roster_sync_all()
        self.stdout.write(f"{len(jobs)} roster syncs queued.")
