"""A task for tests/test_recovery.py: the grading of an attempt that hangs on its first delivery
(so a worker can be killed while it runs) and grades at once when delivered again."""
import threading

from django_tasks import task


@task(takes_context=True)
def slow_then_grade(context, submission_id: int) -> None:
    from grading.services.submissions import submission_grade

    if len(context.task_result.worker_ids) <= 1:
        threading.Event().wait(600)  # blocks: the first worker is killed in here
    submission_grade(submission_id=submission_id)
