"""Who may open the new pages: authoring (instructors and superusers), the key audit and a
student's key (course staff and superusers); everyone else gets a 404. A superuser counts as
staff of every course."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from grading import permissions
from grading.models import Variant
from tests.authoring_help import homework_post
from tests.factories import PASSWORD, make_assignment
from tests.variant_help import template
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def ranged(world):
    a = make_assignment(course=world["course"], spec=template(), slug="ranged")
    client_for(world["alice"]).get(reverse("grading:assignment", args=[a.pk]))
    return a, Variant.objects.get(assignment=a, student=world["alice"])


def statuses(world, root, url: str, method: str = "get", data: dict | None = None) -> dict[str, int]:
    found = {}
    for name in ("alice", "ta", "teacher", "stranger_teacher", "root"):
        user = root if name == "root" else world[name]
        client = client_for(user)
        if method == "get":
            found[name] = client.get(url).status_code
        else:
            token = page_token(client, reverse("grading:home"))
            found[name] = client.post(url, {"csrfmiddlewaretoken": token, **(data or {})}).status_code
    return found


def test_authoring_pages_are_for_instructors_and_superusers(world, root):
    """New, clone, edit and the preview: 200 for the course's instructor and a superuser; 404 for
    a student, a TA and another course's instructor."""
    a, code = world["assignment"], world["course"].code
    expected = {"alice": 404, "ta": 404, "teacher": 200, "stranger_teacher": 404, "root": 200}
    assert statuses(world, root, reverse("grading:assignment_new", args=[code])) == expected
    assert statuses(world, root, reverse("grading:assignment_new", args=[code]) + f"?from={a.pk}") == expected
    assert statuses(world, root, reverse("grading:assignment_edit", args=[a.pk])) == expected
    assert statuses(world, root, reverse("grading:authoring_preview", args=[code]), "post",
                    homework_post()) == expected
    # Saving is refused the same way: only the instructor's and the superuser's are created.
    from grading.models import Assignment

    url = reverse("grading:assignment_new", args=[code])
    for name in ("alice", "ta", "teacher", "stranger_teacher", "root"):
        client = client_for(root if name == "root" else world[name])
        token = page_token(client, reverse("grading:home"))
        response = client.post(url, {"csrfmiddlewaretoken": token, "action": "save",
                                     **homework_post(slug=f"made-{name.replace('_', '-')}")})
        assert response.status_code == {"teacher": 302, "root": 302}.get(name, 404), name
    assert sorted(Assignment.objects.filter(slug__startswith="made-").values_list("slug", flat=True)) == [
        "made-root", "made-teacher"]


def test_a_clone_needs_the_source_to_be_one_the_user_teaches(world):
    """Another course's assignment cannot be cloned into this one: 404."""
    other = world["other_assignment"]
    url = reverse("grading:assignment_new", args=[world["course"].code]) + f"?from={other.pk}"
    assert client_for(world["teacher"]).get(url).status_code == 404


def test_the_key_audit_and_a_students_key_are_for_course_staff(world, root, ranged):
    """The key audit page, a student's key and its plot: TAs, instructors, superusers; 404 for a
    student (the owner of the numbers included) and for another course's staff."""
    a, variant = ranged
    expected = {"alice": 404, "ta": 200, "teacher": 200, "stranger_teacher": 404, "root": 200}
    assert statuses(world, root, reverse("grading:key_audit", args=[world["assignment"].pk])) == expected
    assert statuses(world, root, reverse("grading:variant_key", args=[a.pk, variant.pk])) == expected
    assert statuses(world, root, reverse("grading:variant_loss_plot", args=[a.pk, variant.pk])) == expected


def test_a_superuser_counts_as_staff_of_every_course(world, root):
    """permissions say so, and a superuser who is in no course opens every staff page, sees every
    course on their home page, and still cannot act as a student."""
    a = world["assignment"]
    assert permissions.is_course_staff(root, world["course"]) and permissions.is_instructor(root, world["course"])
    assert not permissions.is_course_staff(world["stranger_teacher"], world["course"])
    client = client_for(root)
    for name in ("gradebook", "key", "analytics", "queue", "regrade", "extensions", "roster", "key_audit",
                 "assignment_edit", "assignment"):
        assert client.get(reverse(f"grading:{name}", args=[a.pk])).status_code == 200, name
    home = client.get(reverse("grading:home")).content.decode()
    assert "FRA501" in home and "OTHER101" in home and "New assignment" in home
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.post(reverse("grading:assignment", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "action": "save", "r1.forward.s1": "0.46"})
    assert response.status_code == 404


