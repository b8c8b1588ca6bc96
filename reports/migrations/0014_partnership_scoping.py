"""Partnership scoping (issue 18), reports side: annotations belong to a partnership (a shared official
statistic is annotated by each partnership for itself); snapshots are numbered within their framework.

On SQLite, changing the snapshot table's constraint remakes the table, which drops its triggers: the snapshot
guards are installed again at the end (on PostgreSQL that only replaces them with the same)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts.immutable import Guard, install

SNAPSHOT = "A published snapshot cannot be changed or deleted."
SNAPSHOT_GUARDS = [Guard("reports_snapshot", "UPDATE", SNAPSHOT), Guard("reports_snapshot", "DELETE", SNAPSHOT)]


def annotations_to_default(apps, schema_editor):
    Partnership = apps.get_model("accounts", "Partnership")
    Annotation = apps.get_model("reports", "Annotation")
    if not Annotation.objects.exists():
        return
    default, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Default partnership"}
    )
    Annotation.objects.update(partnership=default)


def guards_again(apps, schema_editor):
    install(schema_editor.connection, SNAPSHOT_GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partnership_scoping"),
        ("metrics", "0016_partnership_scoping"),
        ("reports", "0013_board_pack_word_and_deep_dive_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="partnership",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.RunPython(annotations_to_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="annotation",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.RemoveConstraint(model_name="snapshot", name="snapshot_unique"),
        migrations.AddConstraint(
            model_name="snapshot",
            constraint=models.UniqueConstraint(fields=("framework", "period", "number"), name="snapshot_unique"),
        ),
        migrations.RunPython(guards_again, migrations.RunPython.noop),
    ]
