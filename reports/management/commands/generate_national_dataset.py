"""A national-scale synthetic dataset for benchmarks: 43 areas, 60 metrics, 40 quarters, an ethnicity
breakdown on 10 metrics (about 190,000 observations). Values are random (seeded), not statistics."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Agency
from frameworks.models import Area, BreakdownCategory, Framework
from metrics.catalogue.load import framework_load
from metrics.models import Metric, Observation, ObservationStatus, Unit
from metrics.quarters import Quarter


def framework_text(areas: int, metrics: int, broken_down: int) -> str:
    lines = [
        "framework: {code: national-bench, name: National-scale benchmark, home_area: bench-area-00, peer_group: bench-peers}",
        "agencies: [{code: bench-agency, name: Benchmark agency}]",
        "areas:",
        "  - {code: bench-england-wales, name: Benchmark England and Wales, type: national}",
    ]
    lines += [
        f"  - {{code: bench-area-{i:02d}, name: Bench area {i:02d}, type: police_force_area}}" for i in range(areas)
    ]
    lines += [
        "peer_groups:",
        "  - {code: bench-peers, name: Bench peers, members: ["
        + ", ".join(f"bench-area-{i:02d}" for i in range(8))
        + "]}",
        "breakdowns:",
        "  - {code: bench-ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian, mixed, other]}",
        "priorities:",
    ]
    for p in range(4):
        lines += [f"  - code: bench-p{p}", f"    name: Benchmark priority {p}", "    metrics:"]
        for m in range(p, metrics, 4):
            rate = m < broken_down
            lines.append(
                f"      - {{code: NB{m:03d}, name: Benchmark metric {m}, agency: bench-agency, "
                f"unit: {'rate_per_1000' if rate else 'count'}, direction: lower_is_better, source_type: local_return"
                f"{', breakdowns: [bench-ethnicity]' if rate else ''}}}"
            )
    return "\n".join(lines) + "\n"


def _final(metric: Metric, area: Area, period: dt.date, **figures: Any) -> Observation:
    """A final benchmark observation of ``metric`` for ``area`` and ``period``."""
    return Observation(
        metric=metric, area=area, period=period, unit=metric.unit, status=ObservationStatus.FINAL, **figures
    )


class Command(BaseCommand):
    help = "Create (or replace) a national-scale synthetic dataset for `make bench`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--areas", type=int, default=43)
        parser.add_argument("--metrics", type=int, default=60)
        parser.add_argument("--quarters", type=int, default=40)
        parser.add_argument("--broken-down", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(2024)  # noqa: S311 - benchmark data, not secrets
        framework = framework_load(
            text=framework_text(options["areas"], options["metrics"], options["broken_down"])
        ).framework
        Framework.objects.exclude(pk=framework.pk).update(is_current=False)
        Framework.objects.filter(pk=framework.pk).update(is_current=True)
        agency = Agency.objects.get(code="bench-agency")
        metrics = list(Metric.objects.filter(agency=agency))
        areas = list(Area.objects.filter(code__startswith="bench-"))
        categories = list(BreakdownCategory.objects.filter(breakdown__code="bench-ethnicity"))
        quarters = [Quarter(2014, 1).shift(i).end_date for i in range(options["quarters"])]
        with transaction.atomic():
            Observation.objects.filter(metric__agency=agency).delete()
            batch: list[Observation] = []
            for metric in metrics:
                for area in areas:
                    level = rng.uniform(500, 5000)
                    for q, period in enumerate(quarters):
                        value = max(0.0, level + rng.gauss(0, level * 0.05) + q * level * 0.002)
                        if metric.unit == Unit.RATE_PER_1000:
                            population = 1_000_000.0
                            count = round(value)
                            batch.append(
                                _final(
                                    metric,
                                    area,
                                    period,
                                    value=count / population * 1000,
                                    numerator=count,
                                    denominator=population,
                                )
                            )
                            for category in categories:
                                pop = rng.uniform(20_000, 800_000)
                                n = round(count * pop / population * rng.uniform(0.5, 3))
                                n = min(n, int(pop))
                                batch.append(
                                    _final(
                                        metric,
                                        area,
                                        period,
                                        category=category,
                                        value=n / pop * 1000,
                                        numerator=n,
                                        denominator=pop,
                                    )
                                )
                        else:
                            batch.append(_final(metric, area, period, value=round(value)))
                    if len(batch) > 20_000:
                        Observation.objects.bulk_create(batch, batch_size=5000)
                        batch = []
            Observation.objects.bulk_create(batch, batch_size=5000)
        self.stdout.write(
            f"national-scale dataset: {Observation.objects.filter(metric__agency=agency).count():,} observations"
        )
