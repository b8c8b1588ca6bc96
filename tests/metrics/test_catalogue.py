import textwrap

import pytest
import yaml

from accounts.models import Agency, AuditEvent
from frameworks.models import Area, Breakdown, Framework, FrameworkVersion, PeerGroup, Priority
from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.models import Metric, Rebase

from ..conftest import FIXTURES

SMALL = textwrap.dedent(
    """
    framework: {code: lcjb-2024, name: "LCJB Performance Framework 2024/25", home_area: staffordshire, peer_group: msg-staffordshire}
    agencies:
      - {code: police, name: Staffordshire Police}
      - {code: cps, name: CPS West Midlands}
    areas:
      - {code: west-midlands, name: West Midlands, type: region, ons_code: E12000005}
      - {code: staffordshire, name: Staffordshire, type: police_force_area, ons_code: E23000015, parent: west-midlands}
      - {code: derbyshire, name: Derbyshire, type: police_force_area, ons_code: E23000018}
      - {code: nottinghamshire, name: Nottinghamshire, type: police_force_area}
    peer_groups:
      - {code: msg-staffordshire, name: Most similar group, members: [staffordshire, derbyshire, {area: nottinghamshire, from: 2023-04-01}]}
    breakdowns:
      - {code: ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian, mixed, other]}
    priorities:
      - code: efficiency
        name: Efficiency
        metrics:
          - code: EFF01
            name: Crown Court outstanding caseload
            agency: police
            unit: count
            direction: lower_is_better
            source_type: official_statistics
            basis: quarter
            breakdowns: []
            description: "Cases waiting"
            caveats: "National only"
            spc: {screen_outliers: true, run_length: 7, trend_length: 7, rebases: [{period: 2020-06-30, reason: "COVID"}]}
          - code: EFF02
            name: Conviction rate
            agency: cps
            unit: percentage
            direction: higher_is_better
            source_type: management_information
      - code: fairness
        name: Fairness
        metrics:
          - code: FAIR01
            name: Stop and search rate
            agency: police
            unit: rate_per_1000
            direction: neutral
            source_type: management_information
            breakdowns: [ethnicity]
            spc: {run_length: 6, rebases: [{period: "2023/24 Q1", reason: "New recording system"}]}
    """
)


def counts():
    return (
        Agency.objects.count(),
        Area.objects.count(),
        Metric.objects.count(),
        Priority.objects.count(),
        PeerGroup.objects.count(),
        Breakdown.objects.count(),
        AuditEvent.objects.count(),
        Framework.objects.count(),
    )


@pytest.mark.django_db
def test_load_creates_everything_it_names():
    result = framework_load(text=SMALL)
    fw = result.framework
    assert fw.code == "lcjb-2024" and fw.version == 1
    assert fw.home_area.code == "staffordshire"
    assert Area.objects.get(code="staffordshire").parent.code == "west-midlands"
    assert [p.code for p in fw.priorities.order_by("order")] == ["efficiency", "fairness"]
    eff01 = Metric.objects.get(code="EFF01")
    assert (eff01.unit, eff01.direction, eff01.agency.code, eff01.caveats) == (
        "count",
        "lower_is_better",
        "police",
        "National only",
    )
    fair01 = Metric.objects.get(code="FAIR01")
    assert fair01.spc_run_length == 6 and fair01.spc_trend_length == 7 and fair01.spc_screen_outliers
    assert [b.code for b in fair01.breakdowns.all()] == ["ethnicity"]
    assert Rebase.objects.get(metric=fair01).period.isoformat() == "2023-06-30"
    assert Breakdown.objects.get(code="ethnicity").reference.code == "white"
    memberships = {(m.area.code, m.valid_from) for m in PeerGroup.objects.get().memberships.all()}
    assert ("nottinghamshire", __import__("datetime").date(2023, 4, 1)) in memberships
    assert FrameworkVersion.objects.filter(framework=fw).count() == 1
    assert AuditEvent.objects.filter(action="framework_file.created").count() == result.created


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    framework_load(text=SMALL)
    before = counts()
    result = framework_load(text=SMALL)
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)
    assert not result.changed
    assert counts() == before
    assert Framework.objects.get().version == 1


@pytest.mark.django_db
def test_export_then_load_gives_back_the_same_framework():
    framework_load(text=SMALL)
    exported = framework_export(code="lcjb-2024")
    doc = yaml.safe_load(exported)
    assert doc["framework"]["peer_group"] == "msg-staffordshire"
    assert doc["priorities"][1]["metrics"][0]["spc"]["run_length"] == 6
    result = framework_load(text=exported)
    assert not result.changed
    assert framework_export(code="lcjb-2024") == exported


@pytest.mark.django_db
def test_export_loads_into_an_empty_database():
    framework_load(text=SMALL)
    exported = framework_export(code="lcjb-2024")
    Framework.objects.all().delete()
    Metric.objects.all().delete()
    PeerGroup.objects.all().delete()
    Breakdown.objects.all().delete()
    Area.objects.update(parent=None)
    Area.objects.all().delete()
    Agency.objects.all().delete()
    framework_load(text=exported)
    assert framework_export(code="lcjb-2024") == exported


