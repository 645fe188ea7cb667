"""Test settings on top of tests/testenv.py: fast password hashing, plain static files, a
database file (not memory) for SQLite, the random order's seed in the summary, and
Hypothesis profiles."""
import os
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import settings as hypothesis_settings

# In CI each property test draws the examples derived from its own code, so a red run is
# reproducible rather than a new random draw; locally every run explores new examples (a
# failure is kept in .hypothesis/ and replayed first). HYPOTHESIS_PROFILE chooses explicitly.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_terminal_summary(terminalreporter, config):
    """Name the random order's seed even with -q, so a failure that depends on order can be rerun."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"Tests ran in random order: rerun this order with --randomly-seed={seed}")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests run on a file in WAL mode, as production does: threads in a test then open
    their own connections and contend for the write lock as concurrent requests would (an
    in-memory database is shared through one cache whose locks do not wait)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


# The instant every test starts at (Monday 16 Nov 2026, 10:00 in Bangkok, mid-term). The clock
# ticks on from it, so durations are real; what a test builds from "now" (a factory's opening and
# due times) and what the app reads as "now" agree whatever the machine's date is: the suite
# passes in 2031 as it does today (tests/test_clock.py checks it under faketime).
PINNED_NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_clock(request):
    """Every test runs on the pinned clock, except the browser tests: Chromium judges cookie
    expiry by the machine's own clock, so their server keeps the real one (their dates are all
    built from "now", never written as a date)."""
    if request.node.get_closest_marker("browser"):
        yield None
        return
    with time_machine.travel(PINNED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def clock(_pinned_clock):
    """The pinned clock, to move: ``clock.move_to(...)`` / ``clock.shift(timedelta(...))``."""
    if _pinned_clock is None:
        pytest.fail("the browser tests run on the real clock: they cannot move it")
    return _pinned_clock


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production uses whitenoise's manifest (built by collectstatic); tests serve files as they are.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _fresh_formula_verdicts():
    """Each test checks its formulas, reads its reports and renders its pages itself: nothing cached by
    an earlier test (a rolled-back database gives its ids again)."""
    from grading.formulas import VERDICTS
    from grading.selectors.copying import forget_class_numbers
    from grading.selectors.grades import forget_reports
    from grading.views import fragments

    VERDICTS.clear()
    forget_reports()
    forget_class_numbers()
    fragments.forget()
    yield
    VERDICTS.clear()
    forget_reports()
    forget_class_numbers()
    fragments.forget()


@pytest.fixture(autouse=True)
def _english_to_start_with():
    """Each test starts in the site's language: a Thai request (LocaleMiddleware activates the
    language in the thread) must not make a later test's messages Thai."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


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
