"""Users, their roles and agencies, the audit trail and API tokens: the bottom of the app stack.

These models moved here from ``frameworks``; they keep their database tables (``frameworks_*``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from .audit import AuditAction


class Role(models.TextChoices):
    ANALYST = "analyst", "Agency analyst"
    PERFORMANCE_MANAGER = "performance_manager", "Performance manager"
    BOARD_MEMBER = "board_member", "Board member"


class Agency(models.Model):
    """A partner organisation that owns and supplies data."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "frameworks_agency"
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. An analyst belongs to exactly one agency."""

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        db_table = "frameworks_user"
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.ANALYST) | Q(agency__isnull=False),
                name="user_analyst_has_agency",
            ),
        ]


class AuditEvent(models.Model):
    """Who changed what, when, with the old and the new value. Written through ``accounts.audit.record``."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64, db_index=True, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # Context for browsing the trail per return and per metric.
    return_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    metric_code = models.CharField(max_length=32, blank=True, db_index=True)

    class Meta:
        db_table = "frameworks_auditevent"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="frameworks__object__4f5c18_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class ApiToken(models.Model):
    """A per-user key for the JSON API. Only a hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "frameworks_apitoken"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id}{', revoked' if self.revoked_at else ''})"
