"""Admin set-up and the demo data command."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from grading.models import Assignment, Course, Membership, Submission
from tests.factories import SPEC_4_1, make_assignment, make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-admin-1")
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def test_every_admin_list_page_opens(admin_client):
    """Each registered model's list and add pages render for an admin."""
    make_assignment()
    for name in ("course", "membership", "assignment", "submission", "grading", "reviewrequest",
                 "reviewreply", "extension", "regradejob", "variant"):
        response = admin_client.get(f"/admin/grading/{name}/")
        assert response.status_code == 200, name
    assert admin_client.get("/admin/grading/assignment/add/").status_code == 200


def test_admin_rejects_a_bad_spec_with_the_engines_message(admin_client):
    """Creating an assignment in the admin validates its spec with the engine's rules."""
    course = make_course()
    data = {"course": course.pk, "title": "Bad", "slug": "bad", "statement": "",
            "spec": '{"weights": [[0.2, 0.3]], "biases": [0.3, 0.4], "learning_rate": 1, "samples": [{"x": [1, 2], "y": [0, 1]}]}',
            "opens_at_0": "2026-01-01", "opens_at_1": "00:00", "due_at_0": "2026-02-01", "due_at_1": "00:00",
            "decimals": 4, "max_attempts": 3, "reveal": "after_due", "carried_credit": 1, "carried_cap": 1, "not_chained_credit": 0.5, "unexplained_roots": "review", "grace_seconds": 120,
            "questions-TOTAL_FORMS": 0, "questions-INITIAL_FORMS": 0, "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000}
    response = admin_client.post("/admin/grading/assignment/add/", data)
    assert response.status_code == 200
    assert "samples[0].x has 2 values; expected 1" in response.content.decode()
    assert not Assignment.objects.filter(slug="bad").exists()
    import json
    data["spec"] = json.dumps(SPEC_4_1)
    response = admin_client.post("/admin/grading/assignment/add/", data)
    assert response.status_code == 302
    created = Assignment.objects.get(slug="bad")
    # Added without question rows, it gets the homework's layout, as assignment_create gives.
    assert list(created.questions.values_list("number", "kind", "points")) == [
        (1, "formulas", 30), (2, "round", 35), (3, "round", 35), (4, "round", 35), (5, "round", 35),
        (6, "plot", 5)]


def _graded_attempt():
    from grading import services
    from tests.factories import make_member

    assignment = make_assignment()
    student = make_member(course=assignment.course, username="kept")
    submission = services.submission_submit(assignment=assignment, student=student,
                                            answers={"rounds": [{"round": 1, "forward": {"s1": "0.46"}}]})
    return assignment, submission


def test_attempts_and_grades_are_read_only_in_the_admin(admin_client):
    """The admin shows attempts and ledger records but cannot add, edit or delete them."""
    from grading.models import Grading

    _, submission = _graded_attempt()
    record = Grading.objects.get(submission=submission)
    for url in ("/admin/grading/submission/add/", "/admin/grading/grading/add/",
                f"/admin/grading/submission/{submission.pk}/delete/",
                f"/admin/grading/grading/{record.pk}/delete/"):
        assert admin_client.get(url).status_code == 403, url
    for url, shown in ((f"/admin/grading/submission/{submission.pk}/change/", "0.46"),
                       (f"/admin/grading/grading/{record.pk}/change/", "r1.forward.s1")):
        page = admin_client.get(url)
        html = page.content.decode()
        assert page.status_code == 200 and shown in html, url
        # Read-only: no visible input, select or textarea, and no save button.
        fields = re.findall(r'<(?:input|textarea|select)\b[^>]*>', html)
        editable = [f for f in fields if 'type="hidden"' not in f and 'id="nav-filter"' not in f]
        assert editable == [], url
        assert 'name="_save"' not in html
    response = admin_client.post(f"/admin/grading/grading/{record.pk}/change/",
                                 {"score": "100", "reason": "hack", "kind": "override"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.score == pytest.approx(35 / 25) and record.kind == "auto"


def test_seed_demo_loads_homework_and_is_idempotent():
    """seed_demo creates FRA501 with Homework 4.1, a hidden-layer homework and its people;
    running it twice changes nothing."""
    call_command("seed_demo", force=True)
    call_command("seed_demo", force=True)
    course = Course.objects.get(code="FRA501")
    assert sorted(course.assignments.values_list("slug", flat=True)) == [
        "hidden-layer", "homework-4-1", "momentum", "practice-4-1", "softmax"]
    momentum = course.assignments.get(slug="momentum").parsed_spec
    assert momentum.optimizer.kind == "momentum" and momentum.optimizer["beta"] == 0.9
    assert momentum.sizes == (2, 1, 1) and momentum.learning_rate == 0.3 and momentum.n_rounds == 2
    softmax = course.assignments.get(slug="softmax").parsed_spec
    assert softmax.layers[-1].activation == "softmax" and softmax.loss == "ce" and softmax.sizes == (2, 3)
    practice = course.assignments.get(slug="practice-4-1")
    assert practice.practice and practice.has_variants
    assert practice.spec["weights"][0][0] == {"range": [0.1, 0.5], "step": 0.1}
    assignment = course.assignments.get(slug="homework-4-1")
    assert assignment.spec == SPEC_4_1
    assert list(assignment.questions.values_list("points", flat=True)) == [30, 35, 35, 35, 35, 5]
    hidden = course.assignments.get(slug="hidden-layer").parsed_spec
    assert hidden.sizes == (2, 2, 2) and hidden.n_rounds == 4 and hidden.loss == "half_sse"
    assert [layer.activation for layer in hidden.layers] == ["sigmoid", "sigmoid"]
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles["instructor"] == "instructor" and roles["student1"] == "student"
    assert get_user_model().objects.get(username="student1").check_password("demo-student-41")
    assert Submission.objects.count() == 0


def test_seed_demo_refuses_without_debug_or_force(settings):
    """With debug off, the demo (public passwords) needs --force."""
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")


def test_graded_work_is_kept_in_the_admin(admin_client):
    """With graded attempts, changing a grading setting warns that grades wait for a regrade,
    changes no grade by itself, and nothing graded can be deleted; the spec is shown read-only
    (it changes on the authoring page) and a posted one is ignored."""
    import json

    from grading import selectors
    from grading.models import Grading

    assignment, submission = _graded_attempt()
    before = selectors.current_report(submission)
    page = admin_client.get(f"/admin/grading/assignment/{assignment.pk}/change/").content.decode()
    assert 'name="spec"' not in page and 'name="decimals"' in page
    assert "change it on the authoring page" in page and "0.2" in page
    assert admin_client.get(f"/admin/grading/assignment/{assignment.pk}/delete/").status_code == 403
    data = {"course": assignment.course.pk, "title": assignment.title, "slug": assignment.slug,
            "statement": "", "spec": json.dumps({**SPEC_4_1, "biases": [0.9, 0.9]}),
            "opens_at_0": "2026-01-01", "opens_at_1": "00:00", "due_at_0": "2099-02-01", "due_at_1": "00:00",
            "decimals": 1, "max_attempts": 3, "reveal": "after_due", "carried_credit": 1,
            "carried_cap": 1, "not_chained_credit": 0.5, "unexplained_roots": "review", "grace_seconds": 120,
            "questions-TOTAL_FORMS": 0, "questions-INITIAL_FORMS": 0, "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000}
    url = f"/admin/grading/assignment/{assignment.pk}/change/"
    refused = admin_client.post(url, data, follow=True)  # published: a change needs its reason
    assert "Say why you change a published assignment" in refused.content.decode()
    assignment.refresh_from_db()
    assert assignment.decimals != 1
    response = admin_client.post(url, {**data, "change_reason": "one decimal for the quiz"}, follow=True)
    assert "keep their grades until you regrade" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.spec == SPEC_4_1 and assignment.decimals == 1
    change = assignment.changes.get()
    assert (change.kind, change.reason, change.created_by.username) == ("edit", "one decimal for the quiz", "root")
    assert change.changes["decimals"]["after"] == 1 and change.changes["decimals"]["before"] != 1
    assert Grading.objects.filter(submission=submission).count() == 1
    assert selectors.current_report(submission) == before
    assert Submission.objects.filter(pk=submission.pk).exists()


def test_the_grading_record_list_has_short_columns_and_a_record_page_summarises_its_report(admin_client):
    """The list shows who, which attempt, the kind, the score out of its maximum, who and when
    and the start of the reason (a long reason no longer pushes the columns off the page); a
    record's page summarises the report and keeps the full JSON in a collapsed section."""
    from grading import services as grading_services
    from grading.models import Grading

    _, submission = _graded_attempt()
    record = Grading.objects.get(submission=submission)
    reason = "A very long reason. " * 40
    grading_services.grading_override(submission=submission, by=get_user_model().objects.get(username="root"),
                                      changes=[grading_services.Change(kind="total", points=50)], reason=reason)
    html = admin_client.get("/admin/grading/grading/").content.decode()
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    columns = re.findall(r'class="[^"]*\bcolumn-(\w+)', head)
    assert columns == ["student", "assignment", "attempt", "sequence", "kind", "score_of", "created_by",
                       "created_at", "reason_short"]
    assert f"{record.score:g} / {record.max_score:g}" in html
    assert reason.strip() not in html  # cut to its start
    page = admin_client.get(f"/admin/grading/grading/{record.pk}/change/").content.decode()
    summary = re.search(r"questions: (.*?)<br>cells: (.*?)<br>", page)
    assert summary is not None
    assert "Q2 " in summary.group(1) and "/35" in summary.group(1)
    cells = dict(part.rsplit(" ", 1) for part in summary.group(2).split(", "))
    assert sum(int(n) for n in cells.values()) == len(record.report["cells"])
    collapsed = re.search(r"<details>(.*?)</details>", page, re.S)
    assert collapsed is not None and "Full report (JSON)" in collapsed.group(1)
    quoted = "&quot;cells&quot;"  # the JSON's key, as the page escapes it
    assert quoted in collapsed.group(1) and quoted not in page.replace(collapsed.group(1), "")
