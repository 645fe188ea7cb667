"""Running a term through the pages: overrides, the review queue, requests, extensions, rosters
and the exports an LMS loads. Every endpoint is tried by each role: students get 404 on staff
endpoints and on other students' work; TAs grade; instructors also grant extensions, import
rosters and apply class regrades.
"""
import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from grading import services
from grading.models import Extension, Grading, Membership, ReviewReply, ReviewRequest, Submission
from tests.factories import make_assignment, report_of, round1_values
from tests.webtools import client_for, page_token, post_answers, submit

pytestmark = pytest.mark.django_db


def post(client, page_url, url, data):
    """A form post with the CSRF token of the page it sits on."""
    return client.post(url, {"csrfmiddlewaretoken": page_token(client, page_url), **data})


# ------------------------------------------------------------------ overrides


def test_ta_sets_a_cell_mark_with_a_reason_and_the_student_reads_the_note(world):
    """A TA sets a wrong cell correct: a new record with who and why; the automatic grade stays;
    the student sees the new mark and the note, not the staff's reason."""
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, {**round1_values(), "r1.forward.s1": "0.4800"})
    before = report_of(sub)
    assert before.cell("r1.forward.s1").status == "incorrect"
    ta = client_for(world["ta"])
    response = post(ta, sub.get_absolute_url(), reverse("grading:grade_override", args=[sub.pk]), {
        "kind": "cell", "target": "r1.forward.s1", "status": "correct", "reason": "misread 6 as 8",
        "note": "Your handwriting said 0.46 on paper.", "based_on": 1})
    assert response.status_code == 302
    after = report_of(sub)
    assert after.cell("r1.forward.s1").status == "correct"
    assert after.question("Q2").score == pytest.approx(before.question("Q2").score + 35 / 25)
    auto, override = Grading.objects.filter(submission=sub).order_by("sequence")
    assert (override.kind, override.created_by, override.reason) == ("override", world["ta"], "misread 6 as 8")
    assert auto.score == pytest.approx(before.total)
    staff_page = ta.get(sub.get_absolute_url()).content.decode()
    assert "misread 6 as 8" in staff_page and "Grade history" in staff_page
    student_page = client_for(world["alice"]).get(sub.get_absolute_url()).content.decode()
    assert "Your handwriting said 0.46 on paper." in student_page
    assert "misread 6 as 8" not in student_page and "Grade history" not in student_page


def test_an_override_without_a_reason_changes_nothing(world):
    """The reason is required: without it the grade stays and staff are told why."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    ta = client_for(world["ta"])
    response = post(ta, sub.get_absolute_url(), reverse("grading:grade_override", args=[sub.pk]),
                    {"kind": "total", "points": "10", "reason": ""})
    assert response.status_code == 302
    assert Grading.objects.filter(submission=sub).count() == 1
    assert "Say why the grade changes" in ta.get(sub.get_absolute_url()).content.decode()


@pytest.mark.parametrize("user", ["alice", "bob", "stranger_teacher"])
def test_only_course_staff_may_change_a_grade(world, user):
    """The student herself, a classmate and another course's teacher all get 404; nothing is written."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    client = client_for(world[user])
    token = page_token(client, reverse("grading:home"))
    for name, data in (("grading:grade_override", {"kind": "total", "points": "0", "reason": "x"}),
                       ("grading:formula_review", {"row": "s1", "decision": "accept"}),
                       ("grading:regrade_attempt", {"reason": "x"})):
        response = client.post(reverse(name, args=[sub.pk]), {"csrfmiddlewaretoken": token, **data})
        assert response.status_code == 404, name
    assert Grading.objects.filter(submission=sub).count() == 1


# ------------------------------------------------------------------ requests and the queue


def test_a_students_request_joins_the_queue_and_gets_a_no_change_reply(world):
    """Alice asks about a cell; the queue lists it; the TA answers "no change"; she reads it."""
    a = world["assignment"]
    alice = client_for(world["alice"])
    sub = submit(alice, a, {**round1_values(), "r1.forward.f1": "0.6200"})
    response = post(alice, sub.get_absolute_url(), reverse("grading:review_request", args=[sub.pk]),
                    {"target": "r1.forward.f1", "message": "I think σ(0.46) is 0.62"})
    assert response.status_code == 302
    request = ReviewRequest.objects.get()
    ta = client_for(world["ta"])
    queue = ta.get(reverse("grading:queue", args=[a.pk])).content.decode()
    assert "I think σ(0.46) is 0.62" in queue and sub.get_absolute_url() in queue
    assert "✉ 1" in ta.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    url = reverse("grading:review_reply", args=[sub.pk, request.pk])
    post(ta, sub.get_absolute_url(), url, {"outcome": "no_change", "message": "σ(0.46) = 0.6130."})
    reply = ReviewReply.objects.get()
    assert reply.outcome == "no_change" and reply.grading is None
    assert Grading.objects.filter(submission=sub).count() == 1
    assert "σ(0.46) = 0.6130." in alice.get(sub.get_absolute_url()).content.decode()
    assert "Nothing waits for review" in ta.get(reverse("grading:queue", args=[a.pk])).content.decode()
    # Answered once: a second reply is refused.
    post(ta, sub.get_absolute_url(), url, {"outcome": "no_change", "message": "again"})
    assert ReviewReply.objects.count() == 1


