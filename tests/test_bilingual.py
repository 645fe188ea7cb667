"""An assignment in Thai and in English (issue 21, item 7): a title and a statement in each
language, each optional (a title in one at least); the reader sees theirs, else the other."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from grading.models import Assignment
from tests.authoring_help import homework_post
from tests.factories import make_assignment
from tests.test_authoring import course, new_url, post, teacher  # noqa: F401 - the course fixture
from tests.webtools import client_for

pytestmark = pytest.mark.django_db


def page_of(client, assignment, language: str) -> str:
    return client.get(reverse("grading:assignment", args=[assignment.pk]),
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_each_reader_sees_their_language_and_the_other_when_theirs_is_missing(world):
    """Both written: Thai for a Thai reader, English for an English one (home, page, statement).
    Thai only: the English reader sees the Thai. English title only with a Thai statement only:
    each part falls back on its own."""
    both = make_assignment(course=world["course"], slug="both", statement="Train it once.",
                           title_th="การบ้าน 4.1", statement_th="ฝึกหนึ่งรอบ")
    thai_only = make_assignment(course=world["course"], slug="thai-only", title="", title_th="แบบฝึกหัดไทย")
    mixed = make_assignment(course=world["course"], slug="mixed", statement="", statement_th="โจทย์ภาษาไทย")
    client = client_for(world["alice"])
    en, th = page_of(client, both, "en"), page_of(client, both, "th")
    assert "<h1 class=\"h3\">Homework 4.1</h1>" in en and "Train it once." in en and "การบ้าน 4.1" not in en
    assert "<h1 class=\"h3\">การบ้าน 4.1</h1>" in th and "ฝึกหนึ่งรอบ" in th and "Train it once." not in th
    assert "<h1 class=\"h3\">แบบฝึกหัดไทย</h1>" in page_of(client, thai_only, "en")
    assert "โจทย์ภาษาไทย" in page_of(client, mixed, "en") and "<h1 class=\"h3\">Homework 4.1</h1>" in page_of(client, mixed, "th")
    home_th = client.get(reverse("grading:home"), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert "การบ้าน 4.1" in home_th and "แบบฝึกหัดไทย" in home_th


def test_an_assignment_without_any_title_is_refused_by_the_service_and_the_database(world):
    with pytest.raises(ValidationError):
        make_assignment(course=world["course"], slug="untitled", title="", title_th="")
    kept = Assignment.objects.get(slug="hw-4-1", course=world["course"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=kept.pk).update(title="", title_th="")


def test_the_authoring_form_takes_either_title_and_refuses_none(course):  # noqa: F811
    """Thai title and statement only: saved as written. No title at all: the form says to give
    one, in English or in Thai, and nothing is created."""
    client = teacher(course)
    response = post(client, new_url(course), {**homework_post(title="", title_th="การบ้าน 4.1", statement="",
                                                              statement_th="ฝึกหนึ่งรอบ"), "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Assignment.objects.get(slug="hw41")
    assert (saved.title, saved.title_th, saved.statement, saved.statement_th) == ("", "การบ้าน 4.1", "", "ฝึกหนึ่งรอบ")
    response = post(client, new_url(course), {**homework_post(title="", title_th="", slug="hw41b"), "action": "save"})
    assert response.status_code == 400
    assert "Give a title, in English or in Thai (or both)." in response.content.decode()
    assert not Assignment.objects.filter(slug="hw41b").exists()
