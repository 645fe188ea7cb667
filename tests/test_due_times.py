"""Due and opening times are shown in the course's time zone, with the zone named."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.urls import reverse

from grading.models import Assignment
from grading.templatetags.grading_tags import zoned
from tests.webtools import client_for

UTC = dt_timezone.utc


@pytest.mark.parametrize("zone, instant, expected", [
    # Bangkok is UTC+7 all year; tzdata has no letters for it.
    ("Asia/Bangkok", datetime(2026, 12, 1, 16, 59, tzinfo=UTC), "Tue 1 Dec 2026, 23:59 UTC+07 (Asia/Bangkok)"),
    # Berlin: UTC+1 in winter (CET), UTC+2 in summer (CEST).
    ("Europe/Berlin", datetime(2026, 12, 1, 22, 59, tzinfo=UTC), "Tue 1 Dec 2026, 23:59 CET (Europe/Berlin)"),
    ("Europe/Berlin", datetime(2026, 7, 1, 21, 59, tzinfo=UTC), "Wed 1 Jul 2026, 23:59 CEST (Europe/Berlin)"),
    ("UTC", datetime(2026, 12, 1, 23, 59, tzinfo=UTC), "Tue 1 Dec 2026, 23:59 UTC"),
])
def test_zoned_prints_the_course_zone_and_its_name(settings, zone, instant, expected):
    """The time is converted to the site's zone (whatever zone the value carries) and named."""
    settings.TIME_ZONE = zone
    assert zoned(instant) == expected
    assert zoned(instant.astimezone(dt_timezone(timedelta(hours=-5)))) == expected
    assert zoned(None) == ""


@pytest.mark.django_db
def test_home_and_assignment_pages_show_the_due_time_with_its_zone(world, settings, clock):
    settings.TIME_ZONE = "Asia/Bangkok"
    a = world["assignment"]
    due = datetime(2030, 12, 1, 16, 59, tzinfo=UTC)  # 23:59 in Bangkok
    Assignment.objects.filter(pk=a.pk).update(due_at=due)
    client = client_for(world["alice"])
    home = client.get(reverse("grading:home")).content.decode()
    assert "Sun 1 Dec 2030, 23:59 UTC+07 (Asia/Bangkok)" in home
    page = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert "Sunday 1 December 2030, 23:59 UTC+07 (Asia/Bangkok)" in page


@pytest.mark.django_db
def test_a_page_not_open_yet_shows_the_opening_time_with_its_zone(world, settings, clock):
    settings.TIME_ZONE = "Asia/Bangkok"
    a = world["assignment"]
    opens, due = datetime(2030, 1, 6, 1, 0, tzinfo=UTC), datetime(2030, 2, 1, 0, 0, tzinfo=UTC)
    Assignment.objects.filter(pk=a.pk).update(opens_at=opens, due_at=due)  # after the pinned clock
    page = client_for(world["alice"]).get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert "This assignment opens at" in page
    assert "Sunday 6 January 2030, 08:00 UTC+07 (Asia/Bangkok)" in page
