"""Every selector a page reads fetches in a fixed number of queries: the same count with 3 metrics and 12
(Zulip's assert_database_query_count, at two data sizes)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.contacts import agency_contacts
from accounts.models import Agency, Role
from metrics.audit_trail import AuditFilters, audit_events, audit_lines
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.quarters import Quarter
from metrics.returns.selectors import (
    analyst_queue,
    history_for,
    last_reminders,
    owed_lines,
    returns_to_do_count,
    tracker,
)
from metrics.returns.services import round_open
from reports.dashboards.selectors import board_queue, manager_queue, overview, priorities_evidence
from reports.evidence.build import build_evidence
from reports.evidence.items import Part
from reports.evidence.sources import FigureSource
from reports.narrative.editions import edition
from reports.narrative.services import report_create
from reports.packs.build import build_pack_html
from reports.snapshots.services import readiness, snapshot_publish

from .factories import UserFactory

PERIOD = dt.date(2024, 3, 31)
AREAS = ["staffordshire", "derbyshire", "nottinghamshire"]
# Staffordshire's recorded crime by quarter, 2021/22 Q1 – 2023/24 Q4 (Home Office police recorded crime).
REAL = [23195, 23975, 24254, 22985, 23862, 24203, 23040, 21779, 22906, 22532, 21595, 20329]


def framework_text(n: int) -> str:
    metrics = "\n".join(
        f"          - {{code: M{i:02d}, name: Measure {i}, agency: police, unit: count, direction: lower_is_better, "
        f"source_type: official_statistics, breakdowns: [ethnicity]}}"
        for i in range(n)
    )
    return f"""
framework: {{code: qc, name: Query counts, home_area: staffordshire, peer_group: peers}}
agencies: [{{code: police, name: Police}}]
areas:
  - {{code: england-wales, name: England and Wales, type: national}}
  - {{code: staffordshire, name: Staffordshire, type: police_force_area}}
  - {{code: derbyshire, name: Derbyshire, type: police_force_area}}
  - {{code: nottinghamshire, name: Nottinghamshire, type: police_force_area}}
peer_groups:
  - {{code: peers, name: Peers, members: [staffordshire, derbyshire, nottinghamshire]}}
breakdowns:
  - {{code: ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian]}}
