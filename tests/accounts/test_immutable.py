"""The audit trail is append-only whatever writes to the database; the immutability triggers the migrations
install are exactly the ones the models declare (and the ones the tests run with)."""

import importlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.audit import AuditAction, record
from accounts.models import AuditEvent, Role

from ..factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "Audit events cannot be changed or deleted"


def guards():
    from accounts.models import GUARDS as AUDIT_GUARDS
    from reports.models import GUARDS as PUBLISHED_GUARDS

    return AUDIT_GUARDS, PUBLISHED_GUARDS


@pytest.fixture
def events(db):
    manager = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER)
    first = record(AuditAction.ROUND_OPENED, actor=manager, object_type="metrics.collectionround", object_id="1")
    second = record(AuditAction.RETURN_APPROVED, actor=manager, object_type="metrics.return", object_id="2")
    return [first, second]


def test_the_orm_refuses_to_change_or_delete_audit_events(events):
    event = events[0]
    event.summary = "something else"
    with pytest.raises(Exception, match=REFUSED) as caught:  # accounts.immutable.ImmutableError
        event.save()
    assert type(caught.value).__name__ == "ImmutableError"
    with pytest.raises(Exception, match=REFUSED):
        event.delete()
    with pytest.raises(Exception, match=REFUSED):
        AuditEvent.objects.filter(pk=event.pk).update(action=AuditAction.ADMIN_DELETED)
    with pytest.raises(Exception, match=REFUSED):
        AuditEvent.objects.all().delete()
    with pytest.raises(Exception, match=REFUSED):
        AuditEvent.objects.bulk_update(events, ["summary"])
    assert AuditEvent.objects.count() == 2
    assert AuditEvent.objects.get(pk=event.pk).summary == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE frameworks_auditevent SET summary = 'rewritten'",
        "UPDATE frameworks_auditevent SET actor_id = NULL",
        "DELETE FROM frameworks_auditevent",
    ],
)
def test_the_database_refuses_sql_that_changes_audit_events(events, sql):
    refused = pytest.raises(IntegrityError, match=REFUSED)
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(summary="", actor__isnull=False).count() == 2


def test_a_refusal_from_the_database_reads_as_immutable_error(events):
    from accounts import immutable
    from accounts.immutable import ImmutableError

    refused = pytest.raises(ImmutableError, match=r"^Audit events cannot be changed or deleted\.$")
    with refused, transaction.atomic(), immutable.guarded(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM frameworks_auditevent")


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_still_ends_with_a_clean_database():
    """The flush after a transactional test empties the guarded tables (the triggers are lifted for it)."""
    from accounts import immutable

    record(AuditAction.ROUND_OPENED, actor=UserFactory(username="someone"), object_type="x", object_id="1")
    audit, published = guards()
    assert immutable.installed(connection) == {g.name for g in audit + published}


def test_the_tests_run_with_every_guard_installed(db):
    from accounts import immutable

    audit, published = guards()
    assert immutable.installed(connection) == {g.name for g in audit + published}


def test_the_migrations_install_the_guards_the_models_declare():
    audit, published = guards()
    assert audit == importlib.import_module("accounts.migrations.0008_audit_guards").GUARDS
    assert published == importlib.import_module("reports.migrations.0011_published_guards").GUARDS


def test_migrating_a_new_database_installs_every_guard(tmp_path):
    """The whole migration chain on a fresh SQLite file: a later migration that rebuilds a guarded table (SQLite
    drops a table's triggers with it) would leave a guard missing here."""
    path = tmp_path / "fresh.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DJANGO_DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    with sqlite3.connect(path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    audit, published = guards()
    assert names >= {g.name for g in audit + published}


def test_a_refused_write_in_a_web_request_is_a_clear_409(rf, db):
    from accounts.immutable import ImmutableError
    from accounts.middleware import ImmutableRefusalMiddleware

    request = rf.post("/")
    request.user = UserFactory(username="someone")
    response = ImmutableRefusalMiddleware(lambda r: None).process_exception(
        request, ImmutableError("A published snapshot cannot be changed or deleted.")
    )
    assert response.status_code == 409
    assert "A published snapshot cannot be changed or deleted." in response.content.decode()
    assert ImmutableRefusalMiddleware(lambda r: None).process_exception(request, ValueError("other")) is None
