"""The session backend (backprop_site/sessions.py) reads what Django's own database backend
reads, from the same rows: the reference here is django.contrib.sessions.backends.db itself."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from backprop_site.sessions import SessionStore
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "backprop_site.sessions"


def test_a_live_session_loads_as_djangos_own_backend_loads_it():
    reference = django_db.SessionStore()
    reference.update({"_auth_user_id": "7", "note": "ผู้สอน", "n": [1, 2.5, None]})
    reference.create()
    mine = SessionStore(reference.session_key)
    assert mine.load() == django_db.SessionStore(reference.session_key).load() == {
        "_auth_user_id": "7", "note": "ผู้สอน", "n": [1, 2.5, None]}
    assert mine.session_key == reference.session_key


def test_expired_unknown_and_hostile_keys_load_nothing_and_lose_their_key():
    live = django_db.SessionStore()
    live["a"] = 1
    live.create()
    Session.objects.filter(session_key=live.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for key in (live.session_key, "nosuchsessionkey0000", "x' OR '1'='1' --abcdef", "a" * 40):
        reference, mine = django_db.SessionStore(key), SessionStore(key)
        assert mine.load() == reference.load() == {}
        assert mine.session_key is None and reference.session_key is None, key


def test_a_session_just_before_and_just_after_its_expiry(clock):
    store = SessionStore()
    store["a"] = 1
    store.create()
    expiry = Session.objects.get(session_key=store.session_key).expire_date
    clock.move_to(expiry - timedelta(seconds=1))
    assert SessionStore(store.session_key).load() == {"a": 1}
    clock.move_to(expiry + timedelta(seconds=1))
    assert SessionStore(store.session_key).load() == {}


def test_a_signed_in_student_stays_signed_in_and_logs_out(client, world):
    student = world["alice"]
    client.force_login(student)
    assert client.get(reverse("grading:home")).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()["_auth_user_id"] == str(student.pk)
    client.post(reverse("logout"))
    assert SessionStore(key).load() == {}
    assert client.get(reverse("grading:home")).status_code == 302
