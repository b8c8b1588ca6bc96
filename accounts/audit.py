"""The audit trail: every change to data, approval state, framework or report writes one event.

``AuditAction`` names every kind of event. Its values are the action strings stored since the start, so
old rows, the audit pages and their filters read the same. Add a member here (and a migration for the
choices) to audit something new; ``record`` is the one way to write an event (``event`` builds one for a
bulk write).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from .models import AuditEvent


class AuditAction(models.TextChoices):
    # Users, API keys and the admin
    API_TOKEN_CREATED = "api_token.created", "API key created"
    API_TOKEN_REVOKED = "api_token.revoked", "API key revoked"
    ADMIN_CREATED = "admin.created", "Created in the admin"
    ADMIN_CHANGED = "admin.changed", "Changed in the admin"
    ADMIN_DELETED = "admin.deleted", "Deleted in the admin"
    LOGIN_LOCKED_OUT = "login.locked_out", "Locked out after repeated failed log-ins"
    AGENCY_CONTACTS_CHANGED = "agency.contacts_changed", "Agency contacts changed"
    LOGIN_OIDC = "login.oidc", "Signed in with the organisation's identity provider"
    LOGIN_OIDC_REFUSED = "login.oidc_refused", "Sign-in with the organisation's identity provider refused"
    USER_CREATED_BY_OIDC = "user.created_by_oidc", "Account created at first sign-in with the identity provider"
    USER_INVITED = "user.invited", "User invited"
    USER_CHANGED = "user.changed", "User's role or agency changed"
    USER_DEACTIVATED = "user.deactivated", "User deactivated"
    USER_REACTIVATED = "user.reactivated", "User reactivated"
    USER_PASSWORD_SET = "user.password_set", "Password set from an invitation link"
    PARTNERSHIP_SHARING_CHANGED = "partnership.sharing_changed", "Sharing of published figures with the region changed"
    # The framework file
    FRAMEWORK_FILE_CREATED = "framework_file.created", "Created from the framework file"
    FRAMEWORK_FILE_UPDATED = "framework_file.updated", "Updated from the framework file"
    FRAMEWORK_FILE_DELETED = "framework_file.deleted", "Deleted by the framework file"
    FRAMEWORK_VERSION_CREATED = "framework.version_created", "Framework version created"
    REBASE_RECORDED = "rebase.recorded", "Rebase recorded"
    REBASE_REMOVED = "rebase.removed", "Rebase removed"
    ANNOTATION_ADDED = "annotation.added", "Note added to a measure"
    ANNOTATION_CHANGED = "annotation.changed", "Note on a measure changed"
    ANNOTATION_REMOVED = "annotation.removed", "Note on a measure removed"
    # Collection rounds and returns
    ROUND_OPENED = "round.opened", "Collection round opened"
    RETURN_REMINDED = "return.reminded", "Reminder sent about a return"
    RETURN_VALUES_SAVED = "return.values_saved", "Return values saved"
    RETURN_VALUE_CHANGED = "return_value.changed", "Return value changed"
    RETURN_VALUE_REMOVED = "return_value.removed", "Return value removed"
    RETURN_VALUE_COMMENTED = "return_value.commented", "Return value commented"
    UPLOAD_RECEIVED = "upload.received", "Upload received"
    UPLOAD_CHECKED = "upload.checked", "Upload checked"
    UPLOAD_CONFIRMED = "upload.confirmed", "Upload confirmed (writing in the background)"
    UPLOAD_WRITTEN = "upload.written", "Upload written to the return"
    UPLOAD_REJECTED = "upload.rejected", "Upload rejected"
    UPLOAD_SUPERSEDED = "upload.superseded", "Upload superseded"
    UPLOAD_FAILED = "upload.failed", "Upload could not be checked or written"
    UPLOAD_RETRIED = "upload.retried", "Upload checked again"
    RETURN_SUBMITTED = "return.submitted", "Return submitted"
    RETURN_RETURNED = "return.returned", "Return sent back"
    RETURN_APPROVED = "return.approved", "Return approved"
    RETURN_REOPENED = "return.reopened", "Return reopened"
    # Approved data
    IMPORT_ACCEPTED = "import.accepted", "Import accepted"
    OBSERVATION_UPDATED = "observation.updated", "Observation updated"
    OBSERVATION_REVISED = "observation.revised", "Observation revised"
    # Snapshots, reports and board packs
    SNAPSHOT_PUBLISHED = "snapshot.published", "Snapshot published"
    REPORT_CREATED = "report.created", "Report created"
    REPORT_EDITED = "report.edited", "Report edited"
    REPORT_DRAFT = "report.draft", "Report back to draft"
    REPORT_IN_REVIEW = "report.in_review", "Report sent for review"
    REPORT_PUBLISHED = "report.published", "Report published"
    PACK_REQUESTED = "pack.requested", "Board pack requested"
    PACK_STARTED = "pack.started", "Board pack build started"
    PACK_BUILT = "pack.built", "Board pack built"
    PACK_FAILED = "pack.failed", "Board pack build failed"
    PACK_RETRIED = "pack.retried", "Board pack build tried again"


def event(action: AuditAction, *, actor_id: int | None, obj: models.Model, summary: str, **fields: Any) -> AuditEvent:
    """An audit event about ``obj``, not yet saved: for writing many at once with ``bulk_create`` (which fills
    in the actor's username)."""
    from .models import AuditEvent
    from .tenancy import current_partnership_id

    if "partnership_id" not in fields:  # not worked out when given (many events at once: one look-up)
        fields["partnership_id"] = current_partnership_id()
    return AuditEvent(
        actor_id=actor_id,
        action=AuditAction(action),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:500],
        **fields,
    )


