"""The staff pages in Thai and in English: an instructor whose browser asks for Thai, or who chose
Thai with the header's switch (the language cookie), reads the gradebook, analytics, review queue,
regrade, roster, extensions, key, key audit and authoring pages in Thai, with none of the chosen
English sentences left; without either, the same pages are in English as before.

The Thai expected here is the hand-written translation of locale/parts/staff.po, copied by hand
(the tests need that fragment compiled into locale/th/LC_MESSAGES, as the lead's build does).
Every pair below is (English, Thai) of one string of these templates, with enough of its HTML
around it that the shared navigation (another fragment) cannot match it.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest
from django.conf import settings
from django.urls import reverse

from grading import services
from grading.models import Membership, Variant
from tests.authoring_help import homework_post
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.test_keyaudit import HOMEWORK_DISAGREEMENTS, PRINTED_TEXT
from tests.variant_help import template
from tests.test_browser import page  # noqa: F401 - a fixture
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def klass():
    """FRA501 with an instructor, a TA and two students; ann has submitted round 1 of an
    assignment allowing 3 attempts, ben nothing."""
    course = make_course()
    people = {"teacher": make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR),
              "ta": make_member(course=course, username="ta", role=Membership.Role.TA),
              "ann": make_member(course=course, username="ann"),
              "ben": make_member(course=course, username="ben")}
    assignment = make_assignment(course=course, max_attempts=3)
    sub = submit(client_for(people["ann"]), assignment, round1_values())
    return {"course": course, "assignment": assignment, "submission": sub, **people}


def in_thai(client, how: str) -> dict:
    """Ask for Thai as a browser would: by its Accept-Language header, or by the switch's cookie."""
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
        return {}
    return {"HTTP_ACCEPT_LANGUAGE": "th"}


def in_english(client, how: str) -> dict:
    """English: no preference at all, or the switch set back to English over a Thai browser."""
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return {"HTTP_ACCEPT_LANGUAGE": "th"}
    return {}


def assert_language(html: str, pairs: list[tuple[str, str]], thai: bool) -> None:
    """Every string of the page's language is there and none of the other language's is."""
    for english, translated in pairs:
        present, absent = (translated, english) if thai else (english, translated)
        assert present in html, present
        assert absent not in html, absent


