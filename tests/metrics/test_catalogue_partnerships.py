"""Two partnerships on one installation (issue 18): the catalogue, imports, the audit trail, rebases and notes.

The default partnership (``A``, Staffordshire) and ``B`` (West Mercia) load the same framework file: their own
metrics (EFF02, FAIR01) are two metrics each, the official statistic EFF01 is one shared metric. A shared
definition another partnership uses changes only with the host; a partnership's own code never equals a
shared one; an import works in its partnership's codes; each partnership's trail, rebases and notes are its own.
"""

import datetime as dt

import pytest
import yaml
from django.urls import reverse

from accounts.audit import AuditAction, record
from accounts.models import AuditEvent, Membership, Partnership, Role
from accounts.partnerships import default_partnership
from accounts.tenancy import partnership_scope
from frameworks.models import Framework
from metrics.audit_trail import AuditFilters, audit_events
from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.imports.commit import import_file
from metrics.models import FrameworkMetric, ImportBatch, Metric, Observation, Rebase
from metrics.rebases import rebase_remove
from reports.annotations import annotation_add, annotation_remove
from reports.models import Annotation

from ..factories import UserFactory
from .test_catalogue import SMALL

pytestmark = pytest.mark.django_db

HEADER = "metric,area,period,breakdown,category,value,numerator,denominator\n"


def for_partnership(text: str, code: str) -> str:
    return text.replace("home_area: staffordshire,", f"home_area: staffordshire, partnership: {code},", 1)


@pytest.fixture
def two():
    """A (the default partnership) and B, each with the SMALL framework and a performance manager."""
    a = default_partnership()
    b = Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    framework_load(text=SMALL)
    framework_load(text=for_partnership(SMALL, b.code))
    manager_a = UserFactory(username="manager-a", role=Role.PERFORMANCE_MANAGER)
    manager_b = UserFactory(username="manager-b", role="")
    Membership.objects.create(partnership=b, user=manager_b, role=Role.PERFORMANCE_MANAGER)
    return {
        "a": a,
        "b": b,
        "fw_a": Framework.objects.get(partnership=a),
        "fw_b": Framework.objects.get(partnership=b),
        "manager_a": manager_a,
        "manager_b": manager_b,
    }


# --- the catalogue ---------------------------------------------------------------------------------------
def test_the_same_local_code_in_both_is_two_metrics_and_the_official_statistic_is_one_shared(two):
    eff02 = Metric.objects.filter(code="EFF02")
    assert sorted(eff02.values_list("partnership__code", flat=True)) == ["default", "west-mercia"]
    assert Metric.objects.filter(code="FAIR01").count() == 2
    shared = Metric.objects.get(code="EFF01")
    assert shared.partnership_id is None
    placed_by = set(
        FrameworkMetric.objects.filter(metric=shared).values_list("framework__partnership__code", flat=True)
    )
    assert placed_by == {"default", "west-mercia"}
    # Each partnership's framework places its own local metrics.
    for key in ("a", "b"):
        fw = two[f"fw_{key}"]
        local = Metric.objects.get(code="EFF02", partnership=two[key])
        assert FrameworkMetric.objects.filter(framework=fw, metric=local).exists()
    # in_scope(): a partnership sees its own metrics and the shared one, never the other's.
    assert sorted(Metric.objects.in_scope(two["b"]).values_list("code", "partnership__code")) == [
        ("EFF01", None),
        ("EFF02", "west-mercia"),
        ("FAIR01", "west-mercia"),
    ]


def test_loading_each_file_again_changes_nothing_and_each_exports_its_own_framework(two):
    for key, text in (("a", SMALL), ("b", for_partnership(SMALL, "west-mercia"))):
        assert not framework_load(text=text).changed
        exported = framework_export(code="lcjb-2024", partnership=two[key])
        assert yaml.safe_load(exported)["framework"].get("partnership") == (None if key == "a" else "west-mercia")
    with partnership_scope(two["b"]):  # the current partnership's framework when none is named
        assert framework_export(code="lcjb-2024") == framework_export(code="lcjb-2024", partnership=two["b"])