def test_a_reply_can_change_the_mark_asked_about(world):
    """Answering with a change is an override (a review record) tied to the reply."""
    a = world["assignment"]
    alice = client_for(world["alice"])
    sub = submit(alice, a, {**round1_values(), "r1.forward.f1": "0.6200"})
    request = services.review_request_create(submission=sub, student=world["alice"],
                                             target="r1.forward.f1", message="please look")
    teacher = client_for(world["teacher"])
    post(teacher, sub.get_absolute_url(), reverse("grading:review_reply", args=[sub.pk, request.pk]), {
        "outcome": "change", "message": "Half credit for the method.", "kind": "cell",
        "target": "r1.forward.f1", "status": "incorrect", "credit": "0.5", "based_on": 1})
    reply = ReviewReply.objects.get()
    assert reply.outcome == "changed" and reply.grading.kind == "review"
    assert report_of(sub).cell("r1.forward.f1").credit == 0.5


def test_students_cannot_ask_about_someone_elses_attempt_or_twice(world):
    """Bob's request on Alice's attempt is a 404; Alice cannot open the same request twice."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    bob = client_for(world["bob"])
    token = page_token(bob, reverse("grading:home"))
    response = bob.post(reverse("grading:review_request", args=[sub.pk]),
                        {"csrfmiddlewaretoken": token, "target": "", "message": "mine?"})
    assert response.status_code == 404
    services.review_request_create(submission=sub, student=world["alice"], target="Q2", message="a")
    with pytest.raises(Exception, match="already asked"):
        services.review_request_create(submission=sub, student=world["alice"], target="Q2", message="b")
    assert ReviewRequest.objects.count() == 1


def test_undecided_rows_flag_the_gradebook_and_fill_the_queue_until_reviewed(world, settings):
    """An attempt with an undecided Q1 row is flagged and queued; accepted, it leaves the queue."""
    a = world["assignment"]
    settings.GRADING_FORMULA_TIME_LIMIT = 1e-6  # nothing decided in time
    sub = submit(client_for(world["alice"]), a, {"formulas.s1": "w11*x1 + w21*x2 + b1"})
    teacher = client_for(world["teacher"])
    assert "⚑ to review" in teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    queue = teacher.get(reverse("grading:queue", args=[a.pk])).content.decode()
    assert "undecided Q1" in queue and sub.get_absolute_url() in queue
    for row in report_of(sub).undecided_rows:
        services.formula_review_create(submission=sub, row=row, accepted=False, reviewer=world["teacher"])
    assert "Nothing waits for review" in teacher.get(reverse("grading:queue", args=[a.pk])).content.decode()
    assert "⚑ to review" not in teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()


# ------------------------------------------------------------------ extensions


def test_an_extension_is_honoured_by_the_page_the_autosave_and_the_submit(world):
    """Past the class's due time, a student with an extension still submits; others may not."""
    a = make_assignment(course=world["course"], slug="ext", due_in=timedelta(minutes=-10))
    teacher = client_for(world["teacher"])
    url = reverse("grading:extensions", args=[a.pk])
    new_due = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = post(teacher, url, url, {"username": "alice", "due_at": new_due, "extra_attempts": "1",
                                        "reason": "medical certificate"})
    assert response.status_code == 302
    ext = Extension.objects.get()
    assert (ext.student, ext.created_by, ext.extra_attempts) == (world["alice"], world["teacher"], 1)
    assert "medical certificate" in teacher.get(url).content.decode()
    alice = client_for(world["alice"])
    page = alice.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert "extended for you" in page and "of 4" in page and "closed" not in page
    sub = submit(alice, a, round1_values())
    assert not sub.late
    response = post_answers(client_for(world["bob"]), a, round1_values(), action="submit")
    assert response.status_code == 409 and "has passed" in response.content.decode()
    assert Submission.objects.filter(student=world["bob"], state="submitted").count() == 0


def test_extensions_are_granted_by_instructors_only(world):
    """A TA can read the audit list but not add to it; a student gets 404."""
    a = world["assignment"]
    url = reverse("grading:extensions", args=[a.pk])
    ta = client_for(world["ta"])
    assert ta.get(url).status_code == 200
    response = post(ta, url, url, {"username": "alice", "extra_attempts": "2", "reason": "x"})
    assert response.status_code == 404 and not Extension.objects.exists()
    assert client_for(world["alice"]).get(url).status_code == 404


