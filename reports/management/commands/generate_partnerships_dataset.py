"""Many partnerships on one installation, synthetic, for the scale benchmark (issue 18): N partnerships (LCJBs)
of 60 measures each on shared reference data. Values are random (seeded), not statistics.

Shared by all (loaded once): 44 areas (43 police force areas and the national one), an ethnicity breakdown,
one agency, and ``--shared`` official statistics (metrics with no partnership) observed for every area, the
first half broken down by ethnicity. Each partnership ``lcjb-NN`` has its own framework (the same code in
every partnership, as metric codes are), home area ``bench-area-NN`` and peer group (the next 8 areas), its
``60 - shared`` local measures (codes ``LM000``…, the same in every partnership, each partnership's own rows)
observed for its home area and peers, four collection rounds with a return each, a published snapshot of the
last ``--snapshot-quarters`` quarters and some audit events. Partnership ``lcjb-NN``'s rows are the same
whatever the number of partnerships (seeded by NN), so ``--partnerships 1 --first 21`` makes a
single-partnership database of exactly partnership lcjb-21's size and content: the benchmark's comparison.

Everything large is written set-based (``accounts.bulk.insert_rows``: COPY on PostgreSQL), in one transaction,
then ANALYZEd. Run it on a freshly migrated database (published snapshots and the audit trail cannot be
deleted, so it does not replace an earlier run)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.bulk import insert_rows
from accounts.models import Agency, AuditEvent, Partnership
from frameworks.models import Area, Breakdown, BreakdownCategory, Framework, PeerGroup, PeerGroupMembership, Priority
from metrics.models import (
    CollectionRound,
    FrameworkMetric,
    Metric,
    Observation,
    ObservationStatus,
    Return,
    ReturnState,
    Unit,
)
from metrics.quarters import Quarter
from reports.models import Snapshot, SnapshotObservation

FRAMEWORK_CODE = "bench-framework"
PEERS = 8
OBS_FIELDS = ("metric", "area", "period", "category", "unit", "value", "numerator", "denominator", "status")
OBS_CONSTANT = ("missing", "note", "illustrative", "updated_at")


def partnership_code(k: int) -> str:
    return f"lcjb-{k:02d}"


class Command(BaseCommand):
    help = "Create N synthetic partnerships of 60 measures each on shared reference data (fresh database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partnerships", type=int, default=42)
        parser.add_argument("--first", type=int, default=0, help="number of the first partnership (lcjb-NN)")
        parser.add_argument("--areas", type=int, default=43)
        parser.add_argument("--metrics", type=int, default=60, help="measures in each partnership's framework")
        parser.add_argument("--shared", type=int, default=10, help="of which shared official statistics")
        parser.add_argument("--quarters", type=int, default=40)
        parser.add_argument("--snapshot-quarters", type=int, default=8)
        parser.add_argument("--audit-events", type=int, default=200, help="audit events per partnership")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        first, count = options["first"], options["partnerships"]
        codes = [partnership_code(k) for k in range(first, first + count)]
        if Partnership.objects.filter(code__in=codes).exists() or Metric.objects.filter(code="OS000").exists():
            raise CommandError("benchmark partnerships already exist: run this on a freshly migrated database")
        if options["areas"] < PEERS + 1 or first + count > options["areas"]:
            raise CommandError(f"need --areas >= {PEERS + 1} and one home area per partnership")
        quarters = [Quarter(2014, 1).shift(i).end_date for i in range(options["quarters"])]
        now = timezone.now()
        with transaction.atomic():
            ref = self._reference(options["areas"], options["shared"], quarters, now)
            rows = ref["observations"]
            for k in range(first, first + count):
                rows += self._partnership(k, ref, options, quarters, now)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"{count} partnership(s) of {options['metrics']} measures ({options['shared']} shared official "
            f"statistics): {rows:,} observations written, {Observation.objects.count():,} in the database; "
            f"{time.perf_counter() - started:.1f} s"
        )

    # --- shared reference data ----------------------------------------------------------------------------
    def _reference(self, areas: int, shared: int, quarters: list[dt.date], now: dt.datetime) -> dict[str, Any]:
        agency, _ = Agency.objects.get_or_create(code="bench-agency", defaults={"name": "Benchmark agency"})
        national, _ = Area.objects.get_or_create(
            code="bench-england-wales", defaults={"name": "Benchmark England and Wales", "type": "national"}
        )
        area_list = [
            Area.objects.get_or_create(
                code=f"bench-area-{i:02d}",
                defaults={"name": f"Bench area {i:02d}", "type": "police_force_area", "population": 1_000_000},
            )[0]
            for i in range(areas)
        ]
        breakdown, _ = Breakdown.objects.get_or_create(code="bench-ethnicity", defaults={"name": "Ethnicity"})
        categories = [
            BreakdownCategory.objects.get_or_create(
                breakdown=breakdown, code=code, defaults={"name": code, "order": n}
            )[0]
            for n, code in enumerate(["white", "black", "asian", "mixed", "other"])
        ]
        if breakdown.reference_id is None:
            breakdown.reference = categories[0]
            breakdown.save(update_fields=["reference"])
        metrics = Metric.objects.bulk_create(
            [
                Metric(
                    code=f"OS{m:03d}",
                    partnership=None,
                    name=f"Official statistic {m}",
                    agency=agency,
                    unit=Unit.RATE_PER_1000 if m < shared // 2 else Unit.COUNT,
                    direction="lower_is_better",
                    source_type="official_statistic",
                    public=True,
                )
                for m in range(shared)
            ]
        )
        for metric in metrics:
            if metric.unit == Unit.RATE_PER_1000:
                metric.breakdowns.add(breakdown)
        rng = random.Random(2018)  # noqa: S311 - benchmark data, not secrets
        written = insert_rows(
            Observation,
            OBS_FIELDS + OBS_CONSTANT,
            _with(_series(rng, metrics, [national, *area_list], quarters, categories), ("", "", False, now)),
        )
        return {
            "agency": agency,
            "areas": area_list,
            "shared": metrics,
            "categories": categories,
            "observations": written,
        }

    # --- one partnership ----------------------------------------------------------------------------------
    def _partnership(
        self, k: int, ref: dict[str, Any], options: dict[str, Any], quarters: list[dt.date], now: dt.datetime
    ) -> int:
        rng = random.Random(2024 + k)  # noqa: S311 - benchmark data, not secrets
        areas: list[Area] = ref["areas"]
        code = partnership_code(k)
        partnership = Partnership.objects.create(code=code, name=f"Benchmark LCJB {k:02d}")
        home = areas[k]
        peers = [areas[(k + j) % len(areas)] for j in range(1, PEERS + 1)]
        group = PeerGroup.objects.create(code=f"bench-peers-{k:02d}", name=f"Peers of bench area {k:02d}")
        PeerGroupMembership.objects.bulk_create([PeerGroupMembership(peer_group=group, area=a) for a in [home, *peers]])
        framework = Framework.objects.create(
            code=FRAMEWORK_CODE,
            name=f"Benchmark framework of LCJB {k:02d}",
            partnership=partnership,
            home_area=home,
            peer_group=group,
            is_current=True,
        )
        priorities = Priority.objects.bulk_create(
            [
                Priority(framework=framework, code=f"bench-p{p}", name=f"Benchmark priority {p}", order=p)
                for p in range(4)
            ]
        )
        local = Metric.objects.bulk_create(
            [
                Metric(
                    code=f"LM{m:03d}",
                    partnership=partnership,
                    name=f"Local measure {m}",
                    agency=ref["agency"],
                    unit=Unit.COUNT,
                    direction="lower_is_better",
                    source_type="local_return",
                )
                for m in range(options["metrics"] - options["shared"])
            ]
        )
        placed = [*ref["shared"], *local]
        FrameworkMetric.objects.bulk_create(
            [
                FrameworkMetric(framework=framework, metric=m, priority=priorities[n % 4], order=n // 4)
                for n, m in enumerate(placed)
            ]
        )
        written = insert_rows(
            Observation,
            OBS_FIELDS + OBS_CONSTANT,
            _with(_series(rng, local, [home, *peers], quarters, []), ("", "", False, now)),
        )
        # Collection rounds for the last four quarters, a return each (the last one open).
        rounds = CollectionRound.objects.bulk_create(
            [
                CollectionRound(partnership=partnership, period=p, due_date=p + dt.timedelta(days=30), opened_at=now)
                for p in quarters[-4:]
            ]
        )
        Return.objects.bulk_create(
            [
                Return(
                    round=r,
                    agency=ref["agency"],
                    state=ReturnState.APPROVED if n < 3 else ReturnState.DRAFT,
                    version=1 if n < 3 else 0,
                    submitted_at=now if n < 3 else None,
                    first_submitted_at=now if n < 3 else None,
                    decided_at=now if n < 3 else None,
                )
                for n, r in enumerate(rounds)
            ]
        )
        # A published snapshot of the latest quarter: the last quarters of every placed measure for the home
        # area and its peers, copied from the observations in one INSERT … SELECT.
        last = quarters[-1]
        since = quarters[-options["snapshot_quarters"]]
        source = Observation.objects.filter(
            metric__in=placed, area__in=[home, *peers], period__gte=since, period__lte=last
        )
        snapshot = Snapshot.objects.create(
            framework=framework,
            period=last,
            framework_version=framework.version,
            framework_file=f"framework: {{code: {FRAMEWORK_CODE}, partnership: {code}}}\n",
            published_at=now,
            reason="Benchmark snapshot",
            observation_count=source.count(),
        )
        copied = (
            *("metric_id", "area_id", "period", "category_id", "unit", "value", "numerator", "denominator"),
            *("missing", "status", "note", "illustrative"),
        )
        sql, params = source.values_list(*copied).query.sql_with_params()
        cols = ", ".join(f'"{c}"' for c in copied)
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{SnapshotObservation._meta.db_table}" ("snapshot_id", {cols}) '  # noqa: S608
                f"SELECT %s, * FROM ({sql}) AS kept",
                [snapshot.pk, *params],
            )
        # Audit events of the partnership's work (approvals, publication), spread over the last year.
        actions = [AuditAction.RETURN_APPROVED, AuditAction.RETURN_SUBMITTED, AuditAction.SNAPSHOT_PUBLISHED]
        insert_rows(
            AuditEvent,
            (
                "at",
                "actor_username",
                "action",
                "object_type",
                "object_id",
                "summary",
                "reason",
                "metric_code",
                "partnership",
            ),
            (
                (
                    now - dt.timedelta(hours=n * 40),
                    "bench",
                    actions[n % 3].value,
                    "return",
                    str(rounds[n % 4].pk),
                    f"benchmark event {n}",
                    "",
                    "",
                    partnership.pk,
                )
                for n in range(options["audit_events"])
            ),
        )
        return written


def _series(
    rng: random.Random,
    metrics: list[Metric],
    areas: list[Area],
    quarters: list[dt.date],
    categories: list[BreakdownCategory],
) -> Iterator[tuple[Any, ...]]:
    """Observation rows (``OBS_FIELDS``) of ``metrics`` for ``areas`` over ``quarters``: a level per area with
    noise and a slight trend; rates with their numerator and denominator, and by ``categories`` when broken
    down."""
    final = ObservationStatus.FINAL.value
    for metric in metrics:
        for area in areas:
            level = rng.uniform(500, 5000)
            for q, period in enumerate(quarters):
                value = max(0.0, level + rng.gauss(0, level * 0.05) + q * level * 0.002)
                if metric.unit != Unit.RATE_PER_1000:
                    yield (metric.pk, area.pk, period, None, metric.unit, float(round(value)), None, None, final)
                    continue
                population, count = 1_000_000.0, round(value)
                yield (
                    metric.pk,
                    area.pk,
                    period,
                    None,
                    metric.unit,
                    count / population * 1000,
                    count,
                    population,
                    final,
                )
                for category in categories:
                    pop = rng.uniform(20_000, 800_000)
                    n = min(round(count * pop / population * rng.uniform(0.5, 3)), int(pop))
                    yield (metric.pk, area.pk, period, category.pk, metric.unit, n / pop * 1000, n, pop, final)


def _with(rows: Any, constant: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield (*row, *constant)
