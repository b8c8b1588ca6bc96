"""What was published stays as published: snapshots (with their observations, revisions and frozen framework
file) and a published report's content cannot be changed or deleted, through the ORM (a clear
ImmutableError) or with SQL (the database's triggers refuse), on SQLite and PostgreSQL alike."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Agency
from metrics.imports.commit import import_file
from reports.models import (  # ImmutableError: accounts.immutable's, raised by every refused write
    ImmutableError,
    Report,
    ReportFinding,
    ReportSection,
    ReportState,
    Snapshot,
    SnapshotObservation,
    SnapshotRevision,
)
from reports.narrative.services import report_create, report_edit, report_transition
from reports.snapshots.services import snapshot_publish

from ..metrics.returns_setup import HEADER, PERIOD

ROWS = HEADER + "".join(
    f"OFF01,staffordshire,{q},,,{v},,,final,\n"
    for q, v in [("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212), ("2024-06-30", 20800)]
)


@pytest.fixture
def snapshots(setup):
    """Two snapshots of the quarter, the second with one revised value."""
    police = Agency.objects.get(code="police")
    assert import_file(content=ROWS.encode(), filename="data.csv", agency=police).accepted
    first = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="no round")
    revised = HEADER + "OFF01,staffordshire,2023-12-31,,,20400,,,final,\n"
    assert import_file(content=revised.encode(), filename="rev.csv", agency=police).accepted
    second = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="again")
    assert second.revisions.count() == 1
    return {**setup, "first": first, "second": second}


def refused_by_the_database(sql, params=()):
    """Run ``sql``; return the database's error message (the triggers refuse with IntegrityError)."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def test_a_snapshot_is_published_whole_with_its_count(snapshots):
    first = Snapshot.objects.get(pk=snapshots["first"].pk)
    assert first.observation_count == 4 == first.observations.count()
    assert "OFF01" in first.framework_file


def test_the_orm_refuses_to_change_or_delete_a_snapshot(snapshots):
    snapshot = snapshots["first"]
    with pytest.raises(ImmutableError, match="published snapshot cannot be changed or deleted"):
        Snapshot.objects.filter(pk=snapshot.pk).update(reason="rewritten")
    with pytest.raises(ImmutableError):
        Snapshot.objects.update(framework_file="framework: {}")
    with pytest.raises(ImmutableError):
        Snapshot.objects.all().delete()
    snapshot.reason = "rewritten"
    with pytest.raises(ImmutableError):
        snapshot.save()
    with pytest.raises(ImmutableError):
        snapshot.delete()
    assert Snapshot.objects.get(pk=snapshot.pk).reason == "no round"


def test_the_orm_refuses_to_change_or_delete_snapshot_observations_and_revisions(snapshots):
    snapshot = snapshots["first"]
    obs = snapshot.observations.first()
    obs.value = 1
    with pytest.raises(ImmutableError, match="snapshot's observations cannot be changed"):
        obs.save()
    with pytest.raises(ImmutableError):
        obs.delete()
    with pytest.raises(ImmutableError):
        SnapshotObservation.objects.filter(snapshot=snapshot).update(value=0)
    with pytest.raises(ImmutableError):
        snapshot.observations.all().delete()
    with pytest.raises(ImmutableError):
        SnapshotObservation.objects.bulk_update([obs], ["value"])
    revision = snapshots["second"].revisions.get()
    with pytest.raises(ImmutableError, match="snapshot's revisions cannot be changed"):
        SnapshotRevision.objects.update(new_value=1)
    with pytest.raises(ImmutableError):
        revision.delete()
    assert sorted(snapshot.observations.values_list("value", flat=True)) == [20329, 20800, 21212, 21595]


