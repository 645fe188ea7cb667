"""A class at a deadline, for locust (driven by bench/loadtest/run.py, which sets the scene).

Students, already logged in (their session cookies come from run.py), open the assignment,
autosave every few seconds, and submit once in the last seconds before the due time; a few
staff reload the gradebook. Each student sends what the page's own scripts send: an autosave
carries the cells changed since the last save and the draft version it was based on (every
filled cell on the first save, when there is no draft yet: autosave.js); after a submit the
feedback page is opened and, while it says "Grading…", asked for its status on
grading_poll.js's schedule, then opened again once graded. Every submit a student sends is written to a log with when it was
sent and what came back, so run.py can count attempts sent against attempts stored and spot an
on-time submit refused as late.
"""
from __future__ import annotations

import json
import os
import random
import re
import sys
import time

import gevent
from locust import HttpUser, between, events, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import record_requests, trust_loopback  # noqa: E402

SCENE = json.loads(open(os.environ["LOADTEST_SCENE"]).read())
DUE = SCENE["due"]                      # the due time, epoch seconds
SUBMIT_WINDOW = SCENE["submit_window"]  # students submit within this many seconds before it
SPREAD = SCENE.get("submit_spread")     # the harsh shape: submits within ±SPREAD s of it instead
LOG = open(os.environ["LOADTEST_LOG"], "a", buffering=1)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN = re.compile(r'name="submit_token" value="([^"]+)"')
DRAFT_VERSION = re.compile(r'data-draft-version="(\d+)"')
STATUS_URL = re.compile(r'data-status-url="([^"]+)"')
students = iter(SCENE["students"])
staff = iter(SCENE["staff"])


def cookies(session: str) -> dict[str, str]:
    return {"sessionid": session}


class Student(HttpUser):
    weight = 100
    def wait_time(self) -> float:
        """An autosave every few seconds of typing, but the submit at its own moment; after it,
        the feedback page's status poll at grading_poll.js's pace."""
        if self.poll_url:
            return poll_delay(self.polls)
        pause = random.uniform(3, 6)
        if not self.submitted:
            pause = max(0.0, min(pause, self.submit_at - time.time()))
        return pause

    def on_start(self) -> None:
        me = next(students)
        self.username, self.session = me["username"], me["session"]
        self.url = SCENE["assignment_url"]
        trust_loopback(self.client)
        self.client.cookies.update(cookies(self.session))
        page = self.client.get(self.url, name="assignment page").text
        trust_loopback(self.client)  # the CSRF cookie just set
        self.csrf = CSRF.search(page).group(1)
        self.token = TOKEN.search(page).group(1)
        self.submit_at = (DUE + random.uniform(-SPREAD, SPREAD) if SPREAD
                          else DUE - random.uniform(0.5, SUBMIT_WINDOW))
        self.submitted = False
        self.values = {name: f"0.{random.randint(1000, 9999)}" for name in SCENE["cells"]}
        self.base = int(DRAFT_VERSION.search(page).group(1))
        # What the server holds, as the page's script knows it: nothing before the first save.
        self.unsaved = set(self.values) if self.base == 0 else set()
        self.poll_url, self.feedback_url, self.polls = "", "", 0
        self.saving: gevent.Greenlet | None = None

    @task
    def work(self) -> None:
        trust_loopback(self.client)
        if self.poll_url:
            self.poll()
            return
        if self.submitted:
            return  # reading the feedback
        if time.time() >= self.submit_at:
            self.submit()
            return
        name = random.choice(SCENE["cells"])
        self.values[name] = f"0.{random.randint(1000, 9999)}"
        self.unsaved.add(name)
        # In the background, as autosave.js's fetch: one save in flight at a time (a change made
        # meanwhile goes with the next one), and never holding up the student's submit.
        if self.saving is None or self.saving.dead:
            self.saving = gevent.spawn(self.autosave)

    def autosave(self) -> None:
        sent = set(self.unsaved)
        body = {n: self.values[n] for n in sent}
        if self.base:
            body["base"] = str(self.base)
        with self.client.post(SCENE["draft_url"], data=body, name="autosave", catch_response=True,
                              headers={"X-CSRFToken": self.csrf, "X-Requested-With": "XMLHttpRequest"}) as response:
            if response.status_code == 200:
                self.base = response.json().get("draft_version", self.base)
                self.unsaved -= sent
            elif response.status_code == 503:
                # A server serving both lanes deferred it (grading/middleware.py): as autosave.js,
                # keep the values and send nothing before Retry-After.
                response.success()
                gevent.sleep(float(response.headers.get("Retry-After", "5")))
            elif response.status_code == 409 and self.submitted:
                # Sent before the submit, answered after it: the submit's form (newer values)
                # is what the server kept, and it says so; the page that sent this is gone.
                response.success()

    def poll(self) -> None:
        """grading_poll.js: ask whether the attempt is graded; once it is, open the page again."""
        self.polls += 1
        with self.client.get(self.poll_url, name="grading status", headers={"Accept": "application/json"},
                             catch_response=True) as response:
            if response.status_code == 503:
                # Deferred by a server serving both lanes: grading_poll.js asks again at its slowest pace.
                response.success()
                self.polls = max(self.polls, len(POLL_SCHEDULE) - 1)
        graded = response.status_code == 200 and response.json().get("graded")
        if graded or self.polls >= 60:
            self.poll_url = ""
            if graded:
                self.client.get(self.feedback_url, name="feedback page, graded")

    def submit(self) -> None:
        self.submitted = True
        sent = time.time()
        with self.client.post(self.url, data={**self.values, "csrfmiddlewaretoken": self.csrf,
                                              "action": "submit", "submit_token": self.token},
                              name="submit", allow_redirects=False, catch_response=True) as response:
            outcome = {"user": self.username, "sent": sent, "status": response.status_code,
                       "answered": time.time(), "on_time": sent <= DUE,
                       "late_refused": response.status_code == 409 and "has passed" in response.text}
            LOG.write(json.dumps(outcome) + "\n")
            if response.status_code == 302 or (outcome["late_refused"] and not outcome["on_time"]):
                response.success()  # taken, or rightly refused: sent after the due time
            else:
                response.failure(f"submit answered {response.status_code}")
        if response.status_code == 302:
            self.feedback_url = response.headers["Location"]
            page = self.client.get(self.feedback_url, name="feedback page").text
            found = STATUS_URL.search(page)
            self.poll_url, self.polls = (found.group(1) if found else ""), 0


def poll_delay(polls: int) -> float:
    """grading_poll.js's pace: the first ask 0.8 s after the page, then the delay it sets."""
    return POLL_SCHEDULE[min(polls, len(POLL_SCHEDULE) - 1)]


# grading_poll.js's delays (seconds) before the 1st, 2nd, ... status request, the last repeated.
POLL_SCHEDULE = [0.8, 1.5, 2.5, 4.0, 5.0]


class Staff(HttpUser):
    weight = 1
    fixed_count = SCENE["staff_count"]
    wait_time = between(2, 3)

    def on_start(self) -> None:
        trust_loopback(self.client)
        self.client.cookies.update(cookies(next(staff)["session"]))

    @task
    def gradebook(self) -> None:
        self.client.get(SCENE["gradebook_url"], name="gradebook")


@events.quitting.add_listener
def _close_log(environment, **kwargs) -> None:
    LOG.close()


record_requests()
