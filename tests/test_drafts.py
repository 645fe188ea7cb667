"""Drafts as history, saves as merges (issue 18, item 1): a partial or stale autosave never loses
a cell; every save keeps a version a student restores from; staff read the history."""
from __future__ import annotations

import json
from datetime import timedelta
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from grading import services
from grading.models import DRAFT_VERSIONS_KEPT, AppendOnlyError, DraftVersion, Submission
from tests.factories import make_assignment, make_course, make_member
from tests.webtools import client_for, page_token, post_answers



@pytest.fixture
def world(db):
    course = make_course()
    return {"alice": make_member(course=course, username="alice"),
            "bob": make_member(course=course, username="bob"),
            "teacher": make_member(course=course, username="teacher", role="instructor"),
            "assignment": make_assignment(course=course)}


def every_field(assignment) -> dict[str, str]:
    """A value for every input of the page (read from the page itself, not the service), each
    one different, so a lost or swapped cell shows."""
    html = client_for(make_member(course=assignment.course, username="reader")).get(
        reverse("grading:assignment", args=[assignment.pk])).content.decode()

    inputs = re.findall(r'<(?:input|textarea) [^>]*>', html)
    names = [re.search(r'name="([^"]+)"', tag).group(1) for tag in inputs
             if "data-answer" in tag and " disabled" not in tag and " readonly" not in tag]
    return {name: (f"w{i}*x1" if name.startswith("formulas.") else f"0.{i + 1:04d}")
            for i, name in enumerate(dict.fromkeys(names))}


def autosave(client, assignment, values: dict[str, str], base: int | None = None, token: str | None = None):
    token = token or page_token(client, reverse("grading:assignment", args=[assignment.pk]))
    body = {"csrfmiddlewaretoken": token, **values}
    if base is not None:
        body["base"] = str(base)
    return client.post(reverse("grading:save_draft", args=[assignment.pk]), body)


def stored_values(student) -> dict[str, str]:
    """The draft as input name -> text, read from its JSON."""
    answers = Submission.objects.get(student=student, state="draft").answers
    values = {f"formulas.{row}": text for row, text in answers.get("formulas", {}).items()}
    for table in answers["rounds"]:
        for column in (c for c in table if c != "round"):
            for name, text in table[column].items():
                values[f"r{table['round']}.{column}.{name}"] = text
    return values


@pytest.fixture
def full(world):
    """Alice's draft with every cell and formula filled (version 1)."""
    alice, a = world["alice"], world["assignment"]
    values = every_field(a)
    client = client_for(alice)
    response = autosave(client, a, values)
    assert response.status_code == 200 and response.json()["draft_version"] == 1
    return {**world, "client": client, "values": values}


def test_the_page_has_118_cells_and_15_formulas(full):
    """The issue's draft: 118 cells and 15 Q1 formulas, all stored by one save."""
    cells = [n for n in full["values"] if not n.startswith("formulas.")]
    assert len(cells) == 118 and len(full["values"]) - len(cells) == 15
    assert stored_values(full["alice"]) == full["values"]


def test_a_body_with_one_blank_cell_clears_that_cell_only(full):
    """The issue's probe: ``csrfmiddlewaretoken=<t>&r1.forward.s1=`` clears s1 and keeps the
    other 117 cells and the 15 formulas."""
    response = autosave(full["client"], full["assignment"], {"r1.forward.s1": ""})
    assert response.status_code == 200 and response.json()["ok"] is True
    kept = stored_values(full["alice"])
    expected = dict(full["values"])
    del expected["r1.forward.s1"]
    assert kept == expected
    assert len([n for n in kept if not n.startswith("formulas.")]) == 117
    assert len([n for n in kept if n.startswith("formulas.")]) == 15


def test_half_the_fields_change_half_and_keep_the_other_half(full):
    names = list(full["values"])
    half = {name: f"9.{i:04d}" for i, name in enumerate(names[::2])}
    response = autosave(full["client"], full["assignment"], half, base=1)
    assert response.status_code == 200 and response.json()["draft_version"] == 2
    assert stored_values(full["alice"]) == {**full["values"], **half}


def test_the_save_button_with_half_the_fields_keeps_the_other_half(full):
    names = list(full["values"])
    half = {name: "1.5" for name in names[1::2]}
    response = post_answers(full["client"], full["assignment"], half)
    assert response.status_code == 302
    assert stored_values(full["alice"]) == {**full["values"], **half}


def test_submit_still_takes_the_whole_form(full):
    """Submit hands in the form as posted (a field missing is blank), as before."""
    some = {"r1.forward.s1": "0.46", "r1.forward.s2": "0.92"}
    response = post_answers(full["client"], full["assignment"], some, action="submit")
    assert response.status_code == 302
    attempt = Submission.objects.get(student=full["alice"], state="submitted")
    assert attempt.answers["rounds"][0]["forward"] == {"s1": "0.46", "s2": "0.92"}
    assert attempt.answers["formulas"] == {}


