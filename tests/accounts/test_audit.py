"""The audit trail's actions are one enum whose values are the strings stored since the start."""

import ast
import re
from pathlib import Path

import pytest

from accounts.audit import AuditAction, record
from accounts.models import AuditEvent
from reports.models import ReportState

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ["accounts", "frameworks", "metrics", "reports", "pcc_perf"]

# The action strings written before the enum existed: stored rows and audit filters rely on them.
STORED_BEFORE_THE_ENUM = {
    "admin.changed",
    "admin.created",
    "admin.deleted",
    "api_token.created",
    "api_token.revoked",
    "framework.version_created",
    "framework_file.created",
    "framework_file.deleted",
    "framework_file.updated",
    "import.accepted",
    "observation.revised",
    "observation.updated",
    "pack.requested",
    "report.created",
    "report.draft",
    "report.edited",
    "report.in_review",
    "report.published",
    "return.approved",
    "return.reopened",
    "return.returned",
    "return.submitted",
    "return.values_saved",
    "return_value.changed",
    "return_value.commented",
    "return_value.removed",
    "round.opened",
    "snapshot.published",
    "upload.received",
}


def _app_sources() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    }


def test_every_action_stored_before_the_enum_is_a_member_with_the_same_value():
    assert {a.value for a in AuditAction} >= STORED_BEFORE_THE_ENUM


def test_every_member_fits_the_column():
    assert max(len(a.value) for a in AuditAction) <= AuditEvent._meta.get_field("action").max_length


def test_every_action_named_in_the_code_exists():
    used = set()
    for source in _app_sources().values():
        used.update(re.findall(r"\bAuditAction\.([A-Z][A-Z0-9_]*)\b", source))
    assert used, "the scan found no AuditAction use"
    assert used - set(AuditAction.names) == set()


def test_report_state_changes_have_an_action_per_state():
    # reports.reporting records AuditAction(f"report.{to}") for every state a report can move to.
    for state in ReportState:
        assert AuditAction(f"report.{state}")


def test_no_code_writes_a_free_text_action():
    offenders = []
    for name, source in _app_sources().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "action" and isinstance(value, ast.Constant) and value.value in AuditAction:
                        offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_record_writes_one_event(users, police):
    event = record(
        AuditAction.ADMIN_CHANGED,
        actor=users["performance_manager"],
        obj=police,
        summary="x" * 600,
        old={"name": "Police"},
        new={"name": "Staffordshire Police"},
        reason="renamed",
        metric_code="EFF01",
    )
    stored = AuditEvent.objects.get()
    assert stored == event
    assert stored.action == "admin.changed"
    assert (stored.object_type, stored.object_id) == ("accounts.agency", str(police.pk))
    assert stored.actor == users["performance_manager"]
    assert len(stored.summary) == 500
    assert (stored.old, stored.new, stored.reason, stored.metric_code) == (
        {"name": "Police"},
        {"name": "Staffordshire Police"},
        "renamed",
        "EFF01",
    )


@pytest.mark.django_db
def test_record_without_a_saved_actor_stores_none():
    event = record(AuditAction.SNAPSHOT_PUBLISHED, actor=None, object_type="reports.snapshot", object_id="7")
    assert (event.actor, event.object_type, event.object_id) == (None, "reports.snapshot", "7")


@pytest.mark.django_db
def test_record_refuses_an_unknown_action(users):
    with pytest.raises(ValueError):
        record("return.vanished", actor=users["analyst"])
