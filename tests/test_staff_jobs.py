"""Long staff actions as background jobs (issue 18, item 3): the roster import runs in a task
worker with progress on its own page; the passwords it makes are shown to the instructor who
started it and downloadable once as CSV, then deleted; staff accounts are never enrolled; a row
without an email address is accepted with a warning; the LMS exports keep Thai names whole.

Tasks run as they are enqueued (the immediate backend, tests/testenv.py); the hasher is MD5
(tests/conftest.py); the clock is pinned.
"""
import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from grading import services
from grading.models import Membership, StaffJob
from grading.services import people
from tests.factories import PASSWORD, make_member
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db


def import_roster(client, assignment, text, passwords=True):
    """Post a roster on the roster page: the response sends to the job's page."""
    url = reverse("grading:roster", args=[assignment.pk])
    data = {"csrfmiddlewaretoken": page_token(client, url), "text": text}
    if passwords:
        data["passwords"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig") if response.streaming
                                       else response.content.decode("utf-8-sig"))))


def latest_job():
    return StaffJob.objects.order_by("-pk").first()


def test_a_roster_of_300_with_passwords_completes_and_its_passwords_download_once(world):
    """300 new students: every account made, enrolled, with a password that works; the CSV comes
    once, and then the passwords are gone from the server (a second download says so)."""
    a = world["assignment"]
    teacher = client_for(world["teacher"])
    text = "username,email,name\n" + "".join(f"s{i:03},s{i:03}@example.org,Student {i}\n" for i in range(300))
    page_url = import_roster(teacher, a, text)
    job = latest_job()
    assert (job.status, job.done, job.total) == ("done", 300, 300)
    assert job.secret_state == "held" and "s000" not in job.secret  # sealed, not plain text
    assert job.payload == ""  # the uploaded file is not kept
    response = teacher.get(page_url)
    page = response.content.decode()
    assert response["Cache-Control"] == "no-store" and page.count("<code>") == 300  # shown until downloaded
    assert "300 created" in page and 'id="download-passwords"' in page
    download_url = reverse("grading:roster_job_passwords", args=[a.pk, job.pk])
    first = teacher.get(download_url)
    assert first.status_code == 200 and first["Content-Type"].startswith("text/csv")
    rows = csv_rows(first)
    assert rows[0] == ["username", "password"] and len(rows) == 301
    passwords = dict(rows[1:])
    User = get_user_model()
    for username in ("s000", "s150", "s299"):
        assert User.objects.get(username=username).check_password(passwords[username])
    assert Membership.objects.filter(course=a.course, role="student", user__username__startswith="s").count() == 300
    job.refresh_from_db()
    assert job.secret == "" and job.secret_state == "taken"
    again = teacher.get(download_url)
    assert again.status_code == 410 and "The passwords are gone" in again.content.decode()
    later = teacher.get(page_url).content.decode()
    assert "were downloaded at" in later and passwords["s000"] not in later


def test_the_job_commits_in_small_batches(world, monkeypatch):
    """Each batch of rows is one short transaction that also records the job's progress (and the
    passwords made so far): no transaction holds the write lock for the whole file."""
    a = world["assignment"]
    progress = []
    real = people._roster_batch

    def watched(course, batch, passwords):
        real(course, batch, passwords)
        progress.append(StaffJob.objects.get().done)

    monkeypatch.setattr(people, "_roster_batch", watched)
    text = "".join(f"b{i:02},b{i:02}@example.org,B {i}\n" for i in range(45))
    import_roster(client_for(world["teacher"]), a, text)
    assert progress == [0, 20, 40]  # three batches (20, 20, 5), progress written after each
    assert latest_job().done == 45


def test_others_get_404_and_only_the_starter_sees_or_downloads_the_passwords(world):
    """A TA, a student and another course's instructor get 404 on the job, its progress and its
    passwords; a second instructor of the course sees the outcome but not the passwords."""
    a = world["assignment"]
    page_url = import_roster(client_for(world["teacher"]), a, "n1,n1@example.org,New One\n")
    job = latest_job()
    urls = [page_url, reverse("grading:roster_job_progress", args=[a.pk, job.pk]),
            reverse("grading:roster_job_passwords", args=[a.pk, job.pk])]
    for who in ("ta", "alice", "stranger_teacher"):
        client = client_for(world[who])
        assert [client.get(u).status_code for u in urls] == [404, 404, 404], who
    other = make_member(course=a.course, username="coteacher", role="instructor")
    client = client_for(other)
    page = client.get(page_url)
    assert page.status_code == 200 and "only teacher, who started the import" in page.content.decode()
    assert client.get(urls[2]).status_code == 410
    job.refresh_from_db()
    assert job.secret_state == "held"  # still there for the instructor who started it


def test_passwords_expire_with_the_job_page(world, clock):
    a = world["assignment"]
    page_url = import_roster(client_for(world["teacher"]), a, "e1,e1@example.org,E One\n")
    clock.shift(timedelta(days=1, seconds=1))
    teacher = client_for(world["teacher"])
    assert "never downloaded and have been deleted" in teacher.get(page_url).content.decode()
    job = latest_job()
    assert job.secret == "" and job.secret_state == "expired"
    assert teacher.get(reverse("grading:roster_job_passwords", args=[a.pk, job.pk])).status_code == 410