def test_the_database_refuses_sql_that_changes_a_snapshot(snapshots):
    first, second = snapshots["first"], snapshots["second"]
    message = refused_by_the_database("UPDATE reports_snapshot SET reason = 'rewritten' WHERE id = %s", [first.pk])
    assert "A published snapshot cannot be changed or deleted." in message
    refused_by_the_database("UPDATE reports_snapshot SET framework_file = '' WHERE id = %s", [first.pk])
    refused_by_the_database("DELETE FROM reports_snapshot WHERE id = %s", [first.pk])
    message = refused_by_the_database("UPDATE reports_snapshotobservation SET value = 0")
    assert "observations cannot be changed" in message
    refused_by_the_database("DELETE FROM reports_snapshotobservation WHERE snapshot_id = %s", [first.pk])
    refused_by_the_database("UPDATE reports_snapshotrevision SET new_value = 0")
    refused_by_the_database("DELETE FROM reports_snapshotrevision WHERE snapshot_id = %s", [second.pk])
    assert Snapshot.objects.get(pk=first.pk).reason == "no round"
    assert SnapshotObservation.objects.filter(snapshot=first).count() == 4
    assert SnapshotRevision.objects.filter(snapshot=second).count() == 1


@pytest.fixture
def report(snapshots):
    report = report_create(actor=snapshots["manager"], snapshot=snapshots["first"])
    report = report_edit(actor=snapshots["manager"], report=report, version=0, changes={"summary": "Crime fell."})
    return report_transition(actor=snapshots["manager"], report=report, to=ReportState.IN_REVIEW)


def test_a_draft_report_may_change_and_be_published_then_nothing_changes(report, snapshots):
    # Before publication everything may change (and a report in review may go back to draft).
    Report.objects.filter(pk=report.pk).update(title="Quarterly report")
    ReportSection.objects.filter(report=report).update(narrative="Offending fell.")
    ReportFinding.objects.filter(section__report=report).update(text="Edited.")
    report = report_transition(actor=snapshots["manager"], report=report, to=ReportState.PUBLISHED, version=None)
    report = Report.objects.get(pk=report.pk)
    assert (report.state, report.title) == (ReportState.PUBLISHED, "Quarterly report")
    # Then the ORM refuses every change to it, its sections and findings.
    with pytest.raises(ImmutableError, match="published report cannot be changed"):
        Report.objects.filter(pk=report.pk).update(executive_summary="Rewritten.")
    with pytest.raises(ImmutableError):
        Report.objects.update(state=ReportState.DRAFT)
    report.title = "Rewritten"
    with pytest.raises(ImmutableError):
        report.save()
    with pytest.raises(ImmutableError):
        report.delete()
    section = ReportSection.objects.get(report=report)
    section.narrative = "Rewritten."
    with pytest.raises(ImmutableError, match="report's sections cannot be added, changed or deleted"):
        section.save()
    with pytest.raises(ImmutableError):
        ReportSection.objects.filter(report=report).delete()
    with pytest.raises(ImmutableError, match="report's findings"):
        ReportFinding.objects.filter(section__report=report).update(text="Rewritten.")
    with pytest.raises(ImmutableError):
        ReportFinding.objects.create(section=section, metric_id=section.findings.first().metric_id, text="x")
    report = Report.objects.get(pk=report.pk)
    assert (report.state, report.title, report.executive_summary) == (
        ReportState.PUBLISHED,
        "Quarterly report",
        "Crime fell.",
    )
    assert ReportSection.objects.get(report=report).narrative == "Offending fell."
    assert set(ReportFinding.objects.filter(section__report=report).values_list("text", flat=True)) == {"Edited."}


def test_the_database_refuses_sql_that_changes_a_published_report(report, snapshots):
    report_transition(actor=snapshots["manager"], report=report, to=ReportState.PUBLISHED)
    message = refused_by_the_database("UPDATE reports_report SET executive_summary = 'x' WHERE id = %s", [report.pk])
    assert "A published report cannot be changed or deleted." in message
    refused_by_the_database("UPDATE reports_report SET state = 'draft' WHERE id = %s", [report.pk])
    refused_by_the_database("DELETE FROM reports_report WHERE id = %s", [report.pk])
    refused_by_the_database("UPDATE reports_reportsection SET narrative = 'x' WHERE report_id = %s", [report.pk])
    refused_by_the_database("DELETE FROM reports_reportsection WHERE report_id = %s", [report.pk])
    refused_by_the_database("UPDATE reports_reportfinding SET text = 'x'")
    refused_by_the_database("DELETE FROM reports_reportfinding")
    assert Report.objects.get(pk=report.pk).executive_summary == "Crime fell."


def test_a_draft_report_may_still_be_deleted_with_its_sections(report):
    report_pk = report.pk
    Report.objects.get(pk=report_pk).delete()
    assert not ReportSection.objects.filter(report_id=report_pk).exists()
