"""The student pages in Thai: the browser's language or the header's switch picks it; due times
in the Buddhist era; the scripts' messages come from the JavaScript catalogue.

The expected Thai is the hand-written translation of locale/parts/students.po (and .js.po),
written out here; these tests need the Thai catalogue compiled (locale/th/LC_MESSAGES/*.mo).
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from grading.models import Assignment
from grading.templatetags.grading_tags import dated, zoned
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.webtools import client_for, page_token, submit

UTC = dt_timezone.utc
THAI = {"HTTP_ACCEPT_LANGUAGE": "th-TH,th;q=0.9"}


@pytest.fixture(autouse=True)
def english_afterwards():
    """A request in Thai leaves Thai active in this thread (LocaleMiddleware never deactivates):
    back to the default language after each test, so no other test reads Thai."""
    yield
    translation.deactivate()


@pytest.fixture
def student(db):
    course = make_course()
    user = make_member(course=course, username="somchai")
    return user, make_assignment(course=course, reveal="after_attempt")


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags gone, entities read, spaces collapsed."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def get(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ------------------------------------------------------------------ the browser's language


def test_a_thai_browser_gets_the_assignment_page_in_thai(student):
    """Accept-Language th: <html lang="th">, Thai headings, buttons and the submit confirmation."""
    user, assignment = student
    page = get(client_for(user), reverse("grading:assignment", args=[assignment.pk]), **THAI)
    words = text_of(page)
    assert '<html lang="th">' in page
    for thai in ("โครงข่ายและค่าที่กำหนดให้", "ค่าน้ำหนักและไบแอสเริ่มต้น",
                 "Q1 · สูตรการคำนวณไปข้างหน้าและย้อนกลับ", "รอบ 1 (ขั้นเริ่มต้น)",
                 "รอบ 1 · การคำนวณไปข้างหน้า", "บันทึกฉบับร่าง", "ส่งคำตอบ (ครั้งที่ส่ง 1)",
                 "ยืนยันการส่งคำตอบ (ครั้งที่ส่ง 1)?", "หลังจากนี้จะเหลือครั้งที่ส่งอีก 2 ครั้ง", "แก้ไขต่อ",
                 "ครั้งที่ส่งที่ใช้ไป: 0 จาก 3 ครั้ง", "ยังไม่ได้ส่งคำตอบ", "ออกจากระบบ", "รายวิชาของฉัน"):
        assert thai in words, thai
    assert 'aria-label="รอบ 2, พารามิเตอร์หลังการปรับค่า, w11"' in page
    for english in ("Save draft", "Submit attempt", "Keep editing", "The network and the given values",
                    "Round 1", "Attempts used"):
        assert english not in words, english


def test_without_a_thai_preference_the_page_stays_english(student):
    """No Accept-Language, or English first: <html lang="en"> and the English wording."""
    user, assignment = student
    client = client_for(user)
    url = reverse("grading:assignment", args=[assignment.pk])
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9,th;q=0.5"}):
        page = get(client, url, **headers)
        words = text_of(page)
        assert '<html lang="en">' in page
        assert "Save draft" in words and "Submit attempt 1?" in words and "Keep editing" in words
        assert "บันทึกฉบับร่าง" not in words


def test_the_feedback_page_is_thai_with_the_language_cookie(student):
    """The language cookie alone (no Accept-Language) gives Thai feedback headings and marks."""
    user, assignment = student
    client = client_for(user)
    attempt = submit(client, assignment, round1_values())
    client.cookies["django_language"] = "th"
    page = get(client, reverse("grading:submission", args=[attempt.pk]))
    words = text_of(page)
    assert '<html lang="th">' in page
    for thai in ("ผลการตรวจครั้งที่ส่ง 1", "คะแนนรายข้อ", "Q1 · สูตรการคำนวณไปข้างหน้าและย้อนกลับ",
                 "ความคลาดเคลื่อนที่ยอมรับได้", "ค่าความสูญเสียในแต่ละรอบ", "หลักฐานการส่ง: ครั้งที่ส่ง 1",
                 "รอบ 1 · พารามิเตอร์หลังการปรับค่า", "(กำหนดให้)"):
        assert thai in words, thai
    # Round 1 typed as the key gives it, rounded: every round 1 cell is marked correct, in Thai.
    cell = re.search(r'<tr id="cell-r1\.forward\.s1">.*?</tr>', page, flags=re.S).group(0)
    assert "✓</span> ถูกต้อง" in cell
    assert "Score:" not in words and "Feedback on attempt" not in words


# ------------------------------------------------------------------ the header's switch


def test_the_header_switch_sets_thai_returns_to_the_page_and_switches_back(student):
    """POST /i18n/setlang/ (CSRF-checked) with language=th and next: back to the page, now Thai
    (remembered in the cookie, whatever the browser says); language=en brings English back."""
    user, assignment = student
    client = client_for(user)
    url = reverse("grading:assignment", args=[assignment.pk])
    english = get(client, url)
    assert 'id="language-switch"' in english and 'value="th"' in english
    token = page_token(client, url)
    response = client.post(reverse("set_language"), {"language": "th", "next": url, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == url
    assert client.cookies["django_language"].value == "th"
    thai = get(client, url, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="th">' in thai and "บันทึกฉบับร่าง" in text_of(thai)
    assert re.search(r'value="th" lang="th" class="[^"]*btn-light"[^>]* aria-current="true">', thai)

    response = client.post(reverse("set_language"), {"language": "en", "next": url,
                                                     "csrfmiddlewaretoken": page_token(client, url)})
    assert response.status_code == 302 and response["Location"] == url
    back = get(client, url, **THAI)
    assert '<html lang="en">' in back and "Save draft" in text_of(back)


def test_the_switch_refuses_a_post_without_the_csrf_token(student):
    """The switch is a form post like any other: without the page's token it changes nothing."""
    user, assignment = student
    client = client_for(user)
    url = reverse("grading:assignment", args=[assignment.pk])
    response = client.post(reverse("set_language"), {"language": "th", "next": url})
    assert response.status_code == 403
    assert "django_language" not in client.cookies