def test_a_superuser_reads_any_submission(world, root):
    """A student's attempt in a course the superuser is not in opens for them, as for its staff."""
    sub = submit(client_for(world["stranger"]), world["other_assignment"], {"r1.forward.s1": "0.46"})
    assert client_for(root).get(sub.get_absolute_url()).status_code == 200
    assert client_for(world["teacher"]).get(sub.get_absolute_url()).status_code == 404


def test_the_new_pages_have_the_strict_policy_and_nothing_inline(world, ranged):
    """The authoring page, the key audit, a student's key, the class key of an assignment with
    ranges and a student's page of it: the strict header and no inline script or style (the
    preview's answer is JSON; its HTML has nothing inline either)."""
    from tests.test_csp import STRICT, inline_code, policy

    a, variant = ranged
    teacher, alice = client_for(world["teacher"]), client_for(world["alice"])
    for client, url in [
        (teacher, reverse("grading:assignment_new", args=[world["course"].code])),
        (teacher, reverse("grading:assignment_edit", args=[a.pk])),
        (teacher, reverse("grading:key_audit", args=[a.pk]) + f"?variant={variant.pk}"),
        (teacher, reverse("grading:variant_key", args=[a.pk, variant.pk])),
        (teacher, reverse("grading:key", args=[a.pk])),
        (teacher, reverse("grading:gradebook", args=[a.pk])),
        (alice, reverse("grading:assignment", args=[a.pk])),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == STRICT, url
        assert inline_code(response.content.decode()) == [], url
    token = page_token(teacher, reverse("grading:home"))
    preview = teacher.post(reverse("grading:authoring_preview", args=[world["course"].code]),
                           {"csrfmiddlewaretoken": token, **homework_post()}).json()
    assert inline_code(preview["preview"]) == []


def test_hostile_ids_in_queries_are_404_or_ignored_never_500(world, ranged):
    """?from=, ?variant=, the preview's assignment and example, ?record= with a superscript digit,
    5,000 digits or a negative number: a 404 or the plain page, never a server error."""
    a, _variant = ranged
    teacher = client_for(world["teacher"])
    teacher.raise_request_exception = False
    code = world["course"].code
    sub = submit(client_for(world["alice"]), world["assignment"], {"r1.forward.s1": "0.46"})
    token = page_token(teacher, reverse("grading:home"))
    for bad in ("²", "9" * 5000, "-1", "1e3"):
        assert teacher.get(reverse("grading:assignment_new", args=[code]) + f"?from={bad}").status_code == 404
        assert teacher.get(reverse("grading:key_audit", args=[a.pk]) + f"?variant={bad}").status_code == 404
        assert teacher.get(sub.get_absolute_url() + f"?record={bad}").status_code == 200
        preview = teacher.post(reverse("grading:authoring_preview", args=[code]),
                               {"csrfmiddlewaretoken": token, **homework_post(), "example": bad})
        assert preview.status_code == 200
        assert teacher.post(reverse("grading:authoring_preview", args=[code]),
                            {"csrfmiddlewaretoken": token, **homework_post(), "assignment": bad}).status_code == 404


@pytest.mark.parametrize("who, hidden", [("ta", {"roster", "edit"}), ("teacher", set())])
def test_every_staff_tab_shown_opens_for_whoever_sees_it(world, who, hidden):
    """The staff tabs a TA sees all open (no Roster tab that 404s); an instructor sees them all."""
    import re

    a = world["assignment"]
    client = client_for(world[who])
    html = client.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    nav = html[html.index('<ul class="nav nav-tabs'):]
    nav = nav[:nav.index("</ul>")]
    links = set(re.findall(r'href="([^"]+)"', nav))
    pages = {"gradebook", "queue", "key", "analytics", "regrade", "extensions", "roster", "key_audit",
             "assignment_edit"}
    tab = {"assignment_edit": "edit"}
    expected = {reverse(f"grading:{p}", args=[a.pk]) for p in pages if tab.get(p, p) not in hidden}
    assert expected <= {link.replace("&amp;", "&") for link in links}
    assert (reverse("grading:roster", args=[a.pk]) in links) is ("roster" not in hidden)
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