def test_an_extension_needs_a_reason_and_a_student_of_the_course(world):
    """No reason, or a stranger's username, is refused on the field with a message."""
    a = world["assignment"]
    url = reverse("grading:extensions", args=[a.pk])
    teacher = client_for(world["teacher"])
    html = post(teacher, url, url, {"username": "stranger", "extra_attempts": "1", "reason": "r"}).content.decode()
    assert "No student of this course has that username" in html
    html = post(teacher, url, url, {"username": "alice", "extra_attempts": "1", "reason": ""}).content.decode()
    assert "Say why" in html
    assert not Extension.objects.exists()


def test_extra_attempts_count_at_submit(world):
    """One extra attempt: a fourth submit is taken, a fifth is not."""
    a = world["assignment"]
    services.extension_create(assignment=a, student=world["alice"], by=world["teacher"],
                              reason="re-sit", extra_attempts=1)
    alice = client_for(world["alice"])
    for _ in range(4):
        submit(alice, a, round1_values())
    response = post_answers(alice, a, round1_values(), action="submit")
    assert response.status_code == 409 and "used all 4 attempts" in response.content.decode()


# ------------------------------------------------------------------ roster


ROSTER = """username,email,name
somsak,somsak@example.org,Somsak Jaidee
alice,alice@example.org,Alice Already
ta,ta@example.org,Tee Ay
bad name!,x@example.org,Bad
somsak,dup@example.org,Duplicate
nid,not-an-email,Nid
"""


def test_roster_import_creates_enrols_and_says_why_it_skipped(world):
    """New accounts are created, existing users enrolled, and every skipped line has its reason;
    a second import of the same file changes nothing."""
    a = world["assignment"]
    url = reverse("grading:roster", args=[a.pk])
    teacher = client_for(world["teacher"])
    response = post(teacher, url, url, {"text": ROSTER})
    assert response.status_code == 302  # to the import's page: the import runs as a job
    html = teacher.get(response["Location"]).content.decode()
    assert "1 created" in html and "1 already enrolled" in html and "4 skipped" in html
    for why in ("is teaching assistant of this course", "not a valid username",
                "appears earlier in the file", "not a valid email address"):
        assert why in html
    member = Membership.objects.get(user__username="somsak", course=a.course)
    assert member.role == "student" and member.user.first_name == "Somsak" and member.user.last_name == "Jaidee"
    assert not member.user.has_usable_password()
    count = Membership.objects.count()
    again = teacher.get(post(teacher, url, url, {"text": ROSTER})["Location"]).content.decode()
    assert "0 created" in again and "2 already enrolled" in again and Membership.objects.count() == count


def test_roster_import_is_for_instructors(world):
    """A TA and a student get 404 and nothing is created."""
    url = reverse("grading:roster", args=[world["assignment"].pk])
    for user in ("ta", "alice"):
        client = client_for(world[user])
        token = page_token(client, reverse("grading:home"))
        assert client.post(url, {"csrfmiddlewaretoken": token, "text": ROSTER}).status_code == 404
    assert not Membership.objects.filter(user__username="somsak").exists()


def test_roster_command_with_passwords(world, tmp_path):
    """manage.py roster_import COURSE FILE prints each line's outcome; --passwords sets one."""
    from django.contrib.auth import get_user_model

    path = tmp_path / "roster.csv"
    path.write_text("\ufeffusername;email;name\nnew1;new1@example.org;New One\n", encoding="utf-8")
    out = io.StringIO()
    call_command("roster_import", "FRA501", str(path), "--passwords", stdout=out)
    text = out.getvalue()
    assert "line 2: new1: created password: " in text and "1 created" in text
    password = text.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="new1").check_password(password)


# ------------------------------------------------------------------ exports and the copy signal


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_lms_exports_have_the_moodle_and_canvas_layouts(world):
    """Moodle: Username, Email address, the assignment; Canvas: its five columns, the assignment
    and a Points Possible row; scores rounded as the pages show them."""
    a = world["assignment"]
    world["alice"].first_name, world["alice"].last_name, world["alice"].email = "Alice", "Ang", "a@x.org"
    world["alice"].save()
    # Round 1 right (35) and one of round 2's 31 cells (round 2 s1 = 0.631575): 35 + 35/31.
    sub = submit(client_for(world["alice"]), a, {**round1_values(), "r2.forward.s1": "0.6316"})
    total = report_of(sub).total
    assert total == pytest.approx(35 + 35 / 31, abs=1e-4) and round(total, 2) == 36.13
    teacher = client_for(world["teacher"])
    url = reverse("grading:gradebook_csv", args=[a.pk])
    moodle = rows_of(teacher.get(url, {"format": "moodle"}))
    assert moodle[0] == ["Username", "Email address", a.title]
    assert ["alice", "a@x.org", "36.13"] in moodle
    canvas = rows_of(teacher.get(url, {"format": "canvas"}))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", a.title]
    assert canvas[1] == ["Points Possible", "", "", "", "", "100"]
    assert ["Ang, Alice", "", "", "alice", a.course.code, "36.13"] in canvas
    assert teacher.get(url, {"format": "nope"}).status_code == 404
    assert client_for(world["alice"]).get(url, {"format": "moodle"}).status_code == 404