# (page, its URL from the fixture, [(English, Thai)])
PAGES = {
    "gradebook": (lambda k: reverse("grading:gradebook", args=[k["assignment"].pk]), [
        ('<h1 class="h4 mb-0">Gradebook</h1>', '<h1 class="h4 mb-0">สมุดคะแนน</h1>'),
        ('aria-label="Download the gradebook"', 'aria-label="ดาวน์โหลดสมุดคะแนน"'),
        ("⬇ Moodle import", "⬇ สำหรับนำเข้า Moodle"),
        ("<th>Student</th>", "<th>นักศึกษา</th>"),
        ("<td>on time</td>", "<td>ตรงเวลา</td>"),
        ('title="Attempt 1 (counted)"', 'title="ครั้งที่ส่ง 1 (นับคะแนน)"'),
        ('<span class="text-body-secondary">none</span>', '<span class="text-body-secondary">ไม่มี</span>'),
        ("Each student's counted attempt is their best submitted one",
         "ครั้งที่ส่งที่นับคะแนนของนักศึกษาแต่ละคนคือครั้งที่ได้คะแนนดีที่สุด"),
    ]),
    "analytics": (lambda k: reverse("grading:analytics", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Class analytics</h1>', '<h1 class="h4">สถิติของทั้งชั้น</h1>'),
        ("<strong>1</strong> student, mean score ", "นักศึกษา <strong>1</strong> คน คะแนนเฉลี่ย "),
        ('<h2 class="h5">Named mistakes</h2>', '<h2 class="h5">ข้อผิดพลาดที่พบบ่อย</h2>'),
        ('<h2 class="h5">Score distribution</h2>', '<h2 class="h5">การกระจายของคะแนน</h2>'),
        ("alt=\"Histogram of the students' scores\"", 'alt="ฮิสโตแกรมคะแนนของนักศึกษา"'),
        ("No pair shares two or more wrong values.", "ไม่มีคู่ใดมีค่าผิดตรงกันตั้งแต่สองค่าขึ้นไป"),
    ]),
    "queue": (lambda k: reverse("grading:queue", args=[k["assignment"].pk]), [
        ('<h1 class="h4">To review</h1>', '<h1 class="h4">รอตรวจทาน</h1>'),
        ("Nothing waits for review.", "ไม่มีรายการรอตรวจทาน"),
    ]),
    "regrade": (lambda k: reverse("grading:regrade", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Regrade the class</h1>', '<h1 class="h4">ตรวจใหม่ทั้งชั้น</h1>'),
        ('placeholder="e.g. decimals changed from 4 to 3"', 'placeholder="เช่น เปลี่ยนตำแหน่งทศนิยมจาก 4 เป็น 3"'),
        (">Dry run (writes nothing)</button>", ">ทดลองตรวจ (ไม่บันทึก)</button>"),
        (">Regrade and apply</button>", ">ตรวจใหม่และบันทึกผล</button>"),
        ('<h2 class="h5">Recent runs</h2>', '<h2 class="h5">การตรวจครั้งล่าสุด</h2>'),
    ]),
    "regrade_attempt": (lambda k: reverse("grading:regrade_attempt", args=[k["submission"].pk]), [
        (">attempt 1 of ann</a>", ">ครั้งที่ส่ง 1 ของ ann</a>"),
        ('<h1 class="h4">Regrade this attempt?</h1>', '<h1 class="h4">ตรวจครั้งที่ส่งนี้ใหม่หรือไม่</h1>'),
        ("Nothing would change: the current grade stands.", "ไม่มีอะไรเปลี่ยน: คะแนนปัจจุบันคงเดิม"),
    ]),
    "roster": (lambda k: reverse("grading:roster", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Roster of FRA501</h1>', '<h1 class="h4">รายชื่อนักศึกษาของ FRA501</h1>'),
        ('for="id_text">Or paste the lines</label>', 'for="id_text">หรือวางบรรทัดข้อมูล</label>'),
        ('<button class="btn btn-primary">Import</button>', '<button class="btn btn-primary">นำเข้า</button>'),
        ('<h2 class="h5">Students (2)</h2>', '<h2 class="h5">นักศึกษา (2)</h2>'),
    ]),
    "extensions": (lambda k: reverse("grading:extensions", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Extensions</h1>', '<h1 class="h4">การขยายเวลา</h1>'),
        (" with 3 attempts.", " จำนวนครั้งที่ส่ง 3 ครั้ง"),
        ('for="id_reason">Why (required)</label>', 'for="id_reason">เหตุผล (จำเป็น)</label>'),
        (">Record the extension</button>", ">บันทึกการขยายเวลา</button>"),
        ('<h2 class="h5">Every extension, newest first</h2>', '<h2 class="h5">การขยายเวลาทั้งหมด ล่าสุดก่อน</h2>'),
    ]),
    "key": (lambda k: reverse("grading:key", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Answer key</h1>', '<h1 class="h4">เฉลย</h1>'),
        ('<h2 class="h5" id="reference-formulas-title">Reference formulas (Q1)</h2>', '<h2 class="h5" id="reference-formulas-title">สูตรอ้างอิง (Q1)</h2>'),
        ('<h2 class="h5">Loss per round</h2>', '<h2 class="h5">ค่าความสูญเสียในแต่ละรอบ</h2>'),
        ('<p>Round 1: <span class="num">', '<p>รอบที่ 1: <span class="num">'),
        ("Students are marked within ", "คำตอบของนักศึกษาถือว่าถูกต้องเมื่ออยู่ภายใน "),
    ]),
    "key_audit": (lambda k: reverse("grading:key_audit", args=[k["assignment"].pk]), [
        ('<h1 class="h4">Audit a printed key</h1>', '<h1 class="h4">ตรวจสอบเฉลยฉบับพิมพ์</h1>'),
        ('text-bg-danger">typo</span>', 'text-bg-danger">พิมพ์ผิด</span>'),
        ('text-bg-warning">carried</span>', 'text-bg-warning">ผิดตามค่าก่อนหน้า</span>'),
        ("a rounding slip of one unit in the last printed place",
         "การปัดเศษคลาดไปหนึ่งหน่วยในหลักสุดท้ายที่พิมพ์"),
        ('<button class="btn btn-primary">Audit</button>', '<button class="btn btn-primary">ตรวจสอบ</button>'),
    ]),
    "authoring_new": (lambda k: reverse("grading:assignment_new", args=[k["course"].code]), [
        ('<legend class="h5">The network</legend>', '<legend class="h5">โครงข่าย</legend>'),
        ('class="small">to unit 2</th>', 'class="small">ไปยังหน่วย 2</th>'),
        (">round 4</th>", ">รอบที่ 4</th>"),
        ('aria-label="Preview"', 'aria-label="ดูตัวอย่าง"'),
        ('id="resize-button">Update the grids and the preview</button>',
         'id="resize-button">ปรับตารางและส่วนดูตัวอย่าง</button>'),
        ('id="save-button">Create the assignment</button>', 'id="save-button">สร้างการบ้าน</button>'),
    ]),
    "authoring_edit": (lambda k: reverse("grading:assignment_edit", args=[k["assignment"].pk]), [
        ('<legend class="h5">Settings</legend>', '<legend class="h5">การตั้งค่า</legend>'),
        ('id="save-button">Save the changes</button>', 'id="save-button">บันทึกการแก้ไข</button>'),
        ("Loss per round: ", "ค่าความสูญเสียในแต่ละรอบ: "),
        ("A usable problem: no degenerate cell.", "โจทย์ใช้ได้: ไม่มีช่องที่ใช้ไม่ได้ (เสื่อม)"),
    ]),
}