def test_rebases_of_a_shared_metric_are_each_partnerships_own(two):
    shared = Metric.objects.get(code="EFF01")
    assert sorted(Rebase.objects.filter(metric=shared).values_list("partnership__code", flat=True)) == [
        "default",
        "west-mercia",
    ]
    # B drops its rebase of EFF01: A's stays, in A's file too.
    text_b = for_partnership(SMALL, "west-mercia").replace(
        'rebases: [{period: 2020-06-30, reason: "COVID"}]', "rebases: []"
    )
    framework_load(text=text_b)
    assert list(Rebase.objects.filter(metric=shared).values_list("partnership__code", flat=True)) == ["default"]
    exported_a = yaml.safe_load(framework_export(code="lcjb-2024", partnership=two["a"]))
    exported_b = yaml.safe_load(framework_export(code="lcjb-2024", partnership=two["b"]))
    assert exported_a["priorities"][0]["metrics"][0]["spc"]["rebases"] == [{"period": "2020-06-30", "reason": "COVID"}]
    assert exported_b["priorities"][0]["metrics"][0]["spc"]["rebases"] == []


def test_a_shared_definition_another_partnership_uses_is_not_changed_by_a_partnership(two):
    changed = (
        for_partnership(SMALL, "west-mercia")
        .replace("name: Crown Court outstanding caseload", "name: Crown Court backlog")
        .replace('caveats: "National only"', 'caveats: "Ours"')
    )
    events = AuditEvent.objects.count()
    with pytest.raises(FrameworkFileError) as caught:
        framework_load(text=changed, actor=two["manager_b"], partnership=two["b"])
    (error,) = caught.value.errors
    assert error.startswith("priorities[0].metrics[0]: 'EFF01' is a shared official statistic that another")
    assert "name, caveats differ from the shared definition" in error
    # Nothing written: not the shared metric, not B's own metrics, no event.
    assert Metric.objects.get(code="EFF01").name == "Crown Court outstanding caseload"
    assert AuditEvent.objects.count() == events
    # The host (a superuser, a command) changes it, for every partnership that uses it.
    host = UserFactory(username="host", is_superuser=True)
    assert framework_load(text=changed, actor=host).changed
    assert Metric.objects.get(code="EFF01").name == "Crown Court backlog"


def test_a_shared_definition_no_other_partnership_uses_changes_with_the_partnership():
    framework_load(text=SMALL)
    Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    manager = UserFactory(username="manager-a", role=Role.PERFORMANCE_MANAGER)
    changed = SMALL.replace("name: Crown Court outstanding caseload", "name: Crown Court backlog")
    assert framework_load(text=changed, actor=manager).changed
    assert Metric.objects.get(code="EFF01").name == "Crown Court backlog"


def test_a_partnerships_own_code_equal_to_a_shared_code_is_refused(two):
    own = for_partnership(SMALL, "west-mercia").replace(
        "source_type: official_statistics", "source_type: management_information", 1
    )
    with pytest.raises(FrameworkFileError) as caught:
        framework_load(text=own, actor=two["manager_b"])
    assert caught.value.errors == [
        "priorities[0].metrics[0].code: 'EFF01' is the code of a shared official statistic that another "
        "partnership's framework uses; a partnership's own metric needs a code of its own (or give source_type "
        "official_statistics to use the shared one)"
    ]
    assert Metric.objects.get(code="EFF01").partnership_id is None


def test_a_shared_statistic_cannot_take_another_partnerships_own_code(two):
    text = for_partnership(SMALL, "west-mercia").replace(
        "source_type: management_information", "source_type: official_statistics", 1
    )  # EFF02, A's own (and B's own) code, declared an official statistic
    with pytest.raises(FrameworkFileError) as caught:
        framework_load(text=text)
    assert caught.value.errors == [
        "priorities[0].metrics[1].code: 'EFF02' is another partnership's own metric code; a shared official "
        "statistic needs a code no partnership uses for its own metrics"
    ]


def test_a_single_partnership_may_still_change_a_metrics_source_type_both_ways():
    framework_load(text=SMALL)
    to_local = SMALL.replace("source_type: official_statistics", "source_type: management_information", 1)
    result = framework_load(text=to_local)
    assert "updated partnership of metric EFF01" in result.changes
    assert Metric.objects.get(code="EFF01").partnership == default_partnership()
    framework_load(text=SMALL)
    assert Metric.objects.get(code="EFF01").partnership_id is None


