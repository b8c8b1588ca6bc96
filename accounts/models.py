"""Users, their roles and agencies, the audit trail and API tokens: the bottom of the app stack.

These models moved here from ``frameworks``; they keep their database tables (``frameworks_*``).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from .audit import AuditAction
from .immutable import Guard, ImmutableError, ImmutableQuerySet
from .scoping import MadeInCurrentPartnership, ScopedQuerySet


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


class AgencyContacts(MadeInCurrentPartnership, models.Model):
    """Whom to e-mail about an agency's returns: named users of the agency and an optional shared mailbox.

    With no one named, the agency's active analysts are its contacts (``accounts.contacts``)."""

    partnership = models.ForeignKey("Partnership", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="contacts")
    users: models.ManyToManyField[User, Any] = models.ManyToManyField(
        "User", blank=True, related_name="contact_for", help_text="Named people of the agency to e-mail."
    )
    shared_mailbox = models.EmailField(blank=True, help_text="A team address, e-mailed as well as the people.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "agency contacts"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "agency"], name="agency_contacts_per_partnership")
        ]

    def __str__(self) -> str:
        return f"contacts of {self.agency_id}"


class UserHasActed(Exception):
    """A user who has acted (the audit trail names them) is deactivated, never deleted."""

    def __init__(self, users: list[str], count: int) -> None:
        who = ", ".join(users)
        super().__init__(
            f"{who} cannot be deleted: the audit trail records {count} action{'s' if count != 1 else ''} by "
            f"{'them' if len(users) == 1 else 'these users'}. Deactivate the account instead (untick “Active”)."
        )


def refuse_if_acted(users: models.QuerySet[Any]) -> None:
    """Raise ``UserHasActed`` when any of ``users`` has an audit event."""
    acted = AuditEvent.objects.filter(actor__in=users)
    count = acted.count()
    if count:
        names = sorted(set(acted.values_list("actor__username", flat=True)))
        raise UserHasActed(names, count)


class UserQuerySet(models.QuerySet["User"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        refuse_if_acted(self)
        return super().delete()


class PccUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Django's user manager, whose ``delete`` refuses users who have acted."""


class User(AbstractUser):
    """A person who logs in. An analyst belongs to exactly one agency. Once the audit trail names a user,
    the user is deactivated, not deleted (``UserHasActed``)."""

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users")

    objects: ClassVar[PccUserManager] = PccUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        db_table = "frameworks_user"
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.ANALYST) | Q(agency__isnull=False),
                name="user_analyst_has_agency",
            ),
        ]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.pk is not None:
            refuse_if_acted(User.objects.filter(pk=self.pk))
        return super().delete(*args, **kwargs)


AUDIT_IMMUTABLE = "Audit events cannot be changed or deleted."


class AuditEventQuerySet(ImmutableQuerySet):
    immutable_message = AUDIT_IMMUTABLE

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        """Each event keeps its actor's username as text (one query for the lot)."""
        objs = list(objs)
        wanted = {e.actor_id for e in objs if e.actor_id is not None and not e.actor_username}
        if wanted:
            names = dict(User.objects.filter(pk__in=wanted).values_list("pk", "username"))
            for e in objs:
                if e.actor_id is not None and not e.actor_username:
                    e.actor_username = names.get(e.actor_id, "")
        return super().bulk_create(objs, *args, **kwargs)


class AuditEvent(models.Model):
    """Who changed what, when, with the old and the new value. Written through ``accounts.audit.record``."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_username = models.CharField(
        max_length=150, blank=True, help_text="Who acted, as text: kept whatever happens to the user later."
    )
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
    partnership = models.ForeignKey(
        "Partnership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The partnership the change was made in (empty: the installation's shared data, or an event "
        "from before partnerships, which the default partnership's trail shows).",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "frameworks_auditevent"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="frameworks__object__4f5c18_idx"),
            models.Index(fields=["partnership", "at"], name="audit_partnership_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError(AUDIT_IMMUTABLE)
        if self.actor_id is not None and not self.actor_username:
            self.actor_username = self.actor.username if self.actor else ""
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError(AUDIT_IMMUTABLE)

    @property
    def who(self) -> str:
        """The actor's username at the time (``actor_username``), else the user's."""
        return self.actor_username or (self.actor.username if self.actor is not None else "")


class ApiToken(models.Model):
    """A per-user key for the JSON API. Only a hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    partnership = models.ForeignKey(
        "Partnership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The partnership the key reads (empty: the one named by ?partnership=, else the user's only one).",
    )

    class Meta:
        db_table = "frameworks_apitoken"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id}{', revoked' if self.revoked_at else ''})"


# The audit trail is append-only, whatever writes to the database (installed by migration 0008_audit_guards).
GUARDS = [
    Guard("frameworks_auditevent", "UPDATE", AUDIT_IMMUTABLE),
    Guard("frameworks_auditevent", "DELETE", AUDIT_IMMUTABLE),
]


class DataVersion(models.Model):
    """One row: the version of everything the pages show as approved data. ``number`` goes up in the same
    transaction as every change to approved data, snapshots, the framework, rebases or annotations
    (``accounts.versions.data_changed``), so a page cached under the version it read is never served after a
    change, in any process. ``epoch`` is new with each database, so a shared cache outliving a database
    (restored, recreated) never matches its numbers."""

    epoch = models.UUIDField(default=uuid.uuid4, editable=False)
    number = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"data version {self.number}"


class Partnership(models.Model):
    """An LCJB or PCC office using the service: the unit of tenancy. It owns frameworks (and, through them,
    everything made from its data); users belong to partnerships through ``Membership``. An installation
    always has its default partnership (``settings.PCC_PERF_DEFAULT_PARTNERSHIP``, made by migration)."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    shares_published_with_region = models.BooleanField(
        default=False,
        help_text="The owner's choice to let the region's other partnerships read its published snapshots and "
        "reports (never anything unpublished) in the regional view.",
    )
    region = models.CharField(
        max_length=100,
        blank=True,
        help_text="The region the partnership belongs to (an area name such as “West Midlands”): the regional view "
        "puts it beside the partnerships of the same region that share their published figures. Empty: none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "code"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role (and agency, for an analyst) in one partnership. A user has at most one role in each.

    The user's role and agency in the default partnership are also ``User.role`` and ``User.agency`` (kept in
    step by ``accounts.partnerships.sync_default_membership``), which the permission helper reads today."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partnership", "user"]
        constraints = [
            # Leads with the partnership: "who belongs to this partnership" is the scoped read.
            models.UniqueConstraint(fields=["partnership", "user"], name="membership_one_role_per_partnership"),
            models.CheckConstraint(
                condition=~Q(role=Role.ANALYST) | Q(agency__isnull=False),
                name="membership_analyst_has_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.partnership_id}"
