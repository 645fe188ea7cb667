"""Arrival judged where it happens: the proxy's X-Request-Start stamp, read only from a trusted
proxy, in nginx's ``t=<seconds.millis>`` format, never absurd; else the server's own stamp, and
the staff pages say which of the two a deployment uses."""
import time
from datetime import timedelta

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from grading.middleware import MAX_SKEW_SECONDS, arrival, parse_request_start
from grading.models import Submission
from tests.factories import make_assignment, round1_values
from tests.webtools import client_for

pytestmark = pytest.mark.django_db

NOW = 1_800_000_000.0


def stamped(header: str, remote: str = "127.0.0.1") -> float:
    request = RequestFactory().get("/", HTTP_X_REQUEST_START=header, REMOTE_ADDR=remote)
    return arrival(request, now=NOW).timestamp()


@override_settings(TRUST_X_REQUEST_START=True, TRUSTED_PROXIES=["127.0.0.1/32", "10.0.0.0/24"])
def test_the_nginx_stamp_from_a_trusted_proxy_is_the_arrival():
    assert stamped(f"t={NOW - 2.5:.3f}") == pytest.approx(NOW - 2.5, abs=1e-3)
    assert stamped(f"t={NOW - 0.25:.3f}", remote="10.0.0.7") == pytest.approx(NOW - 0.25, abs=1e-3)
    # milliseconds and microseconds, as other proxies write it
    assert stamped(f"t={(NOW - 1) * 1000:.0f}") == pytest.approx(NOW - 1, abs=1e-3)
    assert stamped(f"t={(NOW - 1) * 1_000_000:.0f}") == pytest.approx(NOW - 1, abs=1e-3)


@override_settings(TRUST_X_REQUEST_START=True, TRUSTED_PROXIES=["10.0.0.1/32"])
def test_a_stamp_from_an_address_that_is_not_a_trusted_proxy_is_ignored():
    """A student talking to the app server directly cannot date their own submit."""
    assert stamped(f"t={NOW - 60:.3f}", remote="203.0.113.9") == NOW
    assert stamped(f"t={NOW - 60:.3f}", remote="127.0.0.1") == NOW
    assert stamped(f"t={NOW - 60:.3f}", remote="not an address") == NOW


@override_settings(TRUST_X_REQUEST_START=False, TRUSTED_PROXIES=["127.0.0.1/32"])
def test_without_the_setting_the_header_is_ignored():
    assert stamped(f"t={NOW - 60:.3f}") == NOW


@override_settings(TRUST_X_REQUEST_START=True, TRUSTED_PROXIES=["127.0.0.1/32"])
def test_absurd_stamps_fall_back_to_the_servers_own():
    for header in (f"t={NOW + 60:.3f}",            # from the future
                   f"t={NOW - 3600:.3f}",          # an hour old: a wrong clock, not a queue
                   "t=0", "t=-5", "t=nan", "t=inf", "t=junk", "t=", "", "1e400"):
        assert stamped(header) == NOW, header


@override_settings(TRUST_X_REQUEST_START=True, TRUSTED_PROXIES=["127.0.0.1/32"])
def test_a_proxy_clock_slightly_ahead_counts_as_now():
    """Within the allowed skew a future stamp is taken as the server's now, never later."""
    assert stamped(f"t={NOW + MAX_SKEW_SECONDS / 2:.3f}") == NOW
    assert stamped(f"t={NOW + MAX_SKEW_SECONDS + 1:.3f}") == NOW


def test_the_header_formats():
    assert parse_request_start("t=1800000000.123") == pytest.approx(1800000000.123)
    assert parse_request_start("T=1800000000123") == pytest.approx(1800000000.123)
    assert parse_request_start("1800000000.5") == pytest.approx(1800000000.5)
    assert parse_request_start("t=abc") is None


def submit(client, assignment, **extra):
    url = reverse("grading:assignment", args=[assignment.pk])
    page = client.get(url).content.decode()
    csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    token = page.split('name="submit_token" value="')[1].split('"')[0]
    return client.post(url, {"csrfmiddlewaretoken": csrf, "action": "submit", "submit_token": token,
                             **round1_values()}, **extra)


@override_settings(TRUST_X_REQUEST_START=True, TRUSTED_PROXIES=["10.0.0.1/32"])
def test_with_no_grace_a_submit_the_proxy_stamped_before_the_due_time_is_on_time(world):
    """Grace 0, due 1 s ago: the proxy's stamp 3 s ago is on time; the same header from an
    address that is not the proxy is not believed and the submit is refused as late."""
    a = make_assignment(course=world["course"], slug="nograce", due_in=timedelta(seconds=-1))
    a.grace_seconds = 0
    a.save(update_fields=["grace_seconds"])
    sent = time.time() - 3
    header = f"t={sent:.3f}"
    taken = submit(client_for(world["alice"]), a, HTTP_X_REQUEST_START=header, REMOTE_ADDR="10.0.0.1")
    assert taken.status_code == 302
    sub = Submission.objects.get(assignment=a, state="submitted")
    assert not sub.late and abs(sub.submitted_at.timestamp() - sent) < 0.01
    refused = submit(client_for(world["bob"]), a, HTTP_X_REQUEST_START=header, REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 409 and "has passed" in refused.content.decode()
    assert Submission.objects.filter(assignment=a, state="submitted").count() == 1


def test_the_staff_pages_say_what_the_arrival_stamp_measures(world):
    a, ta = world["assignment"], client_for(world["ta"])
    gradebook = reverse("grading:gradebook", args=[a.pk])
    with override_settings(TRUST_X_REQUEST_START=False):
        page = ta.get(gradebook).content.decode()
    assert 'id="arrival-note"' in page and "stamped by the application server" in page
    assert "no proxy stamps them" in page
    with override_settings(TRUST_X_REQUEST_START=True):
        page = ta.get(gradebook).content.decode()
    assert "stamped by the proxy in front of the server" in page
    edit = client_for(world["teacher"]).get(reverse("grading:assignment_edit", args=[a.pk]))
    assert 'id="arrival-note"' in edit.content.decode()


def test_trusted_proxies_come_from_the_environment_and_a_wrong_one_stops_the_server():
    """DJANGO_TRUSTED_PROXIES: addresses or networks (default the loopback); a typo is an error
    when the settings load, not a 500 on every request."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','backprop_site.settings');"
            "from django.conf import settings; print(settings.TRUSTED_PROXIES)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    root = Path(__file__).resolve().parent.parent

    def run(**env):
        return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                              timeout=120, env={**base, "DJANGO_DEBUG": "1", **env})

    assert run().stdout.strip() == "['127.0.0.1/32', '::1/128']"
    assert run(DJANGO_TRUSTED_PROXIES="10.0.0.1, 192.168.0.0/24").stdout.strip() == \
        "['10.0.0.1/32', '192.168.0.0/24']"
    wrong = run(DJANGO_TRUSTED_PROXIES="10.0.0.1,nginx.local")
    assert wrong.returncode != 0 and "nginx.local" in wrong.stderr