def test_a_file_for_another_partnership_is_refused_where_the_caller_works(two):
    with pytest.raises(FrameworkFileError) as caught:
        framework_load(text=for_partnership(SMALL, "west-mercia"), actor=two["manager_a"], partnership=two["a"])
    assert caught.value.errors == [
        "framework.partnership: the file is for partnership 'west-mercia', not 'default' (the partnership you "
        "are working in); load it there"
    ]
    # A file that names none loads into the partnership the caller works in.
    result = framework_load(text=SMALL.replace("lcjb-2024", "lcjb-2025", 1), partnership=two["b"])
    assert result.framework.partnership == two["b"]


def test_the_framework_page_loads_into_the_current_partnership(client, two):
    client.force_login(two["manager_b"])
    response = client.get(reverse("manage-framework-download"), {"partnership": "west-mercia"})
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["framework"]["partnership"] == "west-mercia"


# --- imports ---------------------------------------------------------------------------------------------
def test_an_import_into_a_cannot_touch_bs_metrics(two):
    cps = two["fw_a"].placements.get(metric__code="EFF02").metric.agency
    only_b = Metric.objects.create(
        code="WM01", name="West Mercia only", agency=cps, unit="count", direction="neutral", partnership=two["b"]
    )
    rows = HEADER + "EFF02,staffordshire,2024-03-31,,,75,,\nWM01,staffordshire,2024-03-31,,,5,,\n"
    summary = import_file(content=rows.encode(), filename="a.csv", agency=cps)  # in A (no scope: the default)
    assert not summary.accepted
    assert [str(e) for e in summary.errors] == ["row 3, column metric: unknown metric 'WM01'"]
    assert not Observation.objects.filter(metric=only_b).exists()
    # The same code in each: A's import writes A's EFF02, never B's.
    summary = import_file(
        content=(HEADER + "EFF02,staffordshire,2024-03-31,,,75,,\n").encode(), filename="a.csv", agency=cps
    )
    assert summary.accepted
    assert list(
        Observation.objects.filter(metric__code="EFF02").values_list("metric__partnership__code", flat=True)
    ) == ["default"]
    # The host's load (a command: no actor): its batch is nobody's, so figures of shared statistics in it
    # would be everyone's (a partnership's own measures are its own whatever the batch).
    assert ImportBatch.objects.get(pk=summary.batch_id).partnership is None
    with partnership_scope(two["b"]):
        summary = import_file(
            content=(HEADER + "EFF02,staffordshire,2024-03-31,,,60,,\n").encode(), filename="b.csv", agency=cps
        )
    assert summary.accepted and summary.created == 1
    assert sorted(
        Observation.objects.filter(metric__code="EFF02").values_list("metric__partnership__code", "value")
    ) == [
        ("default", 75.0),
        ("west-mercia", 60.0),
    ]
    assert (
        AuditEvent.objects.get(object_type="metrics.importbatch", object_id=str(summary.batch_id)).partnership
        == two["b"]
    )


def test_figures_of_a_shared_statistic_another_partnership_uses_are_the_hosts_to_load(two):
    police = two["fw_a"].placements.get(metric__code="EFF01").metric.agency
    rows = (HEADER + "EFF01,staffordshire,2024-03-31,,,1200,,\n").encode()
    summary = import_file(content=rows, filename="a.csv", agency=police, actor=two["manager_a"])
    assert not summary.accepted
    assert [str(e) for e in summary.errors] == [
        "row 2, column metric: metric 'EFF01' is a shared official statistic another partnership's framework "
        "uses: only the host loads its figures"
    ]
    assert not Observation.objects.exists()
    # The host (a command: no actor) loads them; the batch is shared (the host's figures are everyone's).
    summary = import_file(content=rows, filename="host.csv", agency=police)
    assert summary.accepted
    assert ImportBatch.objects.get(pk=summary.batch_id).partnership is None


def test_a_partnership_loads_the_figures_of_a_shared_statistic_no_other_partnership_uses():
    framework_load(text=SMALL)
    Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    manager = UserFactory(username="manager-a", role=Role.PERFORMANCE_MANAGER)
    police = Metric.objects.get(code="EFF01").agency
    rows = (HEADER + "EFF01,staffordshire,2024-03-31,,,1200,,\n").encode()
    assert import_file(content=rows, filename="a.csv", agency=police, actor=manager).accepted


