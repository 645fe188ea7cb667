"""python manage.py grade_pending [--now]: recover grading after the task workers were down.

Re-queues tasks left RUNNING past their lease by a worker that died, then queues (or, --now,
runs here) the grading of every submitted attempt that has no grade and no task waiting or
running for it; it says what it did, attempt by attempt."""
from django.core.management.base import BaseCommand

from grading.services.health import grading_requeue_pending, lease_seconds


class Command(BaseCommand):
    help = ("Re-queue grading tasks stuck with a dead worker, and queue (or --now grade here) "
            "submitted attempts that have no grade yet.")

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="grade here instead of queueing")

    def handle(self, *args, now: bool, **options):
        done = grading_requeue_pending(now=now)
        stuck = done.requeued.task_ids
        self.stdout.write(f"{len(stuck)} stuck task(s) re-queued (RUNNING over the "
                          f"{lease_seconds():.0f} s lease, worker gone)"
                          + (": " + ", ".join(f"{t} ({done.requeued.reasons[t]})" for t in stuck) if stuck else ""))
        if now:
            self.stdout.write(f"{len(done.graded)} attempt(s) graded" + _ids(done.graded))
        else:
            self.stdout.write(f"{len(done.waiting)} ungraded attempt(s) already waiting in the queue"
                              + _ids(done.waiting))
            self.stdout.write(f"{len(done.queued)} attempt(s) queued for grading" + _ids(done.queued))


def _ids(pks: list[int]) -> str:
    return (": " + ", ".join(str(pk) for pk in pks)) if pks else ""