def test_analytics_show_pairs_sharing_identical_wrong_values(world):
    """Two students typing the same three wrong values are listed; a third, right, is not."""
    a = world["assignment"]
    for course_member in ("carl", "dora", "emil", "fay", "gus"):
        from tests.factories import make_member

        make_member(course=world["course"], username=course_member)
    wrong = {**round1_values(), "r1.backward.dL/dw11": "0.1111", "r1.backward.dL/dw21": "0.2222",
             "r1.updated.b2": "0.3333"}
    submit(client_for(world["alice"]), a, wrong)
    submit(client_for(world["bob"]), a, wrong)
    submit(client_for(Membership.objects.get(user__username="carl").user), a, round1_values())
    html = client_for(world["teacher"]).get(reverse("grading:analytics", args=[a.pk])).content.decode()
    section = html.split('id="copy-signal"')[1].split("</section>")[0]
    # the cells by round and name, in table order (backward, then the update), never a raw id
    assert "alice · bob" in section and "carl" not in section
    assert "round 1 dL/dw11, round 1 dL/dw21, round 1 updated b2" in section
    assert "r1.backward" not in section and "r1.updated" not in section


def test_the_extension_form_reports_every_error_at_once(world):
    """An unknown username, no reason and a due time before the assignment's: all three on their
    fields in one answer (not the username only after the reason is fixed)."""
    a = world["assignment"]
    url = reverse("grading:extensions", args=[a.pk])
    early = timezone.localtime(a.due_at - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = post(client_for(world["teacher"]), url, url,
                    {"username": "nobody", "due_at": early, "extra_attempts": "0", "reason": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "No student of this course has that username" in html
    assert "Say why" in html
    assert "The new due time must be after the assignment" in html
    assert not Extension.objects.exists()


def _selected(html: str, select_id: str) -> list[str]:
    import re

    select = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select)


def test_the_override_forms_open_on_consistent_choices(world):
    """"Change a mark" opens on a cell's mark with no target chosen (never "(the total)"); a reply
    to a request about a question opens on that question's points, one about a cell on that cell."""
    a = world["assignment"]
    alice = client_for(world["alice"])
    sub = submit(alice, a, {**round1_values(), "r1.forward.f1": "0.6200"})
    for target in ("Q2", "r1.forward.f1"):
        post(alice, sub.get_absolute_url(), reverse("grading:review_request", args=[sub.pk]),
             {"target": target, "message": f"about {target}"})
    html = client_for(world["ta"]).get(sub.get_absolute_url()).content.decode()
    assert _selected(html, "o-kind") == ["cell"] and _selected(html, "o-target") == [""]
    assert "(the total)" not in html
    about_q2, about_cell = ReviewRequest.objects.order_by("pk")
    assert _selected(html, f"{about_q2.pk}-kind") == ["question"]
    assert _selected(html, f"{about_q2.pk}-target") == ["Q2"]
    assert _selected(html, f"{about_cell.pk}-kind") == ["cell"]
    assert _selected(html, f"{about_cell.pk}-target") == ["r1.forward.f1"]


def test_the_gradebook_marks_drafts_and_extensions(world):
    """Alice has an unsubmitted draft, Bob an extension (a later due time and one more attempt):
    each row says so, and only its own."""
    import re

    a = world["assignment"]
    assert post_answers(client_for(world["alice"]), a, {"r1.forward.s1": "0.46"}).status_code in (200, 302)
    later = a.due_at + timedelta(days=2)
    services.extension_create(assignment=a, student=world["bob"], by=world["teacher"], reason="ill",
                              due_at=later, extra_attempts=1)
    html = client_for(world["ta"]).get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    rows = {name: row for row in re.findall(r"<tr>.*?</tr>", html, re.S)
            for name in ("alice", "bob") if f'<span class="small text-body-secondary">{name}</span>' in row}
    assert "draft-badge" in rows["alice"] and "extension-badge" not in rows["alice"]
    assert "extension-badge" in rows["bob"] and "draft-badge" not in rows["bob"]
    assert "+1 attempt" in rows["bob"] and f"due {timezone.localtime(later):%-d %b %H:%M}" in rows["bob"]
