"""LTI Dynamic Registration: our registration sent to a platform that opened our one-time link,
and its registration and deployment kept."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _
from lti_tool.models import LtiRegistration

from grading.lti import platform
from grading.services.lti.launch import LaunchRefused

log = logging.getLogger("grading.lti")


# ---------------------------------------------------------------- dynamic registration


def lti_dynamic_register(*, openid_configuration_url: str, registration_token: str,
                         base: str, title: str) -> LtiRegistration:
    """Register with a platform that opened our dynamic registration link: read its OpenID
    configuration, send ours, and keep its registration and deployment (active: our admin made
    the one-time link that started this)."""
    from grading.lti import registration as dr

    config = platform.openid_configuration(openid_configuration_url, registration_token)
    try:
        issuer = dr.check_openid_configuration(openid_configuration_url, config)
    except ValueError as exc:
        raise LaunchRefused("registration_config", _("The LMS's configuration cannot be used: %(why)s.")
                            % {"why": exc}) from exc
    answer = platform.register(str(config["registration_endpoint"]), registration_token,
                               dr.tool_registration(base=base, title=title))
    deployment_id = str((answer.get(dr.TOOL_CONFIGURATION) or {}).get("deployment_id") or "")
    product = (config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {})
    with transaction.atomic():
        registration = LtiRegistration(
            name=str(product.get("product_family_code") or issuer)[:255], issuer=issuer,
            client_id=str(answer["client_id"]), auth_url=str(config["authorization_endpoint"]),
            token_url=str(config["token_endpoint"]), keyset_url=str(config["jwks_uri"]))
        registration.full_clean()
        registration.save()
        if deployment_id:
            registration.deployments.create(deployment_id=deployment_id, is_active=True)
    log.warning("LTI dynamic registration: %s, client %s, deployment %s", issuer,
                registration.client_id, deployment_id or "(none yet)")
    return registration