def record(
    action: AuditAction,
    *,
    actor: Any,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    old: Any = None,
    new: Any = None,
    reason: str = "",
    return_id: int | None = None,
    metric_code: str = "",
    partnership: Any = None,
) -> AuditEvent:
    """Write one audit event, in ``partnership`` (the partnership of the work in hand when None). ``actor`` is the user who acted (the system actor for commands, or ``None``); the
    event keeps the actor's username as text too, so the trail names them whatever happens to the user."""
    from .models import AuditEvent

    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    from .tenancy import current_partnership

    acting = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        partnership=partnership if partnership is not None else current_partnership(),
        actor=acting,
        actor_username=acting.username if acting is not None else "",
        action=AuditAction(action),
        object_type=object_type,
        object_id=object_id,
        summary=summary[:500],
        old=old,
        new=new,
        reason=reason,
        return_id=return_id,
        metric_code=metric_code,
    )


# The columns ``record_rows`` takes, in order.
EVENT_ROW_FIELDS = ("action", "object_type", "object_id", "summary", "old", "new", "return_id", "metric_code")


def record_rows(*, actor: Any, rows: Iterable[tuple[Any, ...]]) -> int:
    """Write many audit events in one statement, without model instances (a large import's changed values).
    ``rows``: tuples in ``EVENT_ROW_FIELDS`` order (``summary`` is cut to 500 characters); every event is by
    ``actor``, at the same moment. Returns how many were written."""
    from django.utils import timezone

    from .bulk import insert_rows
    from .models import AuditEvent
    from .tenancy import current_partnership_id

    acting = actor if getattr(actor, "pk", None) else None
    actor_id, username = (acting.pk, acting.username) if acting is not None else (None, "")
    now = timezone.now()
    pid = current_partnership_id()
    return insert_rows(
        AuditEvent,
        ("at", "actor", "actor_username", "reason", "partnership", *EVENT_ROW_FIELDS),
        (
            (
                now,
                actor_id,
                username,
                "",
                pid,
                AuditAction(action).value,
                otype,
                oid,
                summary[:500],
                old,
                new,
                ret,
                code,
            )
            for action, otype, oid, summary, old, new, ret, code in rows
        ),
    )
