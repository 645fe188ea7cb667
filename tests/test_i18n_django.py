"""The Django side speaks the reader's language: refusals, form errors and the scripts' JSON
come in Thai to a Thai browser (its Accept-Language, or the header's language switch, which is
a cookie) and exactly as before in English.

The Thai expected here is the hand-written translation of locale/parts/django.po, copied in by
hand; these tests need that fragment compiled into locale/th/LC_MESSAGES/django.mo.
"""
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grading import selectors
from grading.models import Grading
from grading.engine.text import _ as message
from tests.factories import make_assignment, round1_values
from tests.webtools import client_for, page_token, post_answers, submit

pytestmark = pytest.mark.django_db

THAI = {"Accept-Language": "th"}
ENGLISH = {"Accept-Language": "en"}


def in_thai(client: Client) -> Client:
    """The client as after choosing ไทย in the header's switch (the language cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    return client


def post(client, page_url, url, data):
    """A form post with the CSRF token of the page it sits on."""
    return client.post(url, {"csrfmiddlewaretoken": page_token(client, page_url), **data})


# ------------------------------------------------------------------ the scripts' JSON


def test_an_autosave_refusal_is_in_the_browsers_language(world):
    """An autosave with no answer fields is refused in Thai for a Thai browser, in English otherwise."""
    a = world["assignment"]
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    url = reverse("grading:save_draft", args=[a.pk])
    thai = client.post(url, {"csrfmiddlewaretoken": token}, headers=THAI)
    english = client.post(url, {"csrfmiddlewaretoken": token}, headers=ENGLISH)
    assert thai.status_code == english.status_code == 400
    assert thai.json()["error"] == ("ไม่ได้บันทึก: คำขอนี้ไม่มีช่องคำตอบ "
                                    "ฉบับร่างของคุณไม่เปลี่ยนแปลง")
    assert english.json()["error"] == ("Not saved: no answer fields in this request. "
                                       "Your draft is unchanged.")


def test_an_autosave_without_a_session_says_so_in_thai(world):
    """The autosave's expired-session JSON (401) is Thai for a Thai browser."""
    url = reverse("grading:save_draft", args=[world["assignment"].pk])
    thai = Client().post(url, {}, headers=THAI)
    assert thai.status_code == 401
    assert thai.json()["error"] == ("เซสชันหมดอายุแล้ว กรุณาเข้าสู่ระบบใหม่ "
                                    "คำตอบของคุณยังเก็บไว้ในเบราว์เซอร์นี้")
    english = Client().post(url, {}, headers=ENGLISH)
    assert english.json()["error"] == ("Your session has expired; log in again. "
                                       "Your answers are kept in this browser.")