def test_a_job_that_dies_half_way_loses_no_password_and_a_reimport_finishes_it(world, monkeypatch):
    """The worker dies after the first batch: its 20 accounts and their passwords are kept in
    the job; an earlier import whose passwords nobody saw (the old in-request import) is
    recovered by importing again: accounts that never signed in get a new password, said so."""
    a = world["assignment"]
    text = "".join(f"d{i:02},d{i:02}@example.org,D {i}\n" for i in range(30))
    real = people._roster_batch
    calls = []

    def dying(course, batch, passwords):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real(course, batch, passwords)

    monkeypatch.setattr(people, "_roster_batch", dying)
    teacher = client_for(world["teacher"])
    page = teacher.get(import_roster(teacher, a, text)).content.decode()  # the worker logs the error
    assert "The import stopped: RuntimeError: worker killed" in page
    job = latest_job()
    assert job.status == "failed" and job.done == 20 and len(people.unseal(job.secret)) == 20
    monkeypatch.setattr(people, "_roster_batch", real)
    page = teacher.get(import_roster(teacher, a, text)).content.decode()
    assert "10 created" in page and "20 already enrolled" in page
    assert page.count("never signed in: a new password was made") == 20
    rows = csv_rows(teacher.get(reverse("grading:roster_job_passwords", args=[a.pk, latest_job().pk])))
    assert len(rows) == 31
    # An account that has signed in keeps its password.
    user = get_user_model().objects.get(username="d00")
    user.last_login = timezone.now()
    user.save()
    page = teacher.get(import_roster(teacher, a, "d00,d00@example.org,D 0\n")).content.decode()
    assert "never signed in" not in page and latest_job().secret_state == "none"
    # So does a student of another course who never signed in (another instructor may have given it).
    assert "never signed in" not in teacher.get(import_roster(teacher, a, "stranger,,S\n")).content.decode()
    assert get_user_model().objects.get(username="stranger").check_password(PASSWORD)


def test_site_staff_accounts_are_never_enrolled_as_students(world):
    """The superuser admin and a staff account in the file are reported, not enrolled."""
    a = world["assignment"]
    User = get_user_model()
    User.objects.create_superuser(username="admin", password="x", email="admin@example.org")
    User.objects.create_user(username="helpdesk", password="x", is_staff=True)
    page = client_for(world["teacher"])
    html = page.get(import_roster(page, a, "admin,,Admin\nhelpdesk,,Help Desk\nok1,ok1@example.org,Ok One\n")).content.decode()
    assert html.count("a staff account (site administrator): not enrolled as a student") == 2
    assert "2 skipped" in html and "1 created" in html
    assert not Membership.objects.filter(user__username__in=["admin", "helpdesk"]).exists()
    assert "admin" not in people.unseal(latest_job().secret) and "helpdesk" not in people.unseal(latest_job().secret)


def test_a_row_without_email_is_accepted_with_a_warning_and_a_later_file_fills_it(world):
    """Enrolled (every export matches on the username), but never silently: the line is marked
    and counted; importing again with the address sets it."""
    a = world["assignment"]
    teacher = client_for(world["teacher"])
    html = teacher.get(import_roster(teacher, a, "noemail,,No Mail\n", passwords=False)).content.decode()
    assert "1 created" in html and "1 warning" in html and "no email address: enrolled without one" in html
    assert Membership.objects.filter(user__username="noemail", role="student").exists()
    html = teacher.get(import_roster(teacher, a, "noemail,nm@example.org,No Mail\n", passwords=False)).content.decode()
    assert "its missing email was set from the file" in html and "warning" not in html
    assert get_user_model().objects.get(username="noemail").email == "nm@example.org"


def test_the_canvas_file_keeps_thai_names_whole(world):
    """Canvas's Student column is the sortable name "Last, First": a Thai name from the roster is
    split only between its given name (with any title) and its surname; named columns are taken as
    they are; a name kept in one part is written whole."""
    a = world["assignment"]
    teacher = client_for(world["teacher"])
    roster = ("username,email,name\nsomchai,s@example.org,สมชาย ใจดี\n"
              "somying,y@example.org,นางสาว  สมหญิง   รักเรียน\n")
    teacher.get(import_roster(teacher, a, roster, passwords=False))
    teacher.get(import_roster(teacher, a, "username,email,ชื่อ,นามสกุล\nmana,m@example.org,มานะ,ศรีสุข\n",
                              passwords=False))
    whole = get_user_model().objects.create_user(username="piti", password="x", first_name="ปิติ  ชูใจ")
    Membership.objects.create(course=a.course, user=whole, role="student")
    rows = csv_rows(teacher.get(reverse("grading:gradebook_csv", args=[a.pk]), {"format": "canvas"}))
    names = {row[3]: row[0] for row in rows[2:]}
    assert names["somchai"] == "ใจดี, สมชาย"
    assert names["somying"] == "รักเรียน, นางสาว สมหญิง"
    assert names["mana"] == "ศรีสุข, มานะ"
    assert names["piti"] == "ปิติ ชูใจ"


