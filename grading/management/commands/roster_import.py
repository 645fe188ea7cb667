"""python manage.py roster_import COURSE FILE.csv [--passwords]: enrol a course's students.

The CSV has the columns username, email, name (a header row is optional). Missing accounts are
created, existing ones enrolled; running it again changes nothing. Every line's outcome is
printed, skipped lines with the reason; with --passwords, new accounts get a password printed once.
"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from grading import services
from grading.management.commands._jsonfile import read_text
from grading.models import Course


class Command(BaseCommand):
    help = "Import students (username, email, name) from a CSV file into a course."

    def add_arguments(self, parser):
        parser.add_argument("course", help="the course code, e.g. FRA501")
        parser.add_argument("file", help="the roster CSV (UTF-8)")
        parser.add_argument("--passwords", action="store_true",
                            help="give each new account a random password, printed once")

    def handle(self, *args, course, file, passwords, **options):
        target = Course.objects.filter(code=course).first()
        if target is None:
            raise CommandError(f"no course {course!r}", returncode=2)
        try:
            result = services.roster_import(course=target, text=read_text(file, "roster"),
                                            passwords=passwords)
        except ValidationError as exc:
            raise CommandError(f"roster {file}: {' '.join(exc.messages)}", returncode=2) from None
        for line in result.lines:
            extra = f" ({line.why})" if line.why else ""
            secret = f" password: {line.password}" if line.password else ""
            self.stdout.write(f"line {line.line}: {line.username or '-'}: {line.outcome}{extra}{secret}")
        self.stdout.write(f"{result.count('created')} created, {result.count('enrolled')} enrolled, "
                          f"{result.count('already enrolled')} already enrolled, "
                          f"{len(result.skipped)} skipped")