@pytest.mark.django_db
def test_a_change_is_a_new_version_with_an_audit_trail():
    framework_load(text=SMALL)
    changed = SMALL.replace("name: Crown Court outstanding caseload", "name: Crown Court backlog")
    changed = changed.replace("[white, black, asian, mixed, other]", "[white, black, asian, mixed, other, unknown]")
    result = framework_load(text=changed)
    assert result.updated >= 1 and result.created == 1
    fw = Framework.objects.get()
    assert fw.version == 2
    assert list(fw.versions.values_list("version", flat=True)) == [2, 1]
    event = AuditEvent.objects.get(action="framework_file.updated", summary="metric EFF01")
    assert event.old == {"name": "Crown Court outstanding caseload"}
    assert event.new == {"name": "Crown Court backlog"}


@pytest.mark.django_db
def test_removing_a_metric_from_the_file_removes_its_place_not_its_definition():
    framework_load(text=SMALL)
    without = SMALL.split("  - code: fairness")[0]
    result = framework_load(text=without)
    assert result.deleted == 2, result.changes  # the place of FAIR01 and the fairness priority
    assert Metric.objects.filter(code="FAIR01").exists()
    assert not Priority.objects.filter(code="fairness").exists()


def replace_unit(text, old, new):
    return text.replace(old, new, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("unit: rate_per_1000", "unit: per cent"),
            "priorities[1].metrics[0].unit: 'per cent' is not one of count, percentage, rate_per_1000, "
            "rate_per_100000, days, ratio",
        ),
        (("direction: neutral", "direction: up"), "priorities[1].metrics[0].direction: 'up' is not one of"),
        (("basis: quarter", "basis: monthly"), "priorities[0].metrics[0].basis: 'monthly' is not one of"),
        (("agency: cps", "agency: probation"), "priorities[0].metrics[1].agency: unknown agency 'probation'"),
        (
            ("breakdowns: [ethnicity]", "breakdowns: [age]"),
            "priorities[1].metrics[0].breakdowns[0]: unknown breakdown 'age'",
        ),
        (("home_area: staffordshire", "home_area: stafford"), "framework.home_area: unknown area 'stafford'"),
        (("parent: west-midlands", "parent: midlands"), "areas[1].parent: unknown area 'midlands'"),
        (("members: [staffordshire,", "members: [stoke,"), "peer_groups[0].members[0]: unknown area 'stoke'"),
        (
            ("run_length: 6", "run_length: seven"),
            "priorities[1].metrics[0].spc.run_length: 'seven' is not a whole number",
        ),
        (
            ("screen_outliers: true", "screen_outliers: maybe"),
            "priorities[0].metrics[0].spc.screen_outliers: 'maybe' is not true or false",
        ),
        (
            ("period: 2020-06-30", "period: 2020-05-31"),
            "priorities[0].metrics[0].spc.rebases[0].period: 2020-05-31 is not a quarter end date",
        ),
        (("reference: white", "reference: green"), "breakdowns[0].reference: 'green' is not one of its categories"),
        (("type: region", "type: county"), "areas[0].type: 'county' is not one of"),
        (("ons_code: E12000005", "ons_code: WM"), "areas[0].ons_code: 'WM' is not an ONS code"),
        (("    name: Efficiency\n", "    name: Efficiency\n    colour: red\n"), "priorities[0].colour: unknown key"),
        (('caveats: "National', 'caveat: "National'), "priorities[0].metrics[0].caveat: unknown key"),
        (("code: EFF02", "code: EFF01"), "priorities[0].metrics[1].code: metric 'EFF01' appears twice"),
        (("code: FAIR01", "code: 'bad code'"), "priorities[1].metrics[0].code: 'bad code' is not a code"),
        (("  - code: efficiency\n    name: Efficiency\n", "  - code: efficiency\n"), "priorities[0].name: is required"),
        (("framework: {", "frame: {"), "frame: unknown key"),
    ],
)
def test_errors_name_their_key_path_and_write_nothing(change, expected):
    before = counts()
    with pytest.raises(FrameworkFileError) as excinfo:
        framework_load(text=SMALL.replace(*change, 1))
    assert any(error.startswith(expected) for error in excinfo.value.errors), excinfo.value.errors
    assert counts() == before


@pytest.mark.django_db
def test_every_error_is_reported_at_once():
    bad = SMALL.replace("unit: count", "unit: pounds").replace("direction: neutral", "direction: sideways")
    with pytest.raises(FrameworkFileError) as excinfo:
        framework_load(text=bad)
    assert len(excinfo.value.errors) == 2


@pytest.mark.django_db
def test_not_yaml():
    with pytest.raises(FrameworkFileError, match="line 2, column"):
        framework_load(text="framework: {code: x\npriorities: [")


@pytest.mark.django_db
def test_a_failure_in_the_database_rolls_back_everything():
    framework_load(text=SMALL)
    looped = SMALL.replace(
        "{code: west-midlands, name: West Midlands, type: region, ons_code: E12000005}",
        "{code: west-midlands, name: West Midlands, type: region, ons_code: E12000005, parent: staffordshire}",
    ).replace("name: Crown Court outstanding caseload", "name: Renamed")
    before = counts()
    with pytest.raises(FrameworkFileError, match="its own ancestor"):
        framework_load(text=looped)
    assert counts() == before
    assert Metric.objects.get(code="EFF01").name == "Crown Court outstanding caseload"


@pytest.mark.django_db
def test_the_demo_framework_loads():
    result = framework_load(text=(FIXTURES / "demo_framework.yaml").read_text())
    fw = result.framework
    assert [p.name for p in fw.priorities.order_by("order")] == [
        "Fairness",
        "Efficiency",
        "Victims and witnesses",
        "Offending",
    ]
    assert fw.placements.count() >= 20
    assert Area.objects.filter(type="police_force_area").count() == 43
    assert "ILLUSTRATIVE" in fw.peer_group.description