@pytest.mark.parametrize("how", ["header", "cookie"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_an_instructor_reads_each_staff_page_in_thai(klass, name, how):
    """Asked for Thai by the browser or by the switch, the page's headings, buttons, labels and
    sentences are the Thai translation, and the English ones are gone."""
    url, pairs = PAGES[name]
    client = client_for(klass["teacher"])
    response = client.get(url(klass), **in_thai(client, how))
    assert response.status_code == 200
    assert_language(response.content.decode(), pairs, thai=True)


@pytest.mark.parametrize("how", ["default", "cookie"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_same_staff_pages_stay_in_english(klass, name, how):
    """With no preference, or with the switch set to English over a Thai browser, each page
    reads in English as before and carries none of the Thai."""
    url, pairs = PAGES[name]
    client = client_for(klass["teacher"])
    response = client.get(url(klass), **in_english(client, how))
    assert response.status_code == 200
    assert_language(response.content.decode(), pairs, thai=False)


def test_a_dry_run_reports_its_progress_and_result_in_thai(klass):
    """A class dry run started from the Thai page: its page says when and by whom, how many of
    the one submitted attempt are done, and that nothing would change (nothing was changed)."""
    client = client_for(klass["teacher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    url = reverse("grading:regrade", args=[klass["assignment"].pk])
    response = client.post(url, {"csrfmiddlewaretoken": page_token(client, url), "reason": "ทดสอบ", "apply": ""})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert '<h1 class="h4">ทดลองตรวจเมื่อ ' in html and "สั่งโดย teacher: “ทดสอบ”" in html
    assert '<span id="job-done">1</span> จาก <span id="job-total">1</span> ครั้งที่ส่ง เปลี่ยน 0 ครั้ง' in html
    assert "ไม่มีอะไรเปลี่ยน: ครั้งที่ส่งทั้ง 1 ครั้งคงคะแนนเดิม" in html
    for english in ("Dry run of", "Requested by", "attempts keep their grades", "Apply this regrade"):
        assert english not in html


def test_a_roster_import_names_each_lines_outcome_in_thai(klass):
    """One new account and one refused username: the counts, and each line's outcome, in Thai."""
    client = client_for(klass["teacher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    url = reverse("grading:roster", args=[klass["assignment"].pk])
    text = "somsak,somsak@example.org,Somsak Jaidee\nbad name!,x@example.org,Bad\n"
    response = client.post(url, {"csrfmiddlewaretoken": page_token(client, url), "text": text})
    html = client.get(response["Location"]).content.decode()  # the import's own page
    assert "ชื่อผู้ใช้ไม่ถูกต้อง" in html and "not a valid username" not in html  # the job wrote it in Thai
    assert '<h2 class="h5">นำเข้าแล้ว: 2 บรรทัด</h2>' in html
    assert "สร้างใหม่ 1 · ลงทะเบียน 0 · ลงทะเบียนอยู่แล้ว 0 · ข้าม 1" in html
    assert "<td>somsak</td><td>สร้างใหม่</td>" in html and "<td>bad name!</td><td>ข้าม</td>" in html
    for english in ("Imported:", "<td>created</td>", "<td>skipped</td>", "already enrolled"):
        assert english not in html


def test_the_key_audit_result_is_in_thai(klass):
    """The homework's printed key audited in Thai: the count of disagreements and of printed
    numbers, and one Thai badge per disagreement of each kind (plus the legend's one)."""
    client = client_for(klass["ta"])
    url = reverse("grading:key_audit", args=[klass["assignment"].pk])
    html = client.post(url, {"csrfmiddlewaretoken": page_token(client, url), "text": PRINTED_TEXT,
                             "format": "auto"}, HTTP_ACCEPT_LANGUAGE="th").content.decode()
    kinds = Counter(HOMEWORK_DISAGREEMENTS.values())
    assert f"ไม่ตรงกัน {len(HOMEWORK_DISAGREEMENTS)} ค่า" in html and "จากตัวเลขที่พิมพ์ 140 ค่า" in html
    for kind, thai in (("typo", "พิมพ์ผิด"), ("carried", "ผิดตามค่าก่อนหน้า"), ("last_digit", "หลักสุดท้าย")):
        assert html.count(f'">{thai}</span>') == kinds[kind] + 1, kind
        assert f'">{kind}</span>' not in html
    assert "disagreements" not in html and "printed numbers" not in html
    assert "<th>รอบ</th><th>คอลัมน์</th><th>ช่อง</th>" in html


def test_the_authoring_preview_answers_in_the_readers_language(klass):
    """The live preview's HTML (the endpoint the page's script posts to) follows the language:
    Thai for a Thai reader, English otherwise."""
    client = client_for(klass["teacher"])
    page = reverse("grading:assignment_new", args=[klass["course"].code])
    url = reverse("grading:authoring_preview", args=[klass["course"].code])
    token = page_token(client, page)
    thai = client.post(url, {"csrfmiddlewaretoken": token, **homework_post()}, HTTP_ACCEPT_LANGUAGE="th").json()
    english = client.post(url, {"csrfmiddlewaretoken": token, **homework_post()}).json()
    assert "ค่าความสูญเสียในแต่ละรอบ:" in thai["preview"] and "Loss per round:" not in thai["preview"]
    assert "โจทย์ใช้ได้: ไม่มีช่องที่ใช้ไม่ได้ (เสื่อม)" in thai["preview"]
    assert "Loss per round:" in english["preview"] and "ค่าความสูญเสีย" not in english["preview"]


def test_the_per_student_key_pages_are_in_thai(klass):
    """With per-student numbers: the class key's counts and template note, and one student's key."""
    a = make_assignment(course=klass["course"], spec=template(), slug="ranged")
    client_for(klass["ann"]).get(reverse("grading:assignment", args=[a.pk]))
    variant = Variant.objects.get(assignment=a, student=klass["ann"])
    client = client_for(klass["teacher"])
    html = client.get(reverse("grading:key", args=[a.pk]), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert "มีนักศึกษา 1 คนที่สุ่มชุดตัวเลขแล้ว" in html and "อัตราการเรียนรู้: <code>" in html
    assert "drawn their numbers" not in html and "Learning rate:" not in html
    english = client.get(reverse("grading:key", args=[a.pk])).content.decode()
    assert "1 student has drawn their numbers so far." in english and "Learning rate: <code>" in english
    own = client.get(reverse("grading:variant_key", args=[a.pk, variant.pk]),
                     HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert "ชุดตัวเลขและเฉลยของ ann (ann)" in own and ">ตรวจสอบเฉลยฉบับพิมพ์กับชุดตัวเลขนี้</a>" in own
    assert "The numbers and key of" not in own
    book = client.get(reverse("grading:gradebook", args=[a.pk]), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert ">เฉลยเฉพาะคน</a>" in book and ">ยังไม่ได้สุ่ม</span>" in book and "their key" not in book


def test_the_gradebook_flags_what_to_review_in_thai(klass):
    """A student's open request makes the flag above the gradebook, in Thai with its link."""
    services.review_request_create(submission=klass["submission"], student=klass["ann"],
                                   message="please look at s1", target="")
    client = client_for(klass["teacher"])
    html = client.get(reverse("grading:gradebook", args=[klass["assignment"].pk]),
                      HTTP_ACCEPT_LANGUAGE="th").content.decode()
    queue = reverse("grading:queue", args=[klass["assignment"].pk])
    assert f'นักศึกษา 1 คนมีรายการที่ต้องตรวจทาน (แถวของ Q1 ที่ยังตัดสินไม่ได้หรือคำขอให้ตรวจทาน) <a href="{queue}">เปิดรายการรอตรวจทาน</a>' in html
    assert "with something to review" not in html
    queue_html = client.get(queue, HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert '<span class="badge text-bg-info">คำขอ</span> เกี่ยวกับทั้งครั้งที่ส่งนี้: “please look at s1”' in queue_html


def test_the_authoring_scripts_words_are_in_the_thai_catalogue(client):
    """The JavaScript catalogue served to a Thai reader carries the preview's state words."""
    body = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    for english, thai in (("updating…", "กำลังปรับปรุง…"), ("up to date", "เป็นปัจจุบัน"),
                          ("see the marked fields", "ดูช่องที่มีเครื่องหมาย"),
                          ("not updated (%(status)s)", "ยังไม่ได้ปรับปรุง (%(status)s)")):
        assert f"{json.dumps(english)}: {json.dumps(thai)}" in body, english


@pytest.mark.browser
def test_the_authoring_previews_state_line_speaks_thai_in_the_browser(page, live_server):
    """In a Thai browser session the preview's state line (set by authoring.js from the
    catalogue) says in Thai that a field needs changing, then that the preview is up to date."""
    from playwright.sync_api import expect

    from tests.test_browser import field, log_in

    course = make_course()
    make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "th", "url": live_server.url}])
    log_in(page, live_server, "teacher")
    page.goto(live_server.url + reverse("grading:assignment_edit", args=[assignment.pk]))
    state = page.locator("#preview-state")
    page.fill(field("lr"), "abc")
    expect(page.locator(field("lr"))).to_have_attribute("aria-invalid", "true")
    expect(state).to_have_text("ดูช่องที่มีเครื่องหมาย")
    page.fill(field("lr"), "1")
    expect(page.locator(field("lr"))).not_to_have_attribute("aria-invalid", "true")
    expect(state).to_have_text("เป็นปัจจุบัน")


def test_a_regrades_mark_changes_and_dates_read_in_thai() -> None:
    """The mark changes a regrade lists are in the reader's words (not the stored status codes),
    and a staff page's date gives the Buddhist-era year in Thai."""
    from datetime import datetime, timezone as tz

    from django.template import Context, Template
    from django.template.loader import render_to_string
    from django.utils import translation

    line = {"student": "alice", "submission": 1, "attempt": 1, "old": 10.0, "new": 9.0, "questions": [],
            "cells": [{"id": "r1.forward.s1", "old": "correct", "new": "incorrect"}], "formulas": []}
    when = datetime(2026, 12, 1, 5, 0, tzinfo=tz.utc)
    with translation.override("th"):
        html = render_to_string("grading/includes/regrade_lines.html", {"lines": [line]})
        date = Template('{% load grading_tags %}{{ when|dated:"j M Y H:i" }}').render(Context({"when": when}))
    assert "ถูกต้อง → ผิด" in html and "correct →" not in html
    assert str(2026 + 543) in date and "2026" not in date
    with translation.override("en"):
        html = render_to_string("grading/includes/regrade_lines.html", {"lines": [line]})
    assert "correct → incorrect" in html
