"""The login wave of `make loadtest`: every user logs in once, at the same moment (a class
opening the page at the start of an exam). Driven by bench/loadtest/run.py."""
from __future__ import annotations

import json
import os
import re
import sys
import time

from locust import HttpUser, constant, events, task
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import trust_loopback  # noqa: E402

SCENE = json.loads(open(os.environ["LOADTEST_SCENE"]).read())
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
people = iter(SCENE["logins"])
REQUESTS = open(os.environ["LOADTEST_REQUESTS"], "a", buffering=1)


class Login(HttpUser):
    wait_time = constant(0)

    @task
    def log_in(self) -> None:
        me = next(people)
        page = self.client.get("/accounts/login/", name="login page").text
        trust_loopback(self.client)  # the CSRF cookie just set
        with self.client.post("/accounts/login/", data={
                "csrfmiddlewaretoken": CSRF.search(page).group(1), "username": me["username"],
                "password": SCENE["password"]}, name="log in", allow_redirects=False,
                catch_response=True) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"log in answered {response.status_code}")
        raise StopUser()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, start_time=None, **kw) -> None:
    REQUESTS.write(json.dumps({"name": name, "ms": response_time, "error": exception is not None,
                               "start": start_time or time.time()}) + "\n")