def two_tabs(full):
    """Tab A loaded version 1; tab B then saved s2 (version 2)."""
    tab_b = client_for(full["alice"])
    response = autosave(tab_b, full["assignment"], {"r1.forward.s2": "0.7777"}, base=1)
    assert response.status_code == 200 and response.json()["draft_version"] == 2
    return tab_b


def test_a_stale_save_over_a_cell_changed_elsewhere_is_refused_with_the_newer_value(full):
    two_tabs(full)
    before = stored_values(full["alice"])
    versions = list(DraftVersion.objects.values_list("number", "answers"))
    response = autosave(full["client"], full["assignment"],
                        {"r1.forward.s2": "0.1234", "r1.forward.s1": "0.5555"}, base=1)
    assert response.status_code == 409
    data = response.json()
    assert data["ok"] is False and data["conflict"] is True
    assert data["draft_version"] == 2
    assert data["newer"] == {"r1.forward.s2": "0.7777"}
    assert "another tab" in data["error"] and "round 1 s2" in data["error"]
    # Nothing changed: not s1 either (the save is refused whole), and no version was added.
    assert stored_values(full["alice"]) == before
    assert list(DraftVersion.objects.values_list("number", "answers")) == versions


def test_a_stale_save_of_cells_nobody_changed_is_merged_and_says_what_changed(full):
    """Decided: merged (nothing newer is overwritten); the answer carries the other tab's
    changes so the page can show them."""
    two_tabs(full)
    response = autosave(full["client"], full["assignment"], {"r1.forward.f1": "0.3333"}, base=1)
    assert response.status_code == 200
    data = response.json()
    assert data["draft_version"] == 3 and data["newer"] == {"r1.forward.s2": "0.7777"}
    assert stored_values(full["alice"]) == {**full["values"], "r1.forward.s2": "0.7777",
                                            "r1.forward.f1": "0.3333"}


def test_a_stale_save_of_the_same_value_is_no_conflict(full):
    two_tabs(full)
    response = autosave(full["client"], full["assignment"], {"r1.forward.s2": "0.7777"}, base=1)
    assert response.status_code == 200 and response.json()["draft_version"] == 3


