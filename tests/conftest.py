"""Test settings on top of tests/testenv.py: fast password hashing, plain static files."""
import pytest


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production uses whitenoise's manifest (built by collectstatic); tests serve files as they are.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _fresh_formula_verdicts():
    """Each test checks its formulas itself: no verdict cached by an earlier test."""
    from grading.formulas import VERDICTS

    VERDICTS.clear()
    yield
    VERDICTS.clear()


@pytest.fixture
def world(db):
    """Two courses: FRA501 (students alice, bob; a TA; an instructor) and OTHER101 (its own)."""
    from grading.models import Membership
    from tests.factories import make_assignment, make_course, make_member

    course = make_course()
    other = make_course(code="OTHER101", title="Another course")
    people = {
        "alice": make_member(course=course, username="alice"),
        "bob": make_member(course=course, username="bob"),
        "ta": make_member(course=course, username="ta", role=Membership.Role.TA),
        "teacher": make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR),
        "stranger_teacher": make_member(course=other, username="stranger_teacher",
                                        role=Membership.Role.INSTRUCTOR),
        "stranger": make_member(course=other, username="stranger"),
    }
    return {"course": course, "assignment": make_assignment(course=course),
            "other_assignment": make_assignment(course=other, slug="other-hw"), **people}
