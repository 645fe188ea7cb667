"""A large class's export in a real browser: the gradebook's button starts the job, its page
follows the progress while a task worker builds the file and then offers the download, which is
the file the direct download gives; no CSP violation, console message or axe-core violation on
the way."""
from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from grading import services
from grading.models import Membership, StaffJob
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.test_browser import log_in, page, visit, watch  # noqa: F401 - the Chromium page fixture
from tests.test_browser_students import check_axe

pytestmark = pytest.mark.browser

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_a_large_class_export_starts_shows_its_progress_and_downloads_the_same_file(page, live_server, settings):
    """Limit 1, two students: the gradebook's Moodle button POSTs; the job's page shows it queued;
    a worker builds it; the page reloads by itself into the download, whose bytes are the direct
    download's."""
    from playwright.sync_api import expect

    course = make_course()
    teacher = make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course)
    for name in ("student1", "student2"):
        services.submission_submit(assignment=assignment, student=make_member(course=course, username=name),
                                   answers={"rounds": [{"round": 1, "forward": {
                                       "s1": round1_values()["r1.forward.s1"]}}]})
    settings.GRADING_EXPORT_INLINE_MAX = 1
    settings.TASKS = DB_TASKS  # queued in the database: the test runs the worker
    seen = watch(page)
    base, pk = live_server.url, assignment.pk
    log_in(page, live_server, "teacher")
    visit(page, f"{base}/assignments/{pk}/gradebook/", seen)
    page.click('form.export-start:has(input[value="moodle"]) button')
    page.wait_for_url(re.compile(rf"/assignments/{pk}/exports/\d+/$"))
    expect(page.locator("#job-status-text")).to_have_text("Queued")
    job = StaffJob.objects.get()
    assert job.options["layout"] == "moodle" and job.status == "queued"
    call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    expect(page.locator("#download-export")).to_be_visible()  # progress.js saw it finish and reloaded
    expect(page.locator("#job-status-text")).to_have_text("Done")
    with page.expect_download() as download:
        page.click("#download-export")
    got = open(download.value.path(), "rb").read()
    client = Client()
    client.force_login(teacher)
    settings.GRADING_EXPORT_INLINE_MAX = 1000
    direct = client.get(f"/assignments/{pk}/gradebook.csv", {"format": "moodle"}).content
    assert got == direct and [line.split(",")[0] for line in got.decode("utf-8-sig").splitlines()] == [
        "Username", "student1", "student2"]
    settings.GRADING_EXPORT_INLINE_MAX = 1
    seen += [f"job page: CSP {v}" for v in page.evaluate("window.__cspViolations")]
    visit(page, f"{base}/assignments/{pk}/gradebook.csv?format=canvas", seen)
    assert seen == []
    problems: list[str] = []
    for url in (f"/assignments/{pk}/gradebook/", f"/assignments/{pk}/gradebook.csv",
                f"/assignments/{pk}/exports/{job.pk}/"):
        check_axe(page, base + url, problems)
    assert problems == []
