"""python manage.py grade_pending [--now]: queue (or run) the grading of submitted attempts that
have no grade yet, e.g. after the task workers were down."""
from django.core.management.base import BaseCommand

from grading import services, tasks
from grading.models import Submission


class Command(BaseCommand):
    help = "Grade submitted attempts that have no grade yet (queued for the workers, or --now here)."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="grade here instead of queueing")

    def handle(self, *args, now: bool, **options):
        pending = list(Submission.objects.filter(state=Submission.State.SUBMITTED, gradings__isnull=True)
                       .values_list("pk", flat=True))
        for pk in pending:
            if now:
                services.submission_grade(submission_id=pk)
            else:
                tasks.enqueue_grading(pk)
        self.stdout.write(f"{len(pending)} attempt(s) {'graded' if now else 'queued for grading'}")
