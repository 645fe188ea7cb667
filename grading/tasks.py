"""The background work, on Django's Tasks framework (the django-tasks backport).

The only place that enqueues. Workers run ``manage.py db_worker`` (any number, on any machine
sharing the database); tests use the immediate backend, which runs a task as it is enqueued.
"""

from __future__ import annotations

from django_tasks import task


@task()
def regrade_job(job_id: int) -> None:
    """Run a queued class regrade (or dry run)."""
    from grading.services.regrade import regrade_job_run

    regrade_job_run(job_id=job_id)


def enqueue_regrade(job_id: int) -> None:
    """Hand a regrade job to a worker."""
    regrade_job.enqueue(job_id)
