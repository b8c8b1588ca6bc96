"""Sign-in with the organisation's identity provider (OpenID Connect, e.g. Microsoft Entra ID): the settings,
read from the environment, and only when ``OIDC_RP_CLIENT_ID`` is set. Local passwords keep working beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

REQUIRED = (
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
)
BACKEND = "accounts.oidc.OrganisationOIDCBackend"


def oidc_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The Django settings for OpenID Connect sign-in, from ``environ``: ``{"OIDC_ENABLED": False}`` unless
    ``OIDC_RP_CLIENT_ID`` is set; then every required variable must be set too (a missing one is named)."""
    if not environ.get("OIDC_RP_CLIENT_ID", "").strip():
        return {"OIDC_ENABLED": False}
    missing = [name for name in REQUIRED if not environ.get(name, "").strip()]
    algorithm = environ.get("OIDC_RP_SIGN_ALGO", "RS256").strip()
    if algorithm.startswith(("RS", "ES")) and not environ.get("OIDC_OP_JWKS_ENDPOINT", "").strip():
        missing.append("OIDC_OP_JWKS_ENDPOINT")
    if missing:
        raise ImproperlyConfigured(
            "OpenID Connect sign-in is configured (OIDC_RP_CLIENT_ID is set) but these are not: " + ", ".join(missing)
        )
    values: dict[str, Any] = {name: environ[name].strip() for name in REQUIRED}
    return {
        **values,
        "OIDC_ENABLED": True,
        "OIDC_OP_JWKS_ENDPOINT": environ.get("OIDC_OP_JWKS_ENDPOINT", "").strip() or None,
        "OIDC_RP_SIGN_ALGO": algorithm,
        "OIDC_RP_SCOPES": environ.get("OIDC_RP_SCOPES", "openid email profile").strip(),
        "OIDC_USE_PKCE": environ.get("OIDC_USE_PKCE", "1").strip().lower() not in {"0", "false", "no", "off"},
        # Users are matched by e-mail to existing accounts; never created unless this is switched on.
        "OIDC_CREATE_USER": environ.get("PCC_PERF_OIDC_CREATE_USERS", "").strip().lower() in {"1", "true", "yes", "on"},
        "PCC_PERF_OIDC_PROVIDER_NAME": environ.get("PCC_PERF_OIDC_PROVIDER_NAME", "").strip()
        or "your organisation's account",
        "LOGIN_REDIRECT_URL_FAILURE": "/accounts/login/refused/",
        "OIDC_CALLBACK_CLASS": "accounts.oidc.OrganisationCallbackView",
    }
