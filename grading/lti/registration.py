"""LTI Dynamic Registration 1.0 (Moodle 4.x "Register a tool by URL", Canvas "Dynamic
Registration"): what we tell the platform about ourselves. No database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
# The claims we ask for; the README's PDPA table says why each is kept.
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")


def tool_registration(*, base: str, title: str) -> dict[str, Any]:
    """Our client registration (OpenID Connect Dynamic Client Registration with the LTI tool
    configuration), for a site served at ``base`` (``https://grader.example.org``)."""
    base = base.rstrip("/")
    launch = base + "/lti/launch/"
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + "/lti/login/",
        "redirect_uris": [launch],
        "client_name": title,
        "jwks_uri": base + "/lti/jwks/",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "target_link_uri": launch,
            "claims": list(CLAIMS),
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": title,
                 "placements": ["ContentArea", "assignment_selection", "link_selection"]},
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": title},
            ],
        },
    }


def check_openid_configuration(url: str, config: dict[str, Any]) -> str:
    """The platform's issuer, once its configuration is fit to register with; ValueError says
    what is wrong. The configuration must come from under its own issuer (a page elsewhere
    cannot name someone else's LMS)."""
    issuer = str(config.get("issuer") or "")
    if not issuer or not url.startswith(issuer):
        raise ValueError("the configuration's address is not under the issuer it names")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        if not str(config.get(name) or "").startswith(("https://", "http://")):
            raise ValueError(f"the configuration has no {name}")
    algs = config.get("id_token_signing_alg_values_supported") or ["RS256"]
    if "RS256" not in algs:
        raise ValueError("the platform does not sign with RS256")
    return issuer
