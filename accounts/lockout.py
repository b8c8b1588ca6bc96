"""Login throttling (django-axes): a locked account's login page says so and for how long; each lockout is
audited once."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .audit import AuditAction, record


def locked_until(username: str) -> dt.datetime | None:
    """When ``username``'s lockout ends: the cool-off after the last failed attempt (None: no attempts)."""
    last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))["last"]
    cool_off = get_cool_off()
    if last is None or cool_off is None:
        return None
    return last + cool_off


def lockout_text(username: str) -> str:
    """ "This account is locked after 5 failed log-ins. Try again in 15 minutes (at 10:45 UTC)." """
    until = locked_until(username)
    limit = settings.AXES_FAILURE_LIMIT
    text = f"This account is locked after {limit} failed log-ins."
    if until is None:
        return text + " Ask a performance manager to unlock it."
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    at = timezone.localtime(until).strftime("%H:%M %Z")
    return (
        text + f" Try again in {minutes} minute{'s' if minutes != 1 else ''} (at {at}), or ask a performance manager."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The login page again (HTTP 429), saying the account is locked and until when."""
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username})
    from .oidc import oidc_enabled, provider_name

    context = {
        "form": form,
        "oidc_enabled": oidc_enabled(),  # the organisation's sign-in is still offered
        "provider_name": provider_name(),
        "locked": lockout_text(username),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


def audit_lockout(sender: Any, request: HttpRequest, username: str, ip_address: str | None, **kwargs: Any) -> None:
    """One audit event per lockout of a real account (axes signals again on each attempt while locked).
    Guesses at usernames nobody has are not audited: audit events can never be deleted, so anyone could
    otherwise fill the trail."""
    from .models import AuditEvent, User

    cool_off = get_cool_off() or dt.timedelta(0)
    user = User.objects.filter(username=username).first()
    if user is None:
        return
    object_id = str(user.pk)
    recent = AuditEvent.objects.filter(
        action=AuditAction.LOGIN_LOCKED_OUT, object_type="accounts.user", object_id=object_id[:64]
    ).filter(at__gte=timezone.now() - cool_off)
    if recent.exists():
        return
    record(
        AuditAction.LOGIN_LOCKED_OUT,
        actor=None,
        object_type="accounts.user",
        object_id=object_id[:64],
        summary=f"{username} locked out after {settings.AXES_FAILURE_LIMIT} failed log-ins (last from "
        f"{ip_address or 'an unknown address'})",
        new={"username": username, "ip_address": ip_address, "locked_minutes": cool_off.total_seconds() / 60},
    )
