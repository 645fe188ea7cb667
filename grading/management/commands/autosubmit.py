"""python manage.py autosubmit: submit, at the due time, the drafts of students who never submitted.

For assignments with "auto submit" on. A task worker does this by itself at each due time;
this command does the same on demand (from cron, or with the immediate task backend). Running
it again takes nothing twice.
"""
from django.core.management.base import BaseCommand

from grading import services
from grading.models import Assignment


class Command(BaseCommand):
    help = "Submit the drafts of students who never submitted, for assignments past their due time."

    def handle(self, *args, **options):
        total = 0
        for assignment in Assignment.objects.filter(auto_submit=True).select_related("course"):
            taken = services.submissions_auto_submit(assignment=assignment)
            for submission in taken:
                self.stdout.write(f"{assignment.course.code}/{assignment.slug}: "
                                  f"{submission.student.get_username()} attempt {submission.attempt}")
            total += len(taken)
        self.stdout.write(f"{total} draft(s) submitted")
