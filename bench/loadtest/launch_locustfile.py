"""The LTI launch wave of `make loadtest`: LAUNCHES students launch from the LMS at once (a
class clicking the activity in Moodle at the start of a lab). Each runs the OIDC login
initiation, gets a platform id_token signed here with the simulated platform's key
(tests/lti_platform.py, its JWKS served by run.py), and posts it to the launch: no password
hash anywhere. Driven by bench/loadtest/run.py."""
from __future__ import annotations

import json
import os
import sys
import time
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from locust import HttpUser, constant, task
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import record_requests, trust_loopback  # noqa: E402

SCENE = json.loads(open(os.environ["LOADTEST_SCENE"]).read())
LTI = SCENE["lti"]
people = iter(range(10**6))
# Loaded once: parsing an RSA key costs ~0.1 s of CPU, which the platform (not the tool) pays
# once, and which would otherwise be charged to this machine during the wave.
PRIVATE_KEY = load_pem_private_key(LTI["private_key"].encode(), password=None)
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


class Launch(HttpUser):
    wait_time = constant(0)

    @task
    def launch(self) -> None:
        me = next(people)
        with self.client.get("/lti/login/", params={
                "iss": LTI["issuer"], "login_hint": f"student-{me}", "client_id": LTI["client_id"],
                "target_link_uri": self.host + "/lti/launch/"}, name="lti login", allow_redirects=False,
                catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
                raise StopUser()
            query = parse_qs(urlsplit(response.headers["Location"]).query)
        now = int(time.time())
        token = jwt.encode({
            "iss": LTI["issuer"], "aud": LTI["client_id"], "sub": f"student-{me}",
            "nonce": query["nonce"][0], "iat": now, "exp": now + 300, "email": f"s{me}@uni.example",
            CLAIM + "deployment_id": LTI["deployment_id"], CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0", CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "context": {"id": "load-course", "label": "LOAD", "title": "Load test"},
            CLAIM + "resource_link": {"id": "link-1"}, CLAIM + "custom": {"assignment": str(SCENE["assignment"])},
            CLAIM + "launch_presentation": {"locale": "th-TH", "document_target": "window"},
        }, PRIVATE_KEY, algorithm="RS256", headers={"kid": LTI["kid"]})
        trust_loopback(self.client)  # the state cookie just set
        with self.client.post("/lti/launch/", data={"id_token": token, "state": query["state"][0]},
                              name="lti launch", allow_redirects=False, catch_response=True) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"launch answered {response.status_code}")
        raise StopUser()


record_requests()