# ------------------------------------------------------------------ dates


def test_a_due_time_reads_in_the_buddhist_era_in_thai_and_as_it_is_in_english(student, settings, clock):
    """Due 1 Dec 2026, 23:59 in Bangkok: Thai shows the year 2026 + 543 with Thai day and month
    names and the zone named; English shows 2026 as before. (On the suite's pinned clock, mid-
    November 2026: the assignment opened the day before, so this due time is after it.)"""
    settings.TIME_ZONE = "Asia/Bangkok"
    user, assignment = student
    due = datetime(2026, 12, 1, 16, 59, tzinfo=UTC)
    assert assignment.opens_at < due
    Assignment.objects.filter(pk=assignment.pk).update(due_at=due)
    client = client_for(user)
    url = reverse("grading:assignment", args=[assignment.pk])
    due = re.compile(r'<time datetime="2026-12-01T23:59:00\+07:00">([^<]*)</time>')
    thai = due.search(get(client, url, **THAI)).group(1)
    assert thai == f"อังคาร 1 ธันวาคม {2026 + 543}, 23:59 UTC+07 (Asia/Bangkok)"
    english = due.search(get(client, url)).group(1)
    assert english == "Tuesday 1 December 2026, 23:59 UTC+07 (Asia/Bangkok)"
    home = text_of(get(client, reverse("grading:home"), **THAI))
    assert f"อ. 1 ธ.ค. {2026 + 543}, 23:59 UTC+07 (Asia/Bangkok)" in home


def test_the_era_follows_the_course_zone_and_escapes_stay_literal(settings):
    """31 Dec 2026, 20:00 UTC is already 1 Jan 2027 in Bangkok: Buddhist year 2027 + 543; a
    backslash-escaped Y in a format stays the letter Y; two-digit years follow the same era."""
    settings.TIME_ZONE = "Asia/Bangkok"
    new_year = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    with translation.override("th"):
        assert zoned(new_year) == f"ศ. 1 ม.ค. {2027 + 543}, 03:00 UTC+07 (Asia/Bangkok)"
        assert dated(new_year, r"\Y: Y, y") == f"Y: {2027 + 543}, {str(2027 + 543)[-2:]}"
    with translation.override("en"):
        assert zoned(new_year) == "Fri 1 Jan 2027, 03:00 UTC+07 (Asia/Bangkok)"
        assert dated(new_year, r"\Y: Y, y") == "Y: 2027, 27"


def test_the_feedback_page_dates_its_attempt_in_the_buddhist_era(student, settings):
    """The attempt's received time on the feedback page is the course's local time, in the
    Buddhist era in Thai and the common era in English."""
    settings.TIME_ZONE = "Asia/Bangkok"
    user, assignment = student
    client = client_for(user)
    attempt = submit(client, assignment, round1_values())
    local = attempt.submitted_at.astimezone(ZoneInfo("Asia/Bangkok"))
    clock = f"{local:%H:%M:%S}"
    url = reverse("grading:submission", args=[attempt.pk])
    assert f"{local.year + 543}, {clock}" in text_of(get(client, url, **THAI))
    assert f"{local.year}, {clock}" in text_of(get(client, url))


# ------------------------------------------------------------------ the scripts' catalogue


def catalogue(client, url: str, **headers) -> dict:
    """The messages of Django's JavaScript catalogue script, as the script defines them (an
    empty catalogue defines none)."""
    script = get(client, url, **headers)
    assert "django.gettext" in script
    found = re.search(r"const newcatalog = (\{.*?\});\n", script, flags=re.S)
    return json.loads(found.group(1)) if found else {}


def test_the_script_catalogue_carries_the_thai_of_the_page_scripts(client):
    """/jsi18n/ in Thai holds the autosave, paste and confirmation messages in Thai (plural
    forms as a list); in English it holds none."""
    thai = catalogue(client, reverse("javascript-catalog") + "?l=th", **THAI)
    assert thai["Saved %(time)s"] == "บันทึกแล้ว %(time)s"
    assert thai["%(count)s values pasted into %(first)s … %(last)s."] == "วางค่า %(count)s ค่าลงใน %(first)s … %(last)s แล้ว"
    assert thai["Blank cells: %(blank)s of %(cells)s. Cells that are not numbers: %(invalid)s. "
                "Blank Q1 rows: %(rows)s of %(formulas)s."].startswith("ช่องที่เว้นว่าง: %(blank)s จาก %(cells)s ช่อง")
    assert thai["%(count)s value had no cell to go to and was not pasted: %(values)s."] == [
        "มี %(count)s ค่าที่ไม่มีช่องให้วาง จึงไม่ได้วาง: %(values)s"]
    english = catalogue(client, reverse("javascript-catalog") + "?l=en")
    assert "Saved %(time)s" not in english


def test_each_language_loads_its_own_catalogue_address(student):
    """The page names the catalogue with its language, so a browser that kept one language's
    copy for an hour still fetches the other language's after the switch."""
    user, assignment = student
    client = client_for(user)
    url = reverse("grading:assignment", args=[assignment.pk])
    script = '<script src="%s?l=%s"></script>'
    assert script % (reverse("javascript-catalog"), "th") in get(client, url, **THAI)
    assert script % (reverse("javascript-catalog"), "en") in get(client, url)
