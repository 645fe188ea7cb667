"""Staff review of carried credit from roots no honest slip explains (issue 17, item 2), and the
student's view of cells whose carried credit waits ("pending").

The student in these tests types round 1 of Homework 4.1 with s1 = 0.5123 (right: 0.4600; not a
digit slip, a rounding or a wrong operand) and works every later cell of round 1 honestly from
their own values, rounded to 4 places, as the engine's graph computes them cell by cell.
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from grading import selectors, services
from grading.engine import CellId, build_graph, parse_spec
from grading.grade import grader
from grading.models import Grading
from tests.factories import SPEC_4_1, report_of
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db

INVENTED = 0.5123  # round 1 s1; the right value is 0.4600
PENDING_BADGE = '<span aria-hidden="true">⏳</span> carried, waiting for review'
QUEUE_LINE = "round 1 s1 = 0.5123 (right: 0.4600), 12 cells carried"


def invented(cell: str = "s1", value: float = INVENTED) -> dict[str, str]:
    """Round 1 typed from the student's own values, ``cell`` invented: every other cell is the
    engine's formula applied to what the student typed before it, rounded to 4 places."""
    graph = build_graph(parse_spec(SPEC_4_1))
    own: dict[CellId, float] = {}
    typed: dict[str, str] = {}
    for k, c in graph.cells.items():
        if c.given:
            own[k] = c.value  # type: ignore[assignment]
            continue
        v = c.fn(*(own[d] for d in c.deps))  # type: ignore[misc]
        if k.round == 1 and k.column == "forward" and c.name == cell:
            v = value
        text = f"{v:.4f}"
        own[k] = float(text)
        if k.round == 1 and c.gradable:
            typed[c.id] = text
    return typed


def _post(client, sub, decision: str, root: str = "r1.forward.s1", note: str = ""):
    token = page_token(client, sub.get_absolute_url())
    based_on = selectors.current_grading(sub).sequence
    return client.post(reverse("grading:root_review", args=[sub.pk]),
                       {"csrfmiddlewaretoken": token, "root": root, "decision": decision,
                        "note": note, "based_on": based_on})


def _queued(assignment, sub, kind: str) -> list:
    return [i for i in selectors.review_queue(assignment) if i.submission.pk == sub.pk and i.kind == kind]


@pytest.fixture
def waiting(world):
    sub = submit(client_for(world["alice"]), world["assignment"], invented())
    return sub


def test_the_invented_value_is_a_waiting_root(waiting):
    """The scenario the other tests stand on: s1 is a root nobody explains, 12 cells wait."""
    report = report_of(waiting)
    root = report.root("r1.forward.s1")
    assert root is not None and root.state == "waiting" and root.explanation is None
    assert len(root.carried) == 12
    assert all(report.cell(c).status == "pending" and report.cell(c).credit == 0 for c in root.carried)
    assert Grading.objects.get(submission=waiting).needs_review


def test_the_attempt_is_in_the_queue_with_its_roots(world, waiting):
    """The queue lists the attempt as "roots", the root in a line, linked to the page's #roots."""
    a = world["assignment"]
    [item] = _queued(a, waiting, "roots")
    assert [line.root.id for line in item.roots] == ["r1.forward.s1"]
    assert item.roots[0].right == "0.4600" and item.roots[0].waiting == 12
    assert not _queued(a, waiting, "undecided")  # no Q1 row waits: no empty "undecided" item
    html = client_for(world["ta"]).get(reverse("grading:queue", args=[a.pk])).content.decode()
    assert QUEUE_LINE in html
    assert f'{waiting.get_absolute_url()}#roots' in html


def test_staff_page_shows_the_root_and_its_forms(world, waiting):
    """Staff read the root: typed, right, no explanation, its state, its cells, accept and decline."""
    html = client_for(world["teacher"]).get(waiting.get_absolute_url()).content.decode()
    assert 'id="roots"' in html and "Carried credit to review" in html
    section = html[html.index('id="roots"'):html.index("</section>", html.index('id="roots"'))]
    assert "0.5123" in section and "0.4600" in section
    assert "no honest slip found" in section and "waiting for review" in section
    assert "round 1 f1" in section and "round 1 updated b1" in section
    assert reverse("grading:root_review", args=[waiting.pk]) in section
    assert "✓ Accept" in section and "✗ Decline" in section
    assert "another student" not in section  # nobody else has this number


