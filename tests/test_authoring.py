"""The authoring page through the client: create, clone and change an assignment without typing
JSON; the live preview's key and drawing; errors on the cell they are about; degenerate problems
refused with the reason."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import Assignment, Membership, Variant
from tests import refnet
from tests.authoring_help import HIDDEN_FREE, HIDDEN_SPEC, hidden_post, homework_post
from tests.factories import SPEC_4_1, make_assignment, make_course, make_member
from tests.variant_help import expected_draw
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = make_course()
    make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    make_member(course=course, username="ann")
    return course


def teacher(course):
    return client_for(course.memberships.get(user__username="teacher").user)


def new_url(course) -> str:
    return reverse("grading:assignment_new", args=[course.code])


def preview_url(course) -> str:
    return reverse("grading:authoring_preview", args=[course.code])


def post(client, url: str, data: dict, page: str | None = None):
    token = page_token(client, page or url)
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


def test_an_instructor_creates_a_hidden_layer_network_with_ranges_through_the_form(course):
    """Posting the page's grids makes the spec written out by hand (layers form, a range and a
    choice where typed), the questions with their points, and the settings; a random seed."""
    client = teacher(course)
    response = post(client, new_url(course), {**hidden_post(), "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    a = Assignment.objects.get(course=course, slug="hidden-own")
    assert a.spec == HIDDEN_SPEC
    assert response["Location"] == reverse("grading:assignment_edit", args=[a.pk])
    assert list(a.questions.values_list("number", "kind", "round", "points", "extra_credit")) == [
        (1, "formulas", None, 20, False), (2, "round", 1, 40, False), (3, "round", 2, 40, True),
        (4, "plot", None, 5, True)]
    assert (a.title, a.decimals, a.max_attempts, a.reveal, a.practice) == (
        "Hidden layer, your own numbers", 4, 3, "after_due", False)
    local = timezone.localtime(a.due_at)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 1, 19, 23, 59)
    assert a.has_variants and a.seed != 0


def test_the_preview_returns_the_drawing_and_the_key_of_an_example_draw(course):
    """The preview endpoint answers with the layered drawing and the full key of the example
    student's numbers (the documented draw for "staff-preview-0" with seed 0, keyed by the
    reference network)."""
    client = teacher(course)
    response = post(client, preview_url(course), hidden_post(), page=new_url(course))
    data = response.json()
    assert response.status_code == 200 and data["ok"] is True and data["errors"] == {}
    html = data["preview"]
    assert '<svg class="network"' in html and "[2]" in html
    example = expected_draw(HIDDEN_SPEC, HIDDEN_FREE, 0, "staff-preview-0")
    cells = refnet.trace(example)
    for key in [(1, "forward", "s", 1, (1,)), (2, "backward", "dL/dw", 1, (1, 1)), (2, "forward", "L", None, ())]:
        assert f"{cells[key]:.6f}" in html, key
    assert "data:image/svg+xml;base64," in html
    assert f"w11[1] = {example['layers'][0]['weights'][0][0]:g}" in html
    another = post(client, preview_url(course), {**hidden_post(), "example": "1"}, page=new_url(course)).json()
    shown = expected_draw(HIDDEN_SPEC, HIDDEN_FREE, 0, "staff-preview-1")
    assert f"{refnet.trace(shown)[(1, 'forward', 's', 1, (1,))]:.6f}" in another["preview"]


def test_errors_sit_on_the_cell_they_are_about(course):
    """A cell that is no number, a range upside down, a value too big, a bce target out of [0, 1]
    and a missing step: each message comes back on its own field, naming the cell."""
    client = teacher(course)
    bad = hidden_post(**{"x-1-2": "abc", "w-2-1-2": "0.9..0.1 step 0.1", "b-1-2": "1..2"})
    errors = post(client, preview_url(course), bad, page=new_url(course)).json()["errors"]
    assert set(errors) == {"x-1-2", "b-1-2"}  # cells the form reads first; the engine sees no spec yet
    assert "Not understood" in errors["x-1-2"][0] and "needs its step" in errors["b-1-2"][0]
    errors = post(client, preview_url(course), hidden_post(**{"w-2-1-2": "0.9..0.1 step 0.1"}),
                  page=new_url(course)).json()["errors"]
    assert errors == {"w-2-1-2": ["w12[2]: range lo 0.9 is above hi 0.1"]}
    errors = post(client, preview_url(course), hidden_post(**{"b-2-2": "2e7"}), page=new_url(course)).json()["errors"]
    assert list(errors) == ["b-2-2"] and "keep values within ±1e6" in errors["b-2-2"][0]
    bce = hidden_post(**{"loss": "bce", "activation_2": "sigmoid", "y-2-1": "2"})
    errors = post(client, preview_url(course), bce, page=new_url(course)).json()["errors"]
    assert list(errors) == ["y-2-1"] and "between 0 and 1" in errors["y-2-1"][0]
    page = post(client, new_url(course), {**hidden_post(**{"x-1-2": "abc"}), "action": "save"})
    assert page.status_code == 400
    html = page.content.decode()
    assert re.search(r'name="x-1-2"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="x-1-2"', html)
    assert 'data-error-for="x-1-2">Not understood' in html
    assert 'value="abc"' in html  # what was typed comes back
    assert not Assignment.objects.filter(slug="hidden-own").exists()


def test_a_degenerate_problem_is_refused_with_the_reason(course):
    """Inputs of 0.00001 make every dL/dw smaller than 0.0001: the save is refused, the page and
    the preview say which cell and why, and nothing is created. With a range that admits only
    problems whose inputs are 0, the engine's reasons after its draws. (Inputs of exactly 0 in a
    problem without ranges make given 0s instead, issue 20: this test used them before.)"""
    client = teacher(course)
    tiny = {f"x-{r}-{i}": "0.00001" for r in (1, 2, 3, 4) for i in (1, 2)}
    response = post(client, new_url(course), {**homework_post(tiny), "action": "save"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The problem is degenerate: round 1 dL/dw11 = " in html
    assert "is below one unit of 4 decimals" in html
    assert not Assignment.objects.filter(slug="hw41").exists()
    preview = post(client, preview_url(course), homework_post(tiny), page=new_url(course)).json()
    assert preview["ok"] is False and any("dL/dw11" in p for p in preview["problems"])
    zeros = {f"x-{r}-{i}": "0" for r in (1, 2, 3, 4) for i in (1, 2)}
    ranged = post(client, new_url(course), {**homework_post({**zeros, "b-1-1": "0.1..0.3 step 0.1"}),
                                           "action": "save"})
    assert ranged.status_code == 400 and "no non-degenerate problem" in ranged.content.decode()


def test_homework_4_1_made_in_the_form_is_its_json(course):
    """Homework 4.1 typed cell by cell is saved in its own single-layer form, number for number."""
    client = teacher(course)
    response = post(client, new_url(course), {**homework_post(), "action": "save"})
    assert response.status_code == 302
    a = Assignment.objects.get(slug="hw41")
    assert a.spec == SPEC_4_1 and not a.has_variants
    assert [q.points for q in a.questions.all()] == [30, 35, 35, 35, 35, 5]


def test_a_clone_starts_from_the_source_and_draws_new_numbers(course):
    """new?from= shows the source's cells (ranges as typed) and settings; saved, it is a new
    assignment with the same spec and a seed of its own."""
    client = teacher(course)
    post(client, new_url(course), {**hidden_post(), "action": "save"})
    source = Assignment.objects.get(slug="hidden-own")
    html = client.get(new_url(course) + f"?from={source.pk}").content.decode()
    assert 'value="0.1..0.5 step 0.1"' in html and 'value="{0.1, 0.2, 0.3}"' in html
    assert 'value="hidden-own-copy"' in html and "(copy)" in html
    data = hidden_post(slug="hidden-own-copy", title="Copy")
    response = post(client, new_url(course) + f"?from={source.pk}", {**data, "action": "save"})
    assert response.status_code == 302
    copy = Assignment.objects.get(slug="hidden-own-copy")
    assert copy.spec == source.spec and copy.pk != source.pk and copy.seed != source.seed


def test_editing_keeps_what_students_have_and_refuses_a_new_shape(course):
    """An edit of the numbers is saved and a student's drawn numbers stay; once a student has
    started, a change of shape is refused with the reason, as are ranges for an assignment whose
    attempts were handed in on shared numbers."""
    client = teacher(course)
    post(client, new_url(course), {**hidden_post(), "action": "save"})
    a = Assignment.objects.get(slug="hidden-own")
    edit = reverse("grading:assignment_edit", args=[a.pk])
    assert post(client, reverse("grading:assignment_publish", args=[a.pk]), {}, page=edit).status_code == 302
    ann = course.memberships.get(user__username="ann").user
    client_for(ann).get(reverse("grading:assignment", args=[a.pk]))
    drawn = Variant.objects.get(assignment=a, student=ann).spec
    edit = reverse("grading:assignment_edit", args=[a.pk])
    response = post(client, edit, {**hidden_post(**{"w-1-1-1": "0.6..0.9 step 0.1"}),
                                   "reason": "a wider range for w11", "action": "save"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.spec["layers"][0]["weights"][0][0] == {"range": [0.6, 0.9], "step": 0.1}
    assert Variant.objects.get(assignment=a, student=ann).spec == drawn
    refused = post(client, edit, {**hidden_post(rounds="1"), "action": "save"})
    assert refused.status_code == 400 and "can no longer change" in refused.content.decode()
    shared = make_assignment(course=course, slug="shared")
    submit(client_for(ann), shared, {"r1.forward.s1": "0.46"})
    response = post(client, reverse("grading:assignment_edit", args=[shared.pk]),
                    {**homework_post({"w-1-1-1": "0.1..0.3 step 0.1"}, slug="shared"), "action": "save"})
    assert response.status_code == 400 and "cannot get ranges now" in response.content.decode()
    shared.refresh_from_db()
    assert shared.spec == SPEC_4_1


def test_without_javascript_the_grids_are_laid_out_again_keeping_what_was_typed(course):
    """"Update the grids" with three inputs and three rounds: the new cells appear, typed cells
    that still exist keep their text, and nothing is saved."""
    client = teacher(course)
    response = post(client, new_url(course), {**homework_post({"w-1-1-1": "0.77"}, n_inputs="3", rounds="3"),
                                             "action": "resize"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="w-1-3-2"' in html and 'name="x-3-3"' in html and 'name="x-4-1"' not in html
    assert re.search(r'name="w-1-1-1"[^>]*value="0.77"|value="0.77"[^>]*name="w-1-1-1"', html)
    assert not Assignment.objects.exists()


def test_the_slug_and_the_times_are_checked_on_their_fields(course):
    """A short name another assignment of the course has, and a due time before the opening."""
    make_assignment(course=course, slug="hw41")
    client = teacher(course)
    response = post(client, new_url(course), {**homework_post(due_at="2026-01-01T00:00"), "action": "save"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-for="slug">Another assignment of this course has this short name.' in html
    assert 'data-error-for="due_at">The due time must be after the opening.' in html


def test_the_edit_page_opens_with_the_preview_of_the_saved_problem(world):
    """Editing Homework 4.1 shows its cells and, beside them, its key (the engine's, here the
    reference's round 1 s1 and f1)."""
    a = world["assignment"]
    html = client_for(world["teacher"]).get(reverse("grading:assignment_edit", args=[a.pk])).content.decode()
    cells = refnet.trace(SPEC_4_1)
    assert f"{cells[(1, 'forward', 'f', 1, (1,))]:.6f}" in html
    assert re.search(r'name="w-1-2-2"[^>]*value="0.5"|value="0.5"[^>]*name="w-1-2-2"', html)
    assert 'id="preview-ok"' in html


def _questions(slug):
    return list(Assignment.objects.get(slug=slug).questions.values_list(
        "number", "kind", "round", "points", "extra_credit"))


def _drop_round(data: dict, r: int) -> dict:
    return {k: v for k, v in data.items() if not k.startswith((f"x-{r}-", f"y-{r}-"))
            and k not in (f"points-round-{r}", f"extra-round-{r}")}


@pytest.mark.parametrize("rounds, expected", [
    # A round the page did not show yet starts from its kind's default (35, extra from round 3);
    # the plot keeps the 5 extra-credit points it was given, wherever it now sits.
    (3, [(1, "formulas", None, 20, False), (2, "round", 1, 40, False), (3, "round", 2, 40, True),
         (4, "round", 3, 35, True), (5, "plot", None, 5, True)]),
    (1, [(1, "formulas", None, 20, False), (2, "round", 1, 40, False), (3, "plot", None, 5, True)]),
])
def test_points_follow_the_question_kind_when_the_rounds_change(course, rounds, expected):
    """The 2-round page's points posted with another number of rounds (as the page posts before
    it has laid out the new grids): each question keeps its kind's points, never its position's."""
    data = hidden_post(rounds=str(rounds))
    if rounds == 3:
        data.update({"x-3-1": "0.2", "x-3-2": "0.9", "y-3-1": "0", "y-3-2": "1"})
    else:
        data = _drop_round(data, 2)
    response = post(teacher(course), new_url(course), {**data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _questions("hidden-own") == expected


def test_five_rounds_of_homework_4_1_give_the_fifth_table_its_points_and_the_plot_its_own(course):
    data = homework_post(rounds="5", **{"x-5-1": "0.3", "x-5-2": "0.6", "y-5-1": "1", "y-5-2": "0"})
    response = post(teacher(course), new_url(course), {**data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _questions("hw41")[-2:] == [(6, "round", 5, 35, True), (7, "plot", None, 5, True)]


def test_an_edited_assignments_points_stay_with_their_kind_when_the_grids_are_laid_out_again(course):
    """Saved with a 7-point plot and 12 points for round 2: laid out again for three rounds, the
    plot's field still says 7, round 2's 12, and the new round 3 has the default 35."""
    client = teacher(course)
    post(client, new_url(course), {**hidden_post(**{"points-plot": "7", "points-round-2": "12"}),
                                   "action": "save"})
    a = Assignment.objects.get(slug="hidden-own")
    edit = reverse("grading:assignment_edit", args=[a.pk])
    html = client.get(edit).content.decode()
    assert re.search(r'name="points-plot"[^>]*value="7(\.0)?"', html)
    data = {k: v for k, v in hidden_post(rounds="3").items() if not k.startswith(("points-", "extra-"))}
    html = post(client, edit, {**data, "action": "resize"}).content.decode()
    assert re.search(r'name="points-plot"[^>]*value="7(\.0)?"', html)
    assert re.search(r'name="points-round-2"[^>]*value="12(\.0)?"', html)
    assert re.search(r'name="points-round-3"[^>]*value="35(\.0)?"', html)
