"""Deleting a user must not erase who did what: audit events keep the actor's username as text, and a user the
audit trail names is deactivated, never deleted (the ORM and the admin refuse, saying why)."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models.deletion import ProtectedError
from django.test import override_settings
from django.urls import reverse

from accounts.audit import AuditAction, event, record
from accounts.models import AuditEvent, Role, User

from ..factories import UserFactory


@pytest.fixture
def people(db):
    return {
        "manager": UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER),
        "leaver": UserFactory(username="j.smith", role=Role.BOARD_MEMBER),
        "mistake": UserFactory(username="typo-account", role=Role.BOARD_MEMBER),
    }


def test_audit_events_keep_the_actors_username_as_text(people):
    one = record(AuditAction.ROUND_OPENED, actor=people["leaver"], object_type="x", object_id="1")
    (bulk,) = AuditEvent.objects.bulk_create(
        [event(AuditAction.RETURN_VALUE_CHANGED, actor_id=people["leaver"].pk, obj=people["manager"], summary="s")]
    )
    nobody = record(AuditAction.ROUND_OPENED, actor=None, object_type="x", object_id="2")
    assert AuditEvent.objects.get(pk=one.pk).actor_username == "j.smith"
    assert AuditEvent.objects.get(pk=bulk.pk).actor_username == "j.smith"
    assert AuditEvent.objects.get(pk=nobody.pk).actor_username == ""
    # A later change of username leaves the trail as it was.
    User.objects.filter(pk=people["leaver"].pk).update(username="j.smith-jones")
    assert AuditEvent.objects.get(pk=one.pk).who == "j.smith"


def test_a_user_who_has_acted_cannot_be_deleted_through_the_orm(people):
    record(AuditAction.ROUND_OPENED, actor=people["leaver"], object_type="x", object_id="1")
    refused = r"j\.smith cannot be deleted: the audit trail records 1 action by them"
    with pytest.raises(Exception, match=refused) as caught:
        people["leaver"].delete()
    assert type(caught.value).__name__ == "UserHasActed"
    with pytest.raises(Exception, match="Deactivate the account instead"):
        User.objects.filter(username__in=["j.smith", "typo-account"]).delete()
    # Below the model (the collector), the audit trail's foreign key protects the user too.
    with pytest.raises(ProtectedError):
        super(User, people["leaver"]).delete()
    assert User.objects.filter(username="j.smith").exists()
    assert AuditEvent.objects.get().actor == people["leaver"]
    # A user who never acted can still be deleted.
    people["mistake"].delete()
    assert not User.objects.filter(username="typo-account").exists()


def test_the_admin_refuses_to_delete_a_user_who_acted_and_says_to_deactivate(people, client):
    record(AuditAction.ROUND_OPENED, actor=people["leaver"], object_type="x", object_id="1")
    client.force_login(people["manager"])
    url = reverse("admin:accounts_user_delete", args=[people["leaver"].pk])
    for response in (client.get(url, follow=True), client.post(url, {"post": "yes"}, follow=True)):
        assert response.status_code == 200
        page = response.content.decode()
        assert "smith cannot be deleted: the audit trail records 1 action by them" in page
        assert "Deactivate the account instead" in page
    assert User.objects.filter(username="j.smith").exists()
    # Deactivating is an ordinary change in the admin; the trail still names the user.
    change = client.get(reverse("admin:accounts_user_change", args=[people["leaver"].pk]))
    assert change.status_code == 200
    response = client.post(reverse("admin:accounts_user_delete", args=[people["mistake"].pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="typo-account").exists()


def test_the_migration_fills_in_usernames_of_events_made_before(people):
    from accounts import immutable
    from accounts.models import GUARDS

    made_before = AuditEvent.objects.bulk_create(
        [AuditEvent(actor=people["leaver"], actor_username="x", action=AuditAction.ROUND_OPENED, object_type="x")]
    )[0]
    migration = importlib.import_module("accounts.migrations.0007_audit_actor_username_backfill")
    with override_settings(MIGRATION_MODULES={}):  # the tests run without migrations: load them from disk
        state = MigrationLoader(None).project_state(("accounts", "0007_audit_actor_username_backfill"))
    immutable.uninstall(connection, GUARDS)  # as before migration 0008 (rolled back with the test)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE frameworks_auditevent SET actor_username = '' WHERE id = %s", [made_before.pk])
    migration.backfill(state.apps, SimpleNamespace(connection=connection))
    assert AuditEvent.objects.get(pk=made_before.pk).actor_username == "j.smith"
    immutable.install(connection, GUARDS)
