"""Sign-in with the organisation's identity provider (OpenID Connect through mozilla-django-oidc).

The provider says who the person is; this app decides whether they may come in: the e-mail address the
provider vouches for must belong to exactly one active account here (compared without regard to case). An
unknown, deactivated or shared address is refused with a page that says why, and nothing is created unless
``PCC_PERF_OIDC_CREATE_USERS`` allows it (then the account has no role until a performance manager gives one).
Every sign-in and every refusal is an audit event. Local passwords (and django-axes' throttling) work beside it.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend  # type: ignore[import-untyped]
from mozilla_django_oidc.views import (  # type: ignore[import-untyped]
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .audit import AuditAction, record

logger = logging.getLogger(__name__)

REFUSAL_KEY = "oidc_refusal"


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ENABLED", False))


def provider_name() -> str:
    return str(getattr(settings, "PCC_PERF_OIDC_PROVIDER_NAME", "") or "your organisation's account")


class Refused(Exception):
    """The provider signed the person in, but this app does not let them in (``reason`` says why). Not a
    ``SuspiciousOperation``, which the library would swallow into a reasonless failure."""

    def __init__(self, reason: str, email: str = "", user: Any = None) -> None:
        super().__init__(f"OIDC sign-in refused: {reason}")
        self.reason, self.email, self.user = reason, email, user


class OrganisationOIDCBackend(OIDCAuthenticationBackend):
    """Existing active accounts matched by e-mail, case-insensitively; never auto-created unless allowed."""

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        email = str(claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        # An address the provider says it has not verified is no proof of who this is.
        return bool(str(claims.get("email") or "").strip()) and claims.get("email_verified") is not False

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        email = str(claims.get("email") or "").strip()
        if not self.verify_claims(claims):
            raise Refused("no_email" if not email else "unverified", email)
        users = list(self.filter_users_by_claims(claims))
        active = [u for u in users if u.is_active]
        if len(active) == 1:
            return active[0]
        if len(active) > 1:
            raise Refused("ambiguous", email)
        if users:
            raise Refused("inactive", email, users[0])
        if self.get_settings("OIDC_CREATE_USER", False):
            user = self.create_user(claims)
            record(
                AuditAction.USER_CREATED_BY_OIDC,
                actor=user,
                obj=user,
                summary=f"{user.username} ({email}), no role yet",
            )
            return user
        raise Refused("unknown", email)

    def create_user(self, claims: dict[str, Any]) -> Any:
        """A new account with no role (it sees nothing until a performance manager gives it one)."""
        email = str(claims.get("email") or "").strip()
        username = email.lower()[:150]
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise Refused("ambiguous", email)
        user = user_model.objects.create_user(username, email=email)
        user.first_name = str(claims.get("given_name") or "")[:150]
        user.last_name = str(claims.get("family_name") or "")[:150]
        user.set_unusable_password()
        user.save()
        return user


class OrganisationCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back: a refusal (unknown or deactivated account, a state that does not match
    this browser's sign-in, a token that fails its checks, a provider that will not answer) goes to a page that
    says why, never a server error; each outcome is audited."""

    @property
    def failure_url(self) -> str:
        return reverse("login-refused")

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except Refused as refusal:
            return self._refuse(refusal.reason, email=refusal.email, user=refusal.user)
        except SuspiciousOperation as exc:
            # A state not started in this browser (forged or replayed), a bad signature or nonce.
            logger.warning("OIDC sign-in refused: %s", exc)
            return self._refuse("state" if "state" in str(exc).lower() else "token", detail=str(exc))
        except requests.RequestException as exc:
            logger.warning("OIDC provider did not answer: %s", exc)
            return self._refuse("provider", detail=str(exc)[:300])

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        record(
            AuditAction.LOGIN_OIDC,
            actor=self.user,
            obj=self.user,
            summary=f"{self.user.username} signed in with {provider_name()} as {self.user.email}",
        )
        return response

    def login_failure(self) -> HttpResponse:
        if REFUSAL_KEY not in self.request.session:
            if self.request.GET.get("error"):
                return self._refuse("provider_error", detail=str(self.request.GET.get("error"))[:200])
            return self._refuse("state" if "state" in self.request.GET else "failed")
        return HttpResponseRedirect(self.failure_url)

    def _refuse(self, reason: str, *, email: str = "", user: Any = None, detail: str = "") -> HttpResponse:
        self.request.session[REFUSAL_KEY] = {"reason": reason, "email": email}
        record(
            AuditAction.LOGIN_OIDC_REFUSED,
            actor=None,
            obj=user,
            object_type="" if user is not None else "accounts.user",
            summary=f"{email or 'unknown address'}: {REASONS.get(reason, reason)}"[:500],
            reason=detail,
        )
        return HttpResponseRedirect(self.failure_url)


REASONS = {
    "unknown": "no account here uses this e-mail address",
    "inactive": "the account for this address is deactivated",
    "ambiguous": "more than one account uses this address",
    "no_email": "the identity provider gave no e-mail address",
    "unverified": "the identity provider has not verified this e-mail address",
    "state": "the sign-in did not match one started in this browser (or it expired)",
    "token": "the identity provider's answer failed its checks",
    "provider": "the identity provider could not be reached",
    "provider_error": "the identity provider did not sign the person in",
    "failed": "the sign-in did not complete",
}


def refused(request: HttpRequest) -> HttpResponse:
    """Why the organisation's sign-in did not let someone in, and what to do."""
    refusal = request.session.pop(REFUSAL_KEY, None) or {}
    return render(
        request,
        "registration/oidc_refused.html",
        {
            "reason": refusal.get("reason", ""),
            "email": refusal.get("email", ""),
            "provider_name": provider_name(),
            "oidc_enabled": oidc_enabled(),
        },
    )


class OrganisationLoginView(LoginView):
    """Django's login page, offering the organisation's sign-in beside the password when it is configured."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        context["provider_name"] = provider_name()
        return context


def oidc_start(request: HttpRequest) -> HttpResponse:
    """The start of the sign-in (a redirect to the provider): 404 unless OpenID Connect is configured."""
    if not oidc_enabled():
        raise Http404("Sign-in with an identity provider is not configured.")
    return OIDCAuthenticationRequestView.as_view()(request)


def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider's redirect back: 404 unless OpenID Connect is configured."""
    if not oidc_enabled():
        raise Http404("Sign-in with an identity provider is not configured.")
    return OrganisationCallbackView.as_view()(request)


def oidc_urls() -> list[URLPattern]:
    """The sign-in and callback URLs; both answer 404 unless OpenID Connect is configured (the patterns are
    always there, so no URL depends on the settings at import)."""
    return [
        path("oidc/authenticate/", oidc_start, name="oidc_authentication_init"),
        path("oidc/callback/", oidc_callback, name="oidc_authentication_callback"),
    ]