def test_a_pure_modules_message_reaches_the_autosave_json_in_the_readers_language(world, monkeypatch):
    """What a cell's problem says (a grading.engine.text message, English underneath) is sent rendered
    in the request's language, not as its English string."""
    monkeypatch.setattr(selectors, "number_problem",
                        lambda text: message("Longer than %(n)s characters.", n=7) if text else "")
    a = world["assignment"]
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    url = reverse("grading:save_draft", args=[a.pk])
    body = {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"}
    thai = client.post(url, body, headers=THAI)
    english = client.post(url, body, headers=ENGLISH)
    assert thai.json()["problems"] == {"r1.forward.s1": "ยาวเกิน 7 ตัวอักษร"}
    assert english.json()["problems"] == {"r1.forward.s1": "Longer than 7 characters."}


def test_the_csrf_endpoint_says_the_session_expired_in_thai(db):
    """The token refresh endpoint answers a lost session with JSON in the reader's language."""
    url = reverse("grading:csrf_token")
    thai = in_thai(Client()).get(url)
    assert thai.status_code == 401
    assert thai.json() == {"ok": False, "error": "เซสชันหมดอายุแล้ว กรุณาเข้าสู่ระบบใหม่"}
    english = Client().get(url, headers=ENGLISH)
    assert english.json() == {"ok": False, "error": "Your session has expired; log in again."}


def test_a_stale_security_token_is_explained_in_thai_to_a_script(world):
    """A script's post with a stale CSRF token gets the CSRF failure's JSON in Thai."""
    a = world["assignment"]
    client = client_for(world["alice"])
    client.get(reverse("grading:assignment", args=[a.pk]))  # the CSRF cookie
    url = reverse("grading:save_draft", args=[a.pk])
    stale = {"csrfmiddlewaretoken": "x" * 64, "r1.forward.s1": "0.46"}
    thai = client.post(url, stale, headers={**THAI, "Accept": "application/json"})
    assert thai.status_code == 403 and thai.json()["csrf"] is True
    assert thai.json()["error"] == (
        "โทเค็นความปลอดภัยของหน้านี้หมดอายุแล้ว ส่วนใหญ่เกิดจากการเข้าสู่ระบบใหม่ (หรือออกจากระบบ) "
        "ในแท็บอื่น การคลิกครั้งนี้ไม่ได้บันทึกหรือส่งคำตอบใด ๆ คำตอบของคุณยังเก็บไว้ในเบราว์เซอร์นี้: "
        "โหลดหน้าใหม่แล้วส่งคำตอบอีกครั้ง")
    english = client.post(url, stale, headers={**ENGLISH, "Accept": "application/json"})
    assert english.json()["error"].startswith("This page's security token has expired, most often "
                                              "because you logged in again (or logged out) in another tab.")


# ------------------------------------------------------------------ refusals at submit


def test_a_late_submit_is_refused_in_thai_and_the_time_stays_as_it_is(world):
    """After the due time a submit is refused in Thai, with the due time in the course's zone;
    in English the same refusal reads as before."""
    a = make_assignment(course=world["course"], slug="late", due_in=timedelta(hours=-1))
    due = f"{timezone.localtime(a.due_at):%Y-%m-%d %H:%M}"
    thai = post_answers(in_thai(client_for(world["alice"])), a, round1_values(), action="submit")
    assert thai.status_code == 409
    assert (f"เลยกำหนดส่ง ({due}) แล้ว ฉบับร่างของคุณยังเก็บไว้ แต่ส่งคำตอบไม่ได้อีก"
            in thai.content.decode())
    english = post_answers(client_for(world["bob"]), a, round1_values(), action="submit")
    assert english.status_code == 409
    assert (f"The due time ({due}) has passed; your draft is kept but can no longer be submitted."
            in english.content.decode())


def test_a_submit_over_the_attempt_limit_is_refused_in_thai(world):
    """With its one attempt used, a second submit is refused in Thai (and in English as before)."""
    a = make_assignment(course=world["course"], slug="once", max_attempts=1)
    alice = in_thai(client_for(world["alice"]))
    submit(alice, a, round1_values())
    refused = post_answers(alice, a, round1_values(), action="submit")
    assert refused.status_code == 409
    assert "คุณใช้ครั้งที่ส่งครบทั้ง 1 ครั้งแล้ว" in refused.content.decode()
    bob = client_for(world["bob"])
    submit(bob, a, round1_values())
    english = post_answers(bob, a, round1_values(), action="submit")
    assert "You have used all 1 attempts." in english.content.decode()


def test_a_draft_saved_message_is_in_thai(world):
    """Save on the page says when the draft was saved, in Thai, with the time as digits."""
    a = world["assignment"]
    alice = in_thai(client_for(world["alice"]))
    response = post_answers(alice, a, {"r1.forward.s1": "0.46"})
    assert response.status_code == 302
    page = alice.get(response["Location"]).content.decode()
    assert "บันทึกฉบับร่างแล้วเมื่อ " in page
    assert "Draft saved at" not in page


# ------------------------------------------------------------------ staff forms


def test_an_override_without_a_reason_is_refused_in_thai(world):
    """A TA reading Thai is told in Thai that an override needs a reason; nothing is written."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    url = reverse("grading:grade_override", args=[sub.pk])
    data = {"kind": "total", "points": "10", "reason": ""}
    ta = in_thai(client_for(world["ta"]))
    assert post(ta, sub.get_absolute_url(), url, data).status_code == 302
    assert "ยังไม่ได้เปลี่ยนคะแนน: ระบุเหตุผลที่เปลี่ยนคะแนน" in ta.get(sub.get_absolute_url()).content.decode()
    english = client_for(world["teacher"])
    post(english, sub.get_absolute_url(), url, data)
    assert ("The grade was not changed: Say why the grade changes."
            in english.get(sub.get_absolute_url()).content.decode())
    assert Grading.objects.filter(submission=sub).count() == 1


def test_roster_import_errors_are_in_thai(world):
    """An empty roster, and a line with a bad username, are explained in Thai to a Thai reader."""
    url = reverse("grading:roster", args=[world["assignment"].pk])
    teacher = in_thai(client_for(world["teacher"]))
    empty = post(teacher, url, url, {"text": "  "})
    assert empty.status_code == 400
    assert "เลือกไฟล์ CSV หรือวางบรรทัดของไฟล์" in empty.content.decode()
    # The import runs as a job (the immediate backend in tests): its page lists each line's outcome.
    started = post(teacher, url, url, {"text": "username\nbad name!\n"})
    assert started.status_code == 302
    html = teacher.get(started["Location"]).content.decode()
    assert "ชื่อผู้ใช้ไม่ถูกต้อง (ใช้ได้เฉพาะตัวอักษร ตัวเลข และ @.+-_ ยาวไม่เกิน 150 ตัว)" in html
    teacher.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Choose a CSV file or paste its lines." in post(teacher, url, url, {"text": ""}).content.decode()


def test_an_extension_for_a_stranger_is_refused_in_thai(world):
    """The extension form's username error is in Thai for a Thai instructor."""
    url = reverse("grading:extensions", args=[world["assignment"].pk])
    teacher = in_thai(client_for(world["teacher"]))
    html = post(teacher, url, url, {"username": "stranger", "extra_attempts": "1", "reason": "r"}).content.decode()
    assert "ไม่มีนักศึกษาในรายวิชานี้ที่ใช้ชื่อผู้ใช้นี้" in html


def test_the_home_pages_status_is_in_thai(world):
    """A student's home page says where each assignment stands in Thai."""
    page = in_thai(client_for(world["alice"])).get(reverse("grading:home")).content.decode()
    assert ">ยังไม่เริ่ม<" in page
    assert ">Not started<" in client_for(world["alice"]).get(reverse("grading:home")).content.decode()