def test_a_stale_save_button_shows_the_page_again_with_what_was_typed(full):
    two_tabs(full)
    url = reverse("grading:assignment", args=[full["assignment"].pk])
    token = page_token(full["client"], url)
    response = full["client"].post(url, {"csrfmiddlewaretoken": token, "action": "save", "base": "1",
                                         "r1.forward.s2": "0.4242"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'value="0.4242"' in html and "another tab" in html
    assert stored_values(full["alice"])["r1.forward.s2"] == "0.7777"


def test_json_and_bad_bases_are_refused_and_change_nothing(full):
    client, a = full["client"], full["assignment"]
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           json.dumps({"r1.forward.s1": ""}), content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.json()["ok"] is False
    response = autosave(client, a, {"r1.forward.s1": ""}, token=token)  # fine: the control
    assert response.status_code == 200, response.content
    for bad in ("one", "-1", "1.5"):
        response = client.post(reverse("grading:save_draft", args=[a.pk]),
                               {"csrfmiddlewaretoken": token, "base": bad, "r1.forward.s2": ""})
        assert response.status_code == 400, bad
    assert stored_values(full["alice"])["r1.forward.s2"] == full["values"]["r1.forward.s2"]
    assert DraftVersion.objects.count() == 2


def test_a_restore_is_a_new_save_with_the_old_content(full):
    client, a, alice = full["client"], full["assignment"], full["alice"]
    autosave(client, a, {"r1.forward.s1": ""}, base=1)
    autosave(client, a, {"r1.forward.f1": "7"}, base=2)
    before = list(DraftVersion.objects.order_by("number").values_list("number", "answers"))
    history = client.get(reverse("grading:draft_history", args=[a.pk]))
    assert history.status_code == 200
    assert reverse("grading:draft_restore", args=[a.pk, 1]) in history.content.decode()
    token = page_token(client, reverse("grading:draft_history", args=[a.pk]))
    response = client.post(reverse("grading:draft_restore", args=[a.pk, 1]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert stored_values(alice) == full["values"]
    rows = list(DraftVersion.objects.order_by("number").values_list("number", "answers"))
    assert rows[:3] == before  # appended, never rewritten
    assert rows[3][0] == 4
    newest = DraftVersion.objects.get(number=4)
    assert newest.kind == "restore" and newest.restored_from == 1 and newest.cells == 133


def test_the_history_keeps_the_last_versions(world):
    alice, a = world["alice"], world["assignment"]
    for n in range(DRAFT_VERSIONS_KEPT + 5):
        services.draft_save(assignment=a, student=alice, carried=["r1.forward.s1"],
                            answers={"rounds": [{"round": 1, "forward": {"s1": f"0.{n:03d}"}}]})
    numbers = sorted(DraftVersion.objects.values_list("number", flat=True))
    assert numbers == list(range(6, 56))
    kept = DraftVersion.objects.get(number=6)
    assert kept.answers["rounds"][0]["forward"] == {"s1": "0.005"}
    client = client_for(alice)
    token = page_token(client, reverse("grading:draft_history", args=[a.pk]))
    gone = client.post(reverse("grading:draft_restore", args=[a.pk, 5]), {"csrfmiddlewaretoken": token})
    assert gone.status_code == 404


def test_no_one_reads_or_restores_another_students_draft(full):
    a, bob = full["assignment"], full["bob"]
    draft = Submission.objects.get(student=full["alice"], state="draft")
    before = stored_values(full["alice"])
    client = client_for(bob)
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    assert client.post(reverse("grading:draft_restore", args=[a.pk, 1]),
                       {"csrfmiddlewaretoken": token}).status_code == 404
    assert client.get(reverse("grading:submission_drafts", args=[draft.pk])).status_code == 404
    assert "0.0001" not in client.get(reverse("grading:draft_history", args=[a.pk])).content.decode()
    # Not even their own through the staff page.
    assert full["client"].get(reverse("grading:submission_drafts", args=[draft.pk])).status_code == 404
    outsider = make_member(course=make_course(code="OTHER"), username="eve")
    assert client_for(outsider).get(reverse("grading:draft_history", args=[a.pk])).status_code == 404
    assert stored_values(full["alice"]) == before and DraftVersion.objects.count() == 1


def test_staff_read_a_students_draft_history(full):
    autosave(full["client"], full["assignment"], {"r1.forward.s1": ""}, base=1)
    draft = Submission.objects.get(student=full["alice"], state="draft")
    html = client_for(full["teacher"]).get(reverse("grading:submission_drafts", args=[draft.pk])).content.decode()
    assert 'data-version="2"' in html and 'data-version="1"' in html
    assert "<td>133</td>" in html and "<td>132</td>" in html
    assert "draft_restore" not in html and "/restore/" not in html


def test_a_version_is_never_edited(full):
    version = DraftVersion.objects.get()
    version.cells = 1
    with pytest.raises(AppendOnlyError):
        version.save()
    with pytest.raises(AppendOnlyError):
        DraftVersion.objects.filter(pk=version.pk).update(cells=1)
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE grading_draftversion SET cells = 1 WHERE id = %s", [version.pk])
    assert DraftVersion.objects.get().cells == 133


def test_the_page_carries_its_draft_version(full):
    html = full["client"].get(reverse("grading:assignment", args=[full["assignment"].pk])).content.decode()
    assert '<input type="hidden" name="base" value="1">' in html
    assert 'data-draft-version="1"' in html
    assert reverse("grading:draft_history", args=[full["assignment"].pk]) in html


def test_a_tab_whose_draft_was_submitted_elsewhere_starts_the_next_draft_from_that_attempt(full):
    """Tab A (version 1) keeps typing after tab B submitted the draft: the new draft holds the
    attempt's answers with A's change, not A's change alone."""
    tab_b = client_for(full["alice"])
    response = post_answers(tab_b, full["assignment"], full["values"], action="submit")
    assert response.status_code == 302
    response = autosave(full["client"], full["assignment"], {"r1.forward.s1": "0.9999"}, base=1)
    assert response.status_code == 200 and response.json()["draft_version"] == 1
    assert stored_values(full["alice"]) == {**full["values"], "r1.forward.s1": "0.9999"}
    assert Submission.objects.get(student=full["alice"], state="draft").attempt == 2


@pytest.mark.parametrize("why", ["late", "no attempts left"])
def test_a_refused_submit_keeps_every_posted_value_as_the_draft(world, clock, why):
    """A submit refused (after the due time, or with no attempt left) takes no attempt, but the
    whole form it carried becomes the draft, one new version, with its values as typed; a cell
    the form sent blank is cleared, as the page showed it."""
    a, alice = world["assignment"], world["alice"]
    fields = every_field(a)
    client = client_for(alice)
    first = dict(list(fields.items())[:3])
    assert autosave(client, a, first).status_code == 200
    versions_before = DraftVersion.objects.filter(draft__student=alice).count()
    if why == "late":
        a.grace_seconds = 0
        a.save()
        clock.move_to(a.due_at + timedelta(seconds=1))
    else:
        a.max_attempts = 1
        a.save()
        assert post_answers(client, a, {**fields}, action="submit").status_code == 302
        assert autosave(client, a, first).status_code == 200
        versions_before = DraftVersion.objects.filter(draft__student=alice, draft__state="draft").count()
    typed = {**fields, next(iter(first)): ""}  # the first cell emptied on the page
    response = post_answers(client, a, typed, action="submit")
    assert response.status_code == 409
    assert Submission.objects.filter(student=alice, state="submitted").count() == (0 if why == "late" else 1)
    assert stored_values(alice) == {name: text for name, text in typed.items() if text}
    assert DraftVersion.objects.filter(draft__student=alice, draft__state="draft").count() == versions_before + 1
    page = response.content.decode()
    for name, text in list(typed.items())[1:4]:
        assert f'value="{text}"' in page or f">{text}<" in page, name
