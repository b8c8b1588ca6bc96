"""The database refuses UPDATE and DELETE of audit events (triggers on SQLite and PostgreSQL).

The guards are written out here as they were when this migration was made (``accounts.models.GUARDS`` is
the current list; tests/accounts/test_immutable.py checks the two agree)."""

from django.db import migrations

from accounts.immutable import Guard, install, uninstall

MESSAGE = "Audit events cannot be changed or deleted."
GUARDS = [
    Guard("frameworks_auditevent", "UPDATE", MESSAGE),
    Guard("frameworks_auditevent", "DELETE", MESSAGE),
]


def forwards(apps, schema_editor):
    install(schema_editor.connection, GUARDS)


def backwards(apps, schema_editor):
    uninstall(schema_editor.connection, GUARDS)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_audit_actor_username_backfill")]

    operations = [migrations.RunPython(forwards, backwards)]
