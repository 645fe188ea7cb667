"""A receipt a student can keep (issue 21, item 8): downloaded as a text file or e-mailed
through Django's e-mail backend; only the attempt's own student gets it, staff and others a 404."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import round1_values
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(world):
    values = {**round1_values(), "formulas.s1": "w11*x1 + w21*x2 + b1", "r1.forward.s2": "0,92"}
    return submit(client_for(world["alice"]), world["assignment"], values)


def test_the_downloaded_receipt_names_the_attempt_and_its_hash_checks_out(world, attempt):
    """The file names course, assignment, student, attempt and the arrival time in the course's
    zone; its line of answers hashes (SHA-256, UTF-8) to the receipt it prints, and that is the
    receipt stored with the attempt; 25 of the 4.1 network's cells were typed, one Q1 row."""
    response = client_for(world["alice"]).get(reverse("grading:receipt_download", args=[attempt.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="receipt-fra501-hw-4-1-attempt-1.txt"'
    text = response.content.decode()
    assert "Course: FRA501 · Pattern Recognition" in text and "Assignment: Homework 4.1" in text
    assert "Student: alice" in text and "Attempt: 1" in text
    assert re.search(r"Received: \w+ \d+ \w+ \d{4}, \d\d:\d\d:\d\d UTC\+07 \(Asia/Bangkok\)", text)
    assert f"Cells filled: {len(round1_values())} / " in text and "Q1 rows filled: 1 / " in text
    printed = re.search(r"SHA-256 of your answers\): ([0-9a-f]{64})", text).group(1)
    line = text.rstrip("\n").splitlines()[-1]
    assert hashlib.sha256(line.encode("utf-8")).hexdigest() == printed == attempt.receipt
    assert '"s2":"0,92"' in line  # what was typed, as typed


def test_the_receipt_is_emailed_to_the_students_own_address(world, attempt):
    """E-mail it to me: one mail to alice's address with the receipt in its body; the page says
    where it went. Without an address the page says so and nothing is sent."""
    alice = world["alice"]
    client = client_for(alice)
    url = reverse("grading:submission", args=[attempt.pk])
    send = reverse("grading:receipt_email", args=[attempt.pk])
    response = client.post(send, {"csrfmiddlewaretoken": page_token(client, url)}, follow=True)
    assert mail.outbox == []
    assert "no e-mail address" in response.content.decode()

    alice.email = "alice@example.org"
    alice.save(update_fields=["email"])
    response = client.post(send, {"csrfmiddlewaretoken": page_token(client, url)}, follow=True)
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert mail.outbox[0].subject == "Receipt: Homework 4.1, attempt 1"
    assert attempt.receipt in mail.outbox[0].body
    assert "The receipt was sent to alice@example.org." in response.content.decode()


@pytest.mark.parametrize("who", ["bob", "teacher", "stranger"])
def test_no_one_else_gets_a_students_receipt(world, attempt, who):
    """Another student, the course's own instructor and a stranger: 404 for both the download
    and the e-mail, and nothing is sent."""
    client = client_for(world[who])
    assert client.get(reverse("grading:receipt_download", args=[attempt.pk])).status_code == 404
    plain = client_for(world[who])
    plain.handler.enforce_csrf_checks = False
    assert plain.post(reverse("grading:receipt_email", args=[attempt.pk])).status_code == 404
    assert mail.outbox == []


def test_the_feedback_page_offers_the_receipt_only_to_its_student(world, attempt):
    """The student's feedback page links the download; the instructor's view of it does not."""
    url = reverse("grading:submission", args=[attempt.pk])
    download = reverse("grading:receipt_download", args=[attempt.pk])
    assert download in client_for(world["alice"]).get(url).content.decode()
    assert download not in client_for(world["teacher"]).get(url).content.decode()
