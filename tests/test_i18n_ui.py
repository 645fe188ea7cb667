"""Words the system writes, in the reader's language (issue 21, item 7): the grade history's
"What changed" column and the authoring page's time-zone note (the zone named as every page
names it)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading import services
from grading.grade.ledger import Change
from tests.factories import round1_values
from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db


def test_the_history_says_what_changed_in_the_readers_words(world):
    """A TA marks s2 correct: the teacher's history row says the mark as the feedback does
    ("correct" in English, "ถูกต้อง" in Thai), not the stored value."""
    attempt = submit(client_for(world["alice"]), world["assignment"], {**round1_values(), "r1.forward.s2": "0.9"})
    services.grading_override(submission=attempt, by=world["ta"], reason="rounded the other way",
                              changes=[Change(kind="cell", target="r1.forward.s2", status="correct", credit=1.0)])
    client = client_for(world["teacher"])
    url = reverse("grading:submission", args=[attempt.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    thai = client.get(url, HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert "round 1 s2 → correct (1)" in english  # the cell by its round and name, never its raw id
    assert "s2 → ถูกต้อง (1)" in thai and "→ correct" not in thai
    assert "r1.forward.s2 →" not in english and "r1.forward.s2 →" not in thai


def test_the_authoring_page_names_the_course_zone_as_the_other_pages_do(world):
    html = client_for(world["teacher"]).get(
        reverse("grading:assignment_new", args=[world["course"].code])).content.decode()
    assert "Times are in the course&#x27;s time zone: UTC+07 (Asia/Bangkok), as students read them." in html \
        or "Times are in the course's time zone: UTC+07 (Asia/Bangkok), as students read them." in html


@pytest.mark.parametrize("language", ["en", "th"])
def test_q1_has_one_title_on_the_entry_and_the_feedback_page(world, language):
    """Q1's heading is the same words where it is answered and where it is marked."""
    import re

    client = client_for(world["alice"])
    attempt = submit(client, world["assignment"], round1_values())
    heads = []
    for url in (reverse("grading:assignment", args=[world["assignment"].pk]), attempt.get_absolute_url()):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        heads.append(re.findall(r'<h2 class="h5"[^>]*>(Q1 · [^<]+)</h2>', html))
    assert len(heads[0]) == 1 and heads[0] == heads[1]
