"""The direct gradebook download before and after the export jobs, A/B in one process.

    python bench/ab_exports.py [COMMIT] [STUDENTS]

Loads ``gradebook_csv`` from ``grading/views/staff.py`` as it was at COMMIT (default 0e2269f,
before the exports moved to grading/views/exports.py) beside today's view, builds one class as
bench_exports.py does, checks both give the same bytes in every layout, then times them in
alternation (the same load for both): medians and statements per request. A measurement, not a test.
"""
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.bench_exports as be  # noqa: E402  (sets the environment, django.setup())
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grading import services  # noqa: E402
from grading.models import Grading, Membership  # noqa: E402
from grading.views.exports import gradebook_csv as new_view  # noqa: E402
from tests.factories import make_assignment, make_member, round1_values  # noqa: E402


def old_view(commit: str):
    """The view as it was at ``commit``, imported from a temporary copy of its file."""
    source = subprocess.run(["git", "show", f"{commit}:grading/views/staff.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_staff.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_staff", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.gradebook_csv


def main() -> None:
    commit = sys.argv[1] if len(sys.argv) > 1 else "0e2269f"
    students = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.GRADING_EXPORT_INLINE_MAX = 10 ** 9
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    teacher = make_member(course=assignment.course, username="teacher", role=Membership.Role.INSTRUCTOR)
    first = make_member(course=assignment.course, username="a0000")
    template = services.submission_submit(assignment=assignment, student=first, answers=round1_values())
    be.grow(assignment, template, Grading.objects.get(submission=template), students)
    views = {"before": old_view(commit), "after": new_view}

    def call(view, layout: str):
        request = RequestFactory().get(f"/assignments/{assignment.pk}/gradebook.csv", {"format": layout})
        request.user = teacher
        return view(request, assignment.pk)

    for layout in ("full", "moodle", "canvas"):
        assert call(views["before"], layout).content == call(views["after"], layout).content, layout
    print(f"{students} students, {be.ATTEMPTS} graded attempts each; the same bytes before and after in 3 layouts")
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(25):
        for name, view in views.items():
            start = time.perf_counter()
            call(view, "full")
            times[name].append((time.perf_counter() - start) * 1000)
    for name, view in views.items():
        with CaptureQueriesContext(connection) as captured:
            call(view, "full")
        print(f"{name:<7} median {statistics.median(times[name]):7.1f} ms, {len(captured)} statements")


if __name__ == "__main__":
    main()
