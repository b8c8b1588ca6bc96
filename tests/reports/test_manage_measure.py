"""Managing a measure from its page: record a rebase (or accept a suggested one) and remove it; add, change and
remove notes; each audited, rebases written back to the framework file; only the performance manager."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from metrics.models import Rebase
from reports.annotations import AnnotationError, annotation_add, annotation_change, annotation_remove
from reports.models import Annotation, AnnotationKind

from .test_dashboards import START, build


@pytest.fixture
def measure(db):
    framework, area, (metric,) = build(1)
    return framework, area, metric


@pytest.fixture
def manager(client, users):
    client.force_login(users["performance_manager"])
    return client


def test_the_metric_page_offers_management_to_the_manager_only(client, users, measure):
    _, _, metric = measure
    url = reverse("dashboard-metric", args=[metric.code])
    client.force_login(users["performance_manager"])
    html = client.get(url).content.decode()
    assert "Manage this measure" in html
    assert reverse("metric-rebase-new", args=[metric.code]) in html
    assert reverse("metric-note-new", args=[metric.code]) in html
    client.force_login(users["board_member"])
    assert "Manage this measure" not in client.get(url).content.decode()


def test_recording_a_rebase_from_the_form_splits_the_limits_and_is_written_back(manager, users, measure):
    framework, _, metric = measure
    form = manager.get(reverse("metric-rebase-new", args=[metric.code]) + f"?period={START.shift(4).end_date}")
    html = form.content.decode()
    assert f'<option value="{START.shift(4).end_date}" selected>' in html  # the suggested quarter, chosen
    version = framework.versions.count()
    response = manager.post(
        reverse("metric-rebase-new", args=[metric.code]),
        {"period": START.shift(4).end_date.isoformat(), "reason": "New recording system"},
        follow=True,
    )
    page = response.content.decode()
    assert f"Rebased from {START.shift(4).label}" in page
    assert f'<th scope="row">{START.shift(4).label}</th><td>New recording system</td>' in page
    rebase = Rebase.objects.get(metric=metric)
    assert rebase.period == START.shift(4).end_date
    assert framework.versions.count() == version + 1
    assert "New recording system" in framework.versions.first().content
    event = AuditEvent.objects.get(action=AuditAction.REBASE_RECORDED)
    assert (event.metric_code, event.actor) == (metric.code, users["performance_manager"])


def test_a_rebase_form_with_errors_says_what_is_wrong_on_each_field(manager, measure):
    _, _, metric = measure
    Rebase.objects.create(metric=metric, period=START.shift(4).end_date, reason="Old")
    html = manager.post(
        reverse("metric-rebase-new", args=[metric.code]), {"period": START.shift(4).end_date.isoformat(), "reason": ""}
    ).content.decode()
    assert "<title>Error: Record a rebase" in html
    assert 'href="#id_reason"' in html
    assert "Give the reason for the rebase" in html and "This field is required." not in html
    html = manager.post(
        reverse("metric-rebase-new", args=[metric.code]), {"period": START.shift(4).end_date.isoformat(), "reason": "x"}
    ).content.decode()
    assert f"already rebased from {START.shift(4).label}" in html and 'href="#id_period"' in html
    html = manager.post(
        reverse("metric-rebase-new", args=[metric.code]), {"period": "2001-03-31", "reason": "x"}
    ).content.decode()
    assert "Select a valid choice" in html
    assert Rebase.objects.count() == 1


def test_removing_a_rebase_asks_first_then_removes_it_audited_and_written_back(manager, measure):
    framework, _, metric = measure
    rebase = Rebase.objects.create(metric=metric, period=START.shift(4).end_date, reason="Recount")
    url = reverse("metric-rebase-remove", args=[rebase.pk])
    assert f"Remove the rebase from {START.shift(4).label}?" in manager.get(url).content.decode()
    assert Rebase.objects.exists()
    manager.post(url)
    assert not Rebase.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.REBASE_REMOVED)
    assert event.old == {"period": START.shift(4).end_date.isoformat(), "reason": "Recount"}
    assert "Recount" not in framework.versions.first().content


def test_notes_are_added_changed_and_removed_audited(users, measure):
    _, area, metric = measure
    manager = users["performance_manager"]
    note = annotation_add(actor=manager, metric=metric, period=START.shift(2).end_date, text="  New unit  ", area=area)
    assert (note.text, note.created_by, note.kind) == ("New unit", manager, AnnotationKind.CONTEXT)
    annotation_change(
        actor=manager,
        annotation_id=note.pk,
        period=note.period,
        text="Outage",
        kind=AnnotationKind.DATA_ISSUE,
        area=None,
    )
    note.refresh_from_db()
    assert (note.text, note.kind, note.area) == ("Outage", AnnotationKind.DATA_ISSUE, None)
    changed = AuditEvent.objects.get(action=AuditAction.ANNOTATION_CHANGED)
    assert changed.old == {"area": area.code, "kind": "context", "text": "New unit"}
    assert changed.new == {"area": None, "kind": "data_issue", "text": "Outage"}
    annotation_remove(actor=manager, annotation_id=note.pk)
    assert not Annotation.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.ANNOTATION_ADDED, AuditAction.ANNOTATION_CHANGED, AuditAction.ANNOTATION_REMOVED]
    assert set(AuditEvent.objects.values_list("metric_code", flat=True)) == {metric.code}
    with pytest.raises(AnnotationError, match="Write the note"):
        annotation_add(actor=manager, metric=metric, period=note.period, text=" ")
    with pytest.raises(PermissionDenied):
        annotation_add(actor=users["analyst"], metric=metric, period=note.period, text="x")


def test_notes_from_the_metric_page_show_on_it(manager, measure):
    _, _, metric = measure
    manager.post(
        reverse("metric-note-new", args=[metric.code]),
        {"period": START.shift(3).end_date.isoformat(), "area": "", "kind": "data_issue", "text": "System outage"},
    )
    note = Annotation.objects.get()
    page = manager.get(reverse("dashboard-metric", args=[metric.code])).content.decode()
    assert "Data issue: System outage" in page
    assert reverse("metric-note-edit", args=[note.pk]) in page
    edit = manager.get(reverse("metric-note-edit", args=[note.pk])).content.decode()
    assert 'value="System outage"' in edit
    manager.post(
        reverse("metric-note-edit", args=[note.pk]),
        {"period": START.shift(3).end_date.isoformat(), "area": "", "kind": "context", "text": "Outage fixed"},
    )
    assert Annotation.objects.get().text == "Outage fixed"
    html = manager.post(
        reverse("metric-note-edit", args=[note.pk]), {"period": "", "kind": "context", "text": ""}
    ).content.decode()
    assert "There is a problem" in html and 'href="#id_text"' in html
    manager.post(reverse("metric-note-remove", args=[note.pk]))
    assert not Annotation.objects.exists()


def test_an_empty_note_form_names_each_missing_field(manager, measure):
    """The error summary said "This field is required." with no field named."""
    _, _, metric = measure
    html = manager.post(reverse("metric-note-new", args=[metric.code]), {"text": ""}).content.decode()
    assert "This field is required." not in html
    for message in ("Choose the quarter the note is about", "Choose the kind of note", "Write the note"):
        assert message in html