def test_a_bad_file_is_refused_on_the_roster_page_and_nothing_is_queued(world):
    a = world["assignment"]
    url = reverse("grading:roster", args=[a.pk])
    teacher = client_for(world["teacher"])
    response = teacher.post(url, {"csrfmiddlewaretoken": page_token(teacher, url),
                                  "text": "x," * 500_001})
    assert response.status_code == 400 and not StaffJob.objects.exists()


def test_the_seal_is_encrypted_and_signed():
    sealed = people.seal({"s1": "pa55word"})
    assert "pa55word" not in sealed and people.unseal(sealed) == {"s1": "pa55word"}
    assert people.seal({"s1": "pa55word"}) != sealed  # a fresh IV each time
    with pytest.raises(people.SealBroken):
        people.unseal(sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:])
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40), pytest.raises(people.SealBroken):
        people.unseal(sealed)
    # An independent reading: Fernet under the HKDF-derived key gives the JSON back.
    import base64
    import json

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from django.conf import settings

    key = HKDF(algorithm=SHA256(), length=32, salt=None,
               info=b"grading.staffjob.passwords").derive(settings.SECRET_KEY.encode())
    assert json.loads(Fernet(base64.urlsafe_b64encode(key)).decrypt(sealed.encode())) == {"s1": "pa55word"}


def test_the_exports_stay_in_the_request_because_their_queries_do_not_grow_with_the_class(world):
    """Measured on SQLite (2 shared cores): a 300-student class exports in 0.05-0.12 s (full,
    Moodle, Canvas), so up to GRADING_EXPORT_INLINE_MAX students the exports stay in the request
    (a larger class: tests/test_export_job.py). What keeps them there is that the queries do not
    grow with the class: 4 students and 12 students cost the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_user, round1_values

    a = world["assignment"]
    teacher = client_for(world["teacher"])
    url = reverse("grading:gradebook_csv", args=[a.pk])

    def queries_with(n):
        for i in range(Membership.objects.filter(course=a.course, role="student").count(), n):
            student = make_user(username=f"q{i:03}")
            Membership.objects.create(course=a.course, user=student, role="student")
            services.submission_submit(assignment=a, student=student, answers=round1_values())
        counts = []
        for layout in ("full", "moodle", "canvas"):
            with CaptureQueriesContext(connection) as captured:
                assert teacher.get(url, {"format": layout}).status_code == 200
            counts.append(len(captured))
        return counts

    assert queries_with(4) == queries_with(12)


def test_a_worker_writes_the_reasons_in_the_language_of_the_instructor(world, monkeypatch):
    """A worker has no request: the job carries the language of the instructor who started it."""
    from django.utils import translation

    from grading import tasks

    a = world["assignment"]
    monkeypatch.setattr(tasks, "enqueue_staff_job", lambda job_id: None)  # queued, not run yet
    with translation.override("th"):
        job = services.roster_job_create(assignment=a, by=world["teacher"], text="bad name!,x@example.org,B\n",
                                         passwords=False)
    with translation.override("en"):  # the worker's own language
        services.staff_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and "ชื่อผู้ใช้ไม่ถูกต้อง" in job.result["lines"][0]["why"]


def test_passwords_sealed_under_an_old_secret_key_are_refused_with_a_page_and_kept(world):
    """The site's SECRET_KEY changed after an import: the download says why (409, no 500) and
    deletes nothing; the job page shows no passwords rather than failing."""
    a = world["assignment"]
    teacher = client_for(world["teacher"])
    page_url = import_roster(teacher, a, "username,email,name\nk1,k1@example.org,K One\n")
    job = latest_job()
    with override_settings(SECRET_KEY="a-rotated-secret-key-" + "y" * 40):
        teacher = client_for(world["teacher"])  # the old session is signed under the old key
        response = teacher.get(reverse("grading:roster_job_passwords", args=[a.pk, job.pk]))
        assert response.status_code == 409 and "sealed under another secret key" in response.content.decode()
        assert teacher.get(page_url).status_code == 200
    job.refresh_from_db()
    assert job.secret_state == "held" and job.secret


def test_a_site_account_enrolled_before_is_not_counted_as_a_student(world):
    """An older import enrolled the superuser as a student: the gradebook, its CSV and analytics
    leave it out (a superuser is an instructor of every course, never a student)."""
    a = world["assignment"]
    admin = get_user_model().objects.create_superuser(username="admin", password="x", email="admin@example.org")
    Membership.objects.create(course=a.course, user=admin, role="student")
    teacher = client_for(world["teacher"])
    rows = csv_rows(teacher.get(reverse("grading:gradebook_csv", args=[a.pk])))
    usernames = [row[0] for row in rows[1:]]
    assert "admin" not in usernames and "alice" in usernames
    assert ">admin<" not in teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
