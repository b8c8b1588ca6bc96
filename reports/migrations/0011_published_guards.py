"""The database refuses changes to what was published (triggers on SQLite and PostgreSQL): UPDATE and DELETE of
snapshots, their observations and revisions; UPDATE and DELETE of a published report, and INSERT, UPDATE and
DELETE of its sections and findings.

The guards are written out here as they were when this migration was made (``reports.models.GUARDS`` is the
current list; tests/accounts/test_immutable.py checks the two agree)."""

from django.db import migrations

from accounts.immutable import Guard, install, uninstall

SNAPSHOT = "A published snapshot cannot be changed or deleted."
OBSERVATION = "A published snapshot's observations cannot be changed or deleted."
REVISION = "A published snapshot's revisions cannot be changed or deleted."
REPORT = "A published report cannot be changed or deleted."
SECTION = "A published report's sections cannot be added, changed or deleted."
FINDING = "A published report's findings cannot be added, changed or deleted."
SECTION_PUBLISHED = (
    "EXISTS (SELECT 1 FROM reports_report r WHERE r.id = {row}.report_id AND r.state = 'published')"
)
FINDING_PUBLISHED = (
    "EXISTS (SELECT 1 FROM reports_reportsection s JOIN reports_report r ON r.id = s.report_id "
    "WHERE s.id = {row}.section_id AND r.state = 'published')"
)

GUARDS = [
    Guard("reports_snapshot", "UPDATE", SNAPSHOT),
    Guard("reports_snapshot", "DELETE", SNAPSHOT),
    Guard("reports_snapshotobservation", "UPDATE", OBSERVATION),
    Guard("reports_snapshotobservation", "DELETE", OBSERVATION),
    Guard("reports_snapshotrevision", "UPDATE", REVISION),
    Guard("reports_snapshotrevision", "DELETE", REVISION),
    Guard("reports_report", "UPDATE", REPORT, "OLD.state = 'published'"),
    Guard("reports_report", "DELETE", REPORT, "OLD.state = 'published'"),
    Guard("reports_reportsection", "INSERT", SECTION, SECTION_PUBLISHED.format(row="NEW")),
    Guard(
        "reports_reportsection",
        "UPDATE",
        SECTION,
        f"{SECTION_PUBLISHED.format(row='OLD')} OR {SECTION_PUBLISHED.format(row='NEW')}",
    ),
    Guard("reports_reportsection", "DELETE", SECTION, SECTION_PUBLISHED.format(row="OLD")),
    Guard("reports_reportfinding", "INSERT", FINDING, FINDING_PUBLISHED.format(row="NEW")),
    Guard(
        "reports_reportfinding",
        "UPDATE",
        FINDING,
        f"{FINDING_PUBLISHED.format(row='OLD')} OR {FINDING_PUBLISHED.format(row='NEW')}",
    ),
    Guard("reports_reportfinding", "DELETE", FINDING, FINDING_PUBLISHED.format(row="OLD")),
]


def forwards(apps, schema_editor):
    install(schema_editor.connection, GUARDS)


def backwards(apps, schema_editor):
    uninstall(schema_editor.connection, GUARDS)


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_snapshot_annotations")]

    operations = [migrations.RunPython(forwards, backwards)]
