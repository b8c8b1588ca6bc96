"""The evidence builder's prepared reads (``reports.evidence.reads``) give exactly what the ORM gives: the
same evidence built in a partnership's scope (the kept SQL, as every page, command and task reads) and
outside any scope (each read built and run by the ORM), on the demo's real published figures, for every
kind of source and output, twice over (the second time from SQL already kept)."""

import dataclasses
import datetime as dt
import math
from typing import Any

import pytest
from django.db.models import Model

from accounts.partnerships import default_partnership
from accounts.tenancy import partnership_scope
from frameworks.models import Area, BreakdownCategory
from frameworks.selectors import current_framework
from metrics.models import Metric, Rebase
from reports.dashboards.common import metric_or_404
from reports.dashboards.selectors import fairness_periods, overview, periods_with_data, selectable_areas
from reports.evidence.build import attach_rebases, build_evidence, fairness_metrics, metric_evidence, placements_of
from reports.evidence.items import Part
from reports.evidence.sources import LIVE, FigureSource
from reports.models import Annotation

from .test_evidence import QUARTER
from .test_evidence import world as world  # the fixture: the demo's figures, a snapshot


@pytest.fixture
def noted(world):
    """An annotation for every area and one for the home area, and a rebase, so each read has rows."""
    off01 = Metric.objects.get(code="OFF01")
    Annotation.objects.create(metric=off01, area=None, period=dt.date(2020, 6, 30), text="Lockdown")
    Annotation.objects.create(metric=off01, area=world["home"], period=dt.date(2022, 3, 31), text="New system")
    Rebase.objects.create(metric=off01, period=dt.date(2021, 3, 31), reason="Recording change")
    return world


def _plain(value: Any, seen: frozenset[int] = frozenset()) -> Any:
    """Evidence as plain values to compare: rows by class and id, every field of every dataclass (a
    disproportionality's trend holds itself: marked, not followed), a missing float as text."""
    if isinstance(value, Model):
        return (type(value).__name__, value.pk)
    if isinstance(value, FigureSource):
        return ("source", value.snapshot_id)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if id(value) in seen:
            return "<itself>"
        inner = seen | {id(value)}
        return (type(value).__name__, *(_plain(getattr(value, f.name), inner) for f in dataclasses.fields(value)))
    if isinstance(value, (list, tuple)):
        return [_plain(v, seen) for v in value]
    if isinstance(value, dict):
        return sorted((repr(k), _plain(v, seen)) for k, v in value.items())
    return value


def _both(build):
    """``build()`` outside any scope (the ORM), then in the default partnership's scope twice (compiled, then
    kept): what the ORM built, and the three as plain values."""
    built = build()
    with partnership_scope(default_partnership()):
        first, kept = _plain(build()), _plain(build())
    return built, _plain(built), first, kept


def _fresh(metrics):
    """The metrics without what an earlier build attached (rebases are kept per partnership)."""
    return list(Metric.objects.filter(pk__in=[m.pk for m in metrics]).order_by("code"))


@pytest.mark.parametrize("public", [False, True])
@pytest.mark.parametrize("snapshot", [False, True])
def test_the_evidence_is_the_same_from_kept_sql(noted, public, snapshot):
    framework, home = noted["framework"], noted["home"]
    source = FigureSource(noted["snapshot"]) if snapshot else LIVE
    metrics = list(Metric.objects.order_by("code"))

    def build():
        return build_evidence(
            framework=framework, area=home, metrics=_fresh(metrics), source=source, parts=Part.ALL, public=public
        )

    built, plain, first, kept = _both(build)
    assert plain == first == kept
    by_code = {e.metric.code: e for e in built}
    # Every read had rows to give: series, peers, annotations, rebases, breakdowns and disproportionality.
    assert by_code["OFF01"].series and by_code["OFF01"].peers
    assert by_code["FAIR01"].breakdowns and by_code["FAIR01"].fairness
    if not snapshot:  # (a snapshot shows the notes and limits it froze: none)
        assert [n.text for n in by_code["OFF01"].annotations] == ["Lockdown", "New system"]
        assert by_code["OFF01"].rebases == [(dt.date(2021, 3, 31), "Recording change")]


def test_a_quarter_a_category_and_another_area_read_the_same(noted):
    framework, home = noted["framework"], noted["home"]
    fair, off01 = Metric.objects.get(code="FAIR01"), Metric.objects.get(code="OFF01")
    category = BreakdownCategory.objects.filter(breakdown__in=fair.breakdowns.all()).order_by("pk").first()
    other = Area.objects.exclude(pk=home.pk).filter(code="england-wales").get()

    def build():
        return (
            build_evidence(framework=framework, area=home, metrics=_fresh([off01]), period=dt.date(2022, 3, 31)),
            build_evidence(framework=framework, area=home, metrics=_fresh([fair]), category=category),
            build_evidence(framework=framework, area=other, metrics=_fresh(Metric.objects.all()), parts=Part.ALL),
            metric_evidence(framework=framework, metric=_fresh([fair])[0], area=home),
        )

    built, plain, first, kept = _both(build)
    assert plain == first == kept
    assert built[0][0].latest.period == dt.date(2022, 3, 31) and built[1][0].category == category
    assert built[1][0].series and built[3].fairness


def test_the_pages_reads_are_the_same(noted):
    framework, home = noted["framework"], noted["home"]

    def build():
        placements = placements_of(framework=framework)
        attach_rebases(p.metric for p in placements)
        return (
            [(p.pk, p.metric.code, p.priority.code) for p in placements],
            periods_with_data(area=home),
            periods_with_data(area=home, source=FigureSource(noted["snapshot"])),
            overview(framework=framework, area=home, period=QUARTER),
            overview(framework=framework, area=home, priority="offending"),
            fairness_periods(placements=fairness_metrics(framework=framework), area=home),
            metric_or_404("FAIR01", framework=framework, snapshot=noted["snapshot"]),
            current_framework(),
            selectable_areas(),
        )

    built, plain, first, kept = _both(build)
    assert plain == first == kept
    assert built[1][0] == QUARTER and built[3].tiles and {p.code for p, _ in built[4].priorities} == {"offending"}
    assert built[5] and built[6].code == "FAIR01" and built[7] == framework and built[8]