def test_accepting_a_root_carries_its_cells_and_leaves_the_queue(world, waiting):
    """Accept: a review record, the 12 cells carried with credit, the score rises by exactly the
    carried points they add, and the attempt leaves the queue."""
    before = report_of(waiting)
    teacher = client_for(world["teacher"])
    response = _post(teacher, waiting, "accept", note="fine, an honest slip")
    assert response.status_code == 302 and response["Location"] == waiting.get_absolute_url()
    review = Grading.objects.get(submission=waiting, kind="review")
    assert review.created_by == world["teacher"] and review.changes[0]["kind"] == "root"
    assert not review.needs_review
    after = report_of(waiting)
    assert after.root("r1.forward.s1").state == "accepted"
    carried = after.root("r1.forward.s1").carried
    assert all(after.cell(c).status == "carried" and after.cell(c).credit == 1.0 for c in carried)
    assert after.carried_points > before.carried_points
    assert after.total == pytest.approx(before.total + after.carried_points - before.carried_points)
    assert after.total > before.total
    assert not _queued(world["assignment"], waiting, "roots")
    page = teacher.get(waiting.get_absolute_url()).content.decode()
    assert "Carried credit from round 1 s1 accepted." in page
    student = client_for(world["alice"]).get(waiting.get_absolute_url()).content.decode()
    assert "fine, an honest slip" in student and PENDING_BADGE not in student


def test_declining_a_root_marks_its_cells_wrong(world):
    """Decline (on another attempt): the cells are incorrect, the score does not change."""
    sub = submit(client_for(world["bob"]), world["assignment"], invented())
    before = report_of(sub)
    assert _post(client_for(world["teacher"]), sub, "decline").status_code == 302
    after = report_of(sub)
    assert Grading.objects.filter(submission=sub, kind="review").count() == 1
    assert after.root("r1.forward.s1").state == "declined"
    assert all(after.cell(c).status == "incorrect" for c in after.root("r1.forward.s1").carried)
    assert after.total == before.total
    assert not _queued(world["assignment"], sub, "roots")


def test_a_bad_or_stale_decision_changes_nothing(world, waiting):
    """No decision, or a cell that is no root: a message, no record."""
    teacher = client_for(world["teacher"])
    assert _post(teacher, waiting, "maybe").status_code == 302
    assert _post(teacher, waiting, "accept", root="r1.forward.s2").status_code == 302
    assert not Grading.objects.filter(submission=waiting, kind="review").exists()
    page = teacher.get(waiting.get_absolute_url()).content.decode()
    assert "There is no root waiting for a decision" in page


def test_students_cannot_review_or_read_staff_pages(world, waiting):
    """A student's post to root_review is a 404 (their own attempt too), another student's page
    is a 404, and the student's own page has no roots section and no forms."""
    alice = client_for(world["alice"])
    assert _post(alice, waiting, "accept").status_code == 404
    assert client_for(world["bob"]).get(waiting.get_absolute_url()).status_code == 404
    bob = client_for(world["bob"])
    token = page_token(bob, reverse("grading:assignment", args=[world["assignment"].pk]))
    response = bob.post(reverse("grading:root_review", args=[waiting.pk]),
                        {"csrfmiddlewaretoken": token, "root": "r1.forward.s1", "decision": "accept"})
    assert response.status_code == 404
    assert not Grading.objects.filter(submission=waiting, kind="review").exists()
    html = alice.get(waiting.get_absolute_url()).content.decode()
    assert 'id="roots"' not in html and "root_review" not in html
    assert reverse("grading:root_review", args=[waiting.pk]) not in html


def test_the_student_sees_pending_cells(world, waiting):
    """Each waiting cell shows its own badge and message; the legend explains the badge."""
    html = client_for(world["alice"]).get(waiting.get_absolute_url()).content.decode()
    assert html.count(PENDING_BADGE) == 12
    assert "waits for review by staff" in html
    assert "⏳ carried, waiting for review" in html  # the legend


def test_a_copied_value_is_shown_to_staff_only(world, monkeypatch):
    """A root whose value is another student's number: staff read whose; the student never sees
    the name nor the word "copy"."""
    monkeypatch.setattr("grading.tasks.enqueue_grading", lambda pk: None)  # graded below, with others
    sub = submit(client_for(world["alice"]), world["assignment"], invented())
    assert not Grading.objects.filter(submission=sub).exists()
    config = services.grading_config(world["assignment"])
    report = grader.grade_submission(selectors.problem_of(sub), sub.answers, config,
                                     others={"r1.forward.s1": {"0.5123": ("bob",)}})
    assert report.root("r1.forward.s1").copied_from == ("bob",)
    services.grading_create_auto(submission=sub, report=report, config=config)
    staff = client_for(world["teacher"]).get(sub.get_absolute_url()).content.decode()
    assert "the same value as another student's number for this cell: bob" in staff
    student = client_for(world["alice"]).get(sub.get_absolute_url()).content.decode()
    assert PENDING_BADGE in student
    assert "bob" not in student.lower() and "copy" not in student.lower() and "copied" not in student.lower()


def test_gradebook_analytics_and_queue_pages_read_pending_cells(world, waiting):
    """Pages that enumerate statuses do not fail on "pending"."""
    a = world["assignment"]
    ta = client_for(world["ta"])
    for name in ("grading:gradebook", "grading:gradebook_csv", "grading:analytics", "grading:queue"):
        assert ta.get(reverse(name, args=[a.pk])).status_code == 200, name
    for kind in ("heatmap", "mistakes", "scores"):
        assert ta.get(reverse("grading:analytics_plot", args=[a.pk, kind])).status_code == 200, kind
