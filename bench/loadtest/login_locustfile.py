"""The login wave of `make loadtest`: every user logs in once, at the same moment (a class
opening the page at the start of an exam). Driven by bench/loadtest/run.py."""
from __future__ import annotations

import json
import os
import re
import sys

from locust import HttpUser, constant, task
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import record_requests, trust_loopback  # noqa: E402

SCENE = json.loads(open(os.environ["LOADTEST_SCENE"]).read())
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
people = iter(SCENE["logins"])


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


record_requests()
