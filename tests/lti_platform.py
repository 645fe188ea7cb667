"""A small LTI 1.3 platform, run by the tests: it signs id_tokens with its own RSA key (as
pylti1p3's tests do) and serves, over real HTTP on 127.0.0.1, its JWKS, an OAuth2 token endpoint
that checks the tool's signed client assertion against the tool's public key, AGS line items and
scores, and an NRPS roster. What it received is kept for the test to read."""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "backprop-tool"
DEPLOYMENT_ID = "deployment-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER = [MEMBERSHIP + "Learner"]
INSTRUCTOR = [MEMBERSHIP + "Instructor"]


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Platform:
    """The platform's state; ``url`` is its base once started."""

    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    kid: str = field(default_factory=lambda: f"platform-key-{uuid.uuid4().hex[:8]}")
    url: str = ""
    tool_public_pem: str = ""  # the tool's key the token endpoint checks assertions with
    scores: list[dict[str, Any]] = field(default_factory=list)
    score_urls: list[str] = field(default_factory=list)
    lineitems_created: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    fail_scores: int = 0  # the next n score posts answer 503
    # For a browser: the launch /start begins (the tool's login URL, who, what) and /auth signs.
    tool_url: str = ""
    registrations: list[dict[str, Any]] = field(default_factory=list)  # dynamic registration bodies
    config_issuer: str = ""  # the issuer its OpenID configuration names ("" = its own)
    pending: dict[str, Any] = field(default_factory=dict)
    token_requests: int = 0

    @property
    def issuer(self) -> str:
        return self.url

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def sign(self, claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None,
             kid: str | None = None) -> str:
        return jwt.encode(claims, _pem(key or self.key), algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def claims(self, *, nonce: str, sub: str, roles: list[str], context_id: str = "course-7",
               custom: dict[str, str] | None = None, message_type: str = "LtiResourceLinkRequest",
               locale: str = "en-US", lineitem: str | None = None, now: float | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": sub, "nonce": nonce,
            "iat": int(now), "exp": int(now) + 300,
            "given_name": sub.title(), "family_name": "Tester", "email": f"{sub}@uni.example",
            LTI + "deployment_id": DEPLOYMENT_ID, LTI + "message_type": message_type,
            LTI + "version": "1.3.0", LTI + "roles": roles,
            LTI + "context": {"id": context_id, "label": "FRA501", "title": "Pattern Recognition",
                              "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "launch_presentation": {"locale": locale, "document_target": "window",
                                          "return_url": self.url + "/course/7"},
            LTI + "target_link_uri": "http://testserver/lti/launch/",
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": self.url + "/lineitems",
                **({"lineitem": lineitem} if lineitem else {})},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.url + "/memberships", "service_versions": ["2.0"]},
        }
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": "link-1", "title": "Homework 4.1"}
        if custom:
            body[LTI + "custom"] = custom
        if message_type == "LtiDeepLinkingRequest":
            body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.url + "/deep-link-return",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe", "window"]}
        body.update(extra or {})
        return body


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorised(self) -> bool:
            return self.headers.get("Authorization", "").startswith("Bearer token-")

        def _page(self, html: str) -> None:
            data = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _auto_post(self, action: str, method: str, fields: dict[str, str]) -> None:
            """The page an LMS sends the browser: a form that submits itself."""
            inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in fields.items())
            self._page(f'<html><body><form id="f" method="{method}" action="{html.escape(action)}">'
                       f'{inputs}<button>Go</button></form>'
                       '<script>document.getElementById("f").submit()</script></body></html>')

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if path == "/.well-known/openid-configuration":
                if self.headers.get("Authorization") != "Bearer reg-token":
                    return self._send(401, {"error": "registration token required"})
                return self._send(200, {
                    "issuer": platform.config_issuer or platform.issuer,
                    "authorization_endpoint": platform.url + "/auth", "token_endpoint": platform.url + "/token",
                    "jwks_uri": platform.url + "/jwks", "registration_endpoint": platform.url + "/register",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": "moodle", "version": "4.5"}})
            if path == "/start":
                return self._auto_post(platform.tool_url + "/lti/login/", "get", {
                    "iss": platform.issuer, "login_hint": platform.pending["sub"],
                    "target_link_uri": platform.tool_url + "/lti/launch/", "client_id": CLIENT_ID})
            if path == "/auth":
                claims = platform.claims(nonce=query["nonce"], **platform.pending)
                claims[LTI + "target_link_uri"] = platform.tool_url + "/lti/launch/"
                return self._auto_post(query["redirect_uri"], "post",
                                       {"id_token": platform.sign(claims), "state": query["state"]})
            if path == "/jwks":
                return self._send(200, platform.jwks())
            if path == "/memberships" and self._authorised():
                return self._send(200, {"id": platform.url + "/memberships",
                                        "context": {"id": "course-7"}, "members": platform.members},
                                  "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
            return self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            body = self._body()
            if path == "/token":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                try:  # the tool's assertion must verify with the tool's published key
                    claims = jwt.decode(form["client_assertion"], platform.tool_public_pem,
                                        algorithms=["RS256"], audience=platform.url + "/token")
                except (KeyError, jwt.InvalidTokenError) as exc:
                    return self._send(401, {"error": "invalid_client", "detail": str(exc)})
                if claims.get("sub") != CLIENT_ID:
                    return self._send(401, {"error": "invalid_client"})
                platform.token_requests += 1
                return self._send(200, {"access_token": "token-" + uuid.uuid4().hex,
                                        "token_type": "Bearer", "expires_in": 3600})
            if path == "/register":
                if self.headers.get("Authorization") != "Bearer reg-token":
                    return self._send(401, {"error": "registration token required"})
                registration = json.loads(body)
                platform.registrations.append(registration)
                return self._send(200, {**registration, "client_id": "dyn-client-1",
                                        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                                            **registration["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                                            "deployment_id": "dyn-deployment-1"}})
            if not self._authorised():
                return self._send(401, {"error": "no token"})
            if path == "/lineitems":
                item = json.loads(body)
                item["id"] = f"{platform.url}/lineitems/{len(platform.lineitems_created) + 1}/lineitem"
                platform.lineitems_created.append(item)
                return self._send(201, item, "application/vnd.ims.lis.v2.lineitem+json")
            if path.endswith("/scores"):
                if platform.fail_scores > 0:
                    platform.fail_scores -= 1
                    return self._send(503, {"error": "busy"})
                platform.score_urls.append(path)
                platform.scores.append(json.loads(body))
                return self._send(200, {})
            return self._send(404, {"error": "not found"})

    return Handler


class Running:
    """The platform's server in a thread, for a ``with`` block."""

    def __init__(self, platform: Platform, host: str = "127.0.0.1") -> None:
        self.platform = platform
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
        platform.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Platform:
        self.thread.start()
        return self.platform

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