priorities:
  - code: all
    name: All
    metrics:
{metrics}
"""


def build_world(n: int, *, round_quarter: int) -> dict:
    framework = framework_load(text=framework_text(n)).framework
    police = Agency.objects.get(code="police")
    start = Quarter.from_end_date(PERIOD).shift(-(len(REAL) - 1))
    lines = ["metric,area,period,breakdown,category,value,numerator,denominator"]
    for i in range(n):
        for q, value in enumerate(REAL):
            label = start.shift(q).label
            for a, area in enumerate(AREAS):
                lines.append(f"M{i:02d},{area},{label},,,{value - 500 * a + 10 * i}")
            for cat, share in [("white", 0.8), ("black", 0.05), ("asian", 0.1)]:
                lines.append(f"M{i:02d},staffordshire,{label},ethnicity,{cat},{round(value * share)},,")
    summary = import_file(content=("\n".join(lines) + "\n").encode(), filename="qc.csv", agency=police)
    assert summary.accepted, summary.as_text()
    manager = UserFactory(username=f"manager{n}", role=Role.PERFORMANCE_MANAGER)
    round_open(
        actor=manager,
        framework=framework,
        period=Quarter.from_end_date(PERIOD).shift(round_quarter).end_date,
        due_date=dt.date(2025, 7, 31),
    )
    snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason="Test: no round")
    report = report_create(actor=manager, snapshot=snapshot)
    return {
        "framework": framework,
        "area": framework.home_area,
        "snapshot": snapshot,
        "report": report,
        "round": Quarter.from_end_date(PERIOD).shift(round_quarter).end_date,
        "manager": manager,
    }


def with_return_values(w: dict) -> None:
    """The earlier rounds closed (their returns approved); the police return of ``w``'s round with a total for
    each metric, the first a big change on the quarter before (a warning awaiting a comment); the report
    published with a board pack."""
    from django.utils import timezone

    from metrics.models import Return, ReturnState, ReturnValue
    from reports.models import BoardPack, PackState, ReportState
    from reports.narrative.services import report_transition

    Return.objects.exclude(round__period=w["round"]).update(state=ReturnState.APPROVED, submitted_at=timezone.now())
    ret = Return.objects.get(round__period=w["round"], agency__code="police")
    placements = w["framework"].placements.select_related("metric")
    ReturnValue.objects.bulk_create(
        ReturnValue(return_obj=ret, metric=p.metric, area=w["area"], value=20000 if i else 60000)
        for i, p in enumerate(placements)
    )
    manager = UserFactory(username=f"publisher{len(placements)}", role=Role.PERFORMANCE_MANAGER)
    report = report_transition(actor=manager, report=w["report"], to=ReportState.IN_REVIEW)
    w["report"] = report_transition(actor=manager, report=report, to=ReportState.PUBLISHED)
    BoardPack.objects.create(report=w["report"], state=PackState.READY, finished_at=timezone.now(), progress=100)
    # The trail names every value changed in the return and every figure revised (one event per metric).
    from accounts.audit import AuditAction, event
    from accounts.models import AuditEvent
    from metrics.models import Observation

    AuditEvent.objects.bulk_create(
        [
            *(
                event(
                    AuditAction.RETURN_VALUE_CHANGED,
                    actor_id=None,
                    obj=value,
                    summary="",
                    old={"value": 1.0, "numerator": None, "denominator": None, "missing": ""},
                    new={"value": value.value, "numerator": None, "denominator": None, "missing": ""},
                    return_id=ret.pk,
                    metric_code=value.metric.code,
                )
                for value in ReturnValue.objects.filter(return_obj=ret).select_related("metric")
            ),
            *(
                event(
                    AuditAction.OBSERVATION_REVISED,
                    actor_id=None,
                    obj=obs,
                    summary="",
                    old={"value": 1.0, "numerator": None, "denominator": None, "missing": ""},
                    new={"value": obs.value, "numerator": None, "denominator": None, "missing": ""},
                    metric_code=obs.metric.code,
                )
                for obs in Observation.objects.filter(
                    period=PERIOD, area=w["area"], category__isnull=False, metric__in=[p.metric for p in placements]
                ).select_related("metric")
            ),
        ]
    )


SELECTORS = {
    "overview": lambda w: overview(framework=w["framework"], area=w["area"]),
    "priorities_evidence": lambda w: priorities_evidence(framework=w["framework"], area=w["area"]),
    "evidence (all parts, snapshot)": lambda w: build_evidence(
        framework=w["framework"], area=w["area"], source=FigureSource(w["snapshot"]), parts=Part.ALL
    ),
    "board edition": lambda w: edition(report=w["report"], public=False),
    "public edition": lambda w: edition(report=w["report"], public=True),
    "pack html": lambda w: build_pack_html(report=w["report"], public=False, use_browser=False),
    "tracker": lambda w: tracker(framework=w["framework"]),
    "owed lines and history": lambda w: history_for(lines=owed_lines(framework=w["framework"]), period=PERIOD),
    "readiness": lambda w: readiness(period=w["round"]),
    "analyst queue": lambda w: analyst_queue(framework=w["framework"], agency=Agency.objects.get(code="police")),
    "manager queue": lambda w: manager_queue(),
    "board queue": lambda w: board_queue(),
    "navigation count": lambda w: returns_to_do_count(w["manager"]),
    "agency contacts": lambda w: agency_contacts(),
    "last reminders": lambda w: last_reminders(agency_ids=set(Agency.objects.values_list("pk", flat=True))),
    "audit trail page": lambda w: audit_lines(list(audit_events(filters=AuditFilters())[:500])),
}


def _count(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.django_db
def test_selectors_fetch_in_the_same_number_of_queries_for_3_and_12_metrics(django_db_blocker):
    small = build_world(3, round_quarter=1)
    with_return_values(small)
    counts_small = {name: _count(lambda select=select: select(small)) for name, select in SELECTORS.items()}
    from frameworks.models import Framework

    Framework.objects.filter(pk=small["framework"].pk).update(is_current=False)
    large = build_world(12, round_quarter=2)
    with_return_values(large)
    counts_large = {name: _count(lambda select=select: select(large)) for name, select in SELECTORS.items()}
    assert counts_small == counts_large
    queue = analyst_queue(framework=large["framework"], agency=Agency.objects.get(code="police"))
    assert [q.return_obj.round.period for q in queue.warnings] == [large["round"]]  # the checks really ran
    assert board_queue().pack is not None and len(manager_queue().packs) == 2
    assert all(count > 0 for count in counts_small.values())
    lines = audit_lines(list(audit_events(filters=AuditFilters())))
    assert "Measure 11 (M11) · Staffordshire · 2024/25 Q2" in {line.what for line in lines}  # names really resolved
    assert "Measure 11 (M11) · Staffordshire · 2023/24 Q4 · Ethnicity: Asian" in {line.what for line in lines}
