"""The key audit page: a printed key pasted by staff, every disagreement with the engine listed
at its printed precision and classified; bad or hostile input gets a message, never a 500."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from grading.models import Variant
from tests.factories import make_assignment
from tests.test_keyaudit import HOMEWORK_DISAGREEMENTS, PRINTED_JSON, PRINTED_TEXT, printed_cells
from tests.variant_help import template
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db
ROW = re.compile(r"<tr><td>(\d+)</td><td>(\w+)</td><td>([^<]+)</td><td class=\"text-end num\">([^<]+)</td>"
                 r"<td class=\"text-end num\">([^<]+)</td>.*?badge text-bg-\w+\">(\w+)</span>")


def audit(client, assignment, text: str, fmt: str = "auto", query: str = ""):
    url = reverse("grading:key_audit", args=[assignment.pk]) + query
    return client.post(url, {"csrfmiddlewaretoken": page_token(client, url), "text": text, "format": fmt})


def lines(html: str) -> dict[tuple[int, str, str], tuple[str, str, str]]:
    return {(int(r), c, n): (p, e, k) for r, c, n, p, e, k in ROW.findall(html)}


@pytest.mark.parametrize("form", ["text", "json", "csv"])
def test_the_homeworks_printed_key_shows_its_typos_and_nothing_else(world, form):
    """Pasted as handout text, as JSON or as CSV (the form found from the text): the three
    typos, the carried copy and the one last-digit slip, the engine's value at the printed
    places beside each (round 2's b2: 0.106279, from 0.254305 - 0.148026)."""
    if form == "text":
        text = PRINTED_TEXT
    elif form == "json":
        text = json.dumps(PRINTED_JSON)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["round", "column", "name", "value"])
        for (r, column, name), printed in printed_cells(PRINTED_JSON).items():
            writer.writerow([r, column, name, printed])
        text = out.getvalue()
    response = audit(client_for(world["ta"]), world["assignment"], text)
    assert response.status_code == 200
    html = response.content.decode()
    found = lines(html)
    assert {cell: kind for cell, (_, _, kind) in found.items()} == HOMEWORK_DISAGREEMENTS
    assert found[(2, "updated", "b2")][:2] == ("0.106239", "0.106279")
    assert found[(4, "updated", "b1")][:2] == ("0.177970", "0.177969")
    assert "5 disagreements" in html and "of 140 printed numbers" in html


def test_a_key_that_cannot_be_read_gets_the_readers_message(world):
    """A cell the problem has not, JSON that is not JSON, deep nesting, a cell before any round
    heading: each a message on the page, nothing else."""
    client = client_for(world["teacher"])
    for text, fmt, message in [
        ("Round 1\n$q_7 = 0.5$", "text", "round 1 has no cell named"),
        ("{not json", "json", "Not JSON"),
        ("[" * 100_000 + "]" * 100_000, "json", "Not JSON"),
        ("$s_1 = 0.46$", "text", "comes before any round heading"),
        ("Homework 4.1\nSee the tables handed out in class.", "text", "has no number this audit can read"),
        ("Homework 4.1\nSee the tables handed out in class.", "auto", "has no number this audit can read"),
        ('{"rounds": []}', "json", "has no number this audit can read"),
    ]:
        response = audit(client, world["assignment"], text, fmt)
        assert response.status_code == 200
        assert message in response.content.decode(), message
        assert "Every printed number agrees" not in response.content.decode(), text


def test_an_empty_or_oversized_paste_is_refused_on_its_field(world):
    """Nothing pasted, or more than 200,000 characters: the form says so on the text field."""
    client = client_for(world["teacher"])
    assert audit(client, world["assignment"], "").status_code == 400
    big = audit(client, world["assignment"], "Round 1\n" + "x" * 200_001)
    assert big.status_code == 400 and "at most 200000 characters" in big.content.decode()


def test_a_variant_assignment_is_audited_against_one_students_numbers(world):
    """With per-student numbers the page asks for a student's; with ?variant= it audits against
    that student's problem (their s1 printed right agrees, a wrong one is a typo)."""
    from tests import refnet

    a = make_assignment(course=world["course"], spec=template(), slug="ranged")
    client_for(world["alice"]).get(reverse("grading:assignment", args=[a.pk]))
    variant = Variant.objects.get(assignment=a, student=world["alice"])
    staff = client_for(world["teacher"])
    page = staff.get(reverse("grading:key_audit", args=[a.pk])).content.decode()
    assert 'id="audit-needs-variant"' in page and 'id="audit-form"' not in page
    s1 = refnet.trace(variant.spec)[(1, "forward", "s", 1, (1,))]
    right = audit(staff, a, f"Round 1\n$s_1 = {s1:.6f}$", query=f"?variant={variant.pk}").content.decode()
    assert "0 disagreements" in right and "of 1 printed number" in right
    wrong = audit(staff, a, f"Round 1\n$s_1 = {s1 + 0.01:.6f}$", query=f"?variant={variant.pk}").content.decode()
    assert lines(wrong) == {(1, "forward", "s1"): (f"{s1 + 0.01:.6f}", f"{s1:.6f}", "typo")}
