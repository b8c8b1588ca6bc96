"""Writes on users and their API tokens: permission → transaction → audit."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from .audit import AuditAction, record
from .models import ApiToken, Partnership, User


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_token_create(
    *, user: User, name: str = "", actor: Any = None, partnership: Partnership | None = None
) -> tuple[ApiToken, str]:
    """A new API key for ``user`` (reading ``partnership`` only, when one is given: else the one each call
    names, or the user's only one). Returns the token and the key, which is not stored and shown once."""
    key = "pcc_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=key[:8], key_hash=hash_key(key), partnership=partnership
        )
        within = f" (partnership {partnership.code})" if partnership is not None else ""
        record(
            AuditAction.API_TOKEN_CREATED,
            actor=actor,
            obj=token,
            summary=f"for {user.username}{within}: {name}",
            partnership=partnership,  # in the trail of the partnership the key reads (else the current one)
        )
    return token, key


def api_token_revoke(*, token: ApiToken, actor: Any = None) -> None:
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record(AuditAction.API_TOKEN_REVOKED, actor=actor, obj=locked, summary=f"for user {locked.user_id}")


def api_token_find(*, key: str) -> ApiToken | None:
    """The live token of ``key`` (with its user and partnership), or None for an unknown or revoked key, or an
    inactive user's. Notes its use (at most once a minute)."""
    token = (
        ApiToken.objects.select_related("user", "partnership")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_user(*, key: str) -> User | None:
    """The active user a key belongs to, or None for an unknown, revoked or inactive one."""
    token = api_token_find(key=key)
    return token.user if token is not None else None
