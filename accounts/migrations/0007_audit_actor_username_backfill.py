"""Audit events made before ``actor_username`` existed take their actor's current username."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    AuditEvent.objects.using(db).filter(actor__isnull=False, actor_username="").update(
        actor_username=Subquery(User.objects.using(db).filter(pk=OuterRef("actor_id")).values("username")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_audit_actor_username_and_lockout")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