# --- the audit trail -------------------------------------------------------------------------------------
def test_the_audit_trail_of_a_shows_none_of_bs_events(client, two):
    b_events = set(AuditEvent.objects.filter(partnership=two["b"]).values_list("pk", flat=True))
    assert b_events  # B's framework file was audited in B
    old = AuditEvent.objects.create(action=AuditAction.FRAMEWORK_FILE_UPDATED, object_type="x", object_id="1")
    assert old.partnership_id is None  # before partnerships
    a_trail = set(audit_events(filters=AuditFilters(), partnership=two["a"]).values_list("pk", flat=True))
    b_trail = set(audit_events(filters=AuditFilters(), partnership=two["b"]).values_list("pk", flat=True))
    assert not a_trail & b_events and old.pk in a_trail
    assert b_trail == b_events  # not A's, not the events from before partnerships
    host_b = set(audit_events(filters=AuditFilters(), partnership=two["b"], host=True).values_list("pk", flat=True))
    assert host_b == b_events | {old.pk}

    with partnership_scope(two["b"]):
        record(AuditAction.FRAMEWORK_FILE_UPDATED, actor=two["manager_b"], obj=two["fw_b"], summary="B's secret change")
    client.force_login(two["manager_a"])
    page = client.get(reverse("audit")).content.decode()
    assert "B&#x27;s secret change" not in page and "B's secret change" not in page
    assert "manager-b" not in page  # nor B's people in the filter
    csv = client.get(reverse("audit"), {"format": "csv"}).content.decode()
    assert "secret change" not in csv
    client.force_login(two["manager_b"])
    page = client.get(reverse("audit"), {"partnership": "west-mercia"}).content.decode()
    assert "B&#x27;s secret change" in page or "B's secret change" in page


# --- rebases and notes -----------------------------------------------------------------------------------
@pytest.fixture
def bs_rebase_and_note(two):
    shared = Metric.objects.get(code="EFF01")
    rebase = Rebase.objects.get(metric=shared, partnership=two["b"])
    with partnership_scope(two["b"]):
        note = annotation_add(actor=two["manager_b"], metric=shared, period=dt.date(2024, 3, 31), text="B's note")
    assert note.partnership == two["b"]
    return rebase, note


def test_rebase_and_note_ids_of_b_are_404_for_as_manager(client, two, bs_rebase_and_note):
    rebase, note = bs_rebase_and_note
    client.force_login(two["manager_a"])
    for name, pk in (
        ("metric-rebase-remove", rebase.pk),
        ("metric-note-edit", note.pk),
        ("metric-note-remove", note.pk),
    ):
        url = reverse(name, args=[pk])
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"text": "x", "kind": "context", "period": "2024-03-31"}).status_code == 404, url
    assert Rebase.objects.filter(pk=rebase.pk).exists()
    assert Annotation.objects.get(pk=note.pk).text == "B's note"
    # B's own manager, in B, reaches them.
    client.force_login(two["manager_b"])
    url = reverse("metric-note-edit", args=[note.pk])
    assert client.get(url, {"partnership": "west-mercia"}).status_code == 200


def test_bs_local_metric_is_404_on_as_manage_pages(client, two):
    cps = Metric.objects.get(code="EFF02", partnership=two["a"]).agency
    Metric.objects.create(
        code="WM01", name="West Mercia only", agency=cps, unit="count", direction="neutral", partnership=two["b"]
    )
    client.force_login(two["manager_a"])
    assert client.get(reverse("metric-rebase-new", args=["WM01"])).status_code == 404
    assert client.get(reverse("metric-note-new", args=["WM01"])).status_code == 404


def test_the_services_do_not_find_another_partnerships_rebase_or_note(two, bs_rebase_and_note):
    rebase, note = bs_rebase_and_note
    with pytest.raises(Rebase.DoesNotExist):
        rebase_remove(actor=two["manager_a"], framework=two["fw_a"], rebase_id=rebase.pk)
    with pytest.raises(Annotation.DoesNotExist):
        annotation_remove(actor=two["manager_a"], annotation_id=note.pk)
    assert Rebase.objects.filter(pk=rebase.pk).exists() and Annotation.objects.filter(pk=note.pk).exists()
