"""The board edition as a Word document; the deep dive's findings and recommendations on the report.

Adding columns to the report makes SQLite rebuild its table, which its triggers and those of its sections and
findings (which name it) do not survive: the published guards of 0011 are lifted first and put back after."""

import importlib

from django.db import migrations, models

from accounts.immutable import install, uninstall



def guards():
    return importlib.import_module("reports.migrations.0011_published_guards").GUARDS


def lift_guards(apps, schema_editor):
    uninstall(schema_editor.connection, guards())


def reinstall_guards(apps, schema_editor):
    install(schema_editor.connection, guards())


class Migration(migrations.Migration):
    dependencies = [("reports", "0012_pack_heartbeat")]

    operations = [
        migrations.RunPython(lift_guards, reinstall_guards),
        migrations.AddField(
            model_name="boardpack",
            name="docx",
            field=models.BinaryField(
                blank=True, help_text="The board edition as an editable Word document (board packs only).", null=True
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="deep_dive_findings",
            field=models.TextField(blank=True, help_text="The analyst's findings from the deep dive (Markdown)."),
        ),
        migrations.AddField(
            model_name="report",
            name="deep_dive_recommendations",
            field=models.TextField(
                blank=True, help_text="The analyst's recommendations to the board from the deep dive (Markdown)."
            ),
        ),
        migrations.RunPython(reinstall_guards, lift_guards),
    ]
