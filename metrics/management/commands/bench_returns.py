"""Benchmark: preview and commit of large return files (``make bench``).

Builds a synthetic framework in the configured database (60 metrics x 43 areas x 20 categories + totals),
opens a round and times, for a 5,000-row file (the baseline) and a 50,000-row file: the preview
(parse, check, diff, rules and unusual-figure checks) and the commit (writing the return's values), then
the approval of the large return into approved data. Prints seconds, rows per second and the ratio of
the large file's time per row to the baseline's.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from accounts.models import Agency, Role, User
from frameworks.models import Framework
from metrics.catalogue.load import framework_load
from metrics.models import CollectionRound, ImportBatch, Observation, Return, ReturnValue
from metrics.returns.services import return_approve, round_open
from metrics.returns.uploads import upload_create, upload_write

PERIOD = dt.date(2024, 6, 30)


def synthetic_framework(metrics: int, areas: int, categories: int) -> str:
    lines = [
        "framework: {code: bench, name: Benchmark framework, home_area: area-00}",
        "agencies: [{code: bench-police, name: Bench police}]",
        "areas:",
    ]
    lines += [f"  - {{code: area-{i:02d}, name: Area {i:02d}, type: police_force_area}}" for i in range(areas)]
    cats = ", ".join(f"c{j:02d}" for j in range(categories))
    lines += [
        "breakdowns:",
        f"  - {{code: group, name: Group, categories: [{cats}]}}",
        "priorities:",
        "  - code: all",
        "    name: All",
        "    metrics:",
    ]
    area_list = ", ".join(f"area-{i:02d}" for i in range(areas))
    for m in range(metrics):
        lines.append(
            f"      - {{code: B{m:03d}, name: Bench metric {m}, agency: bench-police, unit: count, direction: neutral, "
            f"source_type: local_return, breakdowns: [group], areas: [{area_list}]}}"
        )
    return "\n".join(lines) + "\n"


def rows_csv(n: int, metrics: int, areas: int, categories: int) -> bytes:
    out = ["metric,area,period,breakdown,category,value,status"]
    count = 0
    for m in range(metrics):
        for a in range(areas):
            out.append(f"B{m:03d},area-{a:02d},2024-06-30,,,{(m + a) * categories * 10},provisional")
            count += 1
            for c in range(categories):
                if count >= n:
                    break
                out.append(f"B{m:03d},area-{a:02d},2024-06-30,group,c{c:02d},{(m + a) * 10 + c % 3},provisional")
                count += 1
            if count >= n:
                return ("\n".join(out) + "\n").encode()
    return ("\n".join(out) + "\n").encode()


class Command(BaseCommand):
    help = "Time the preview and commit of 5,000- and 50,000-row return files (creates a 'bench' framework)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--baseline-rows", type=int, default=5_000)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        settings.PCC_PERF_BACKGROUND_ROWS = 10**9  # time the work itself, in this process
        metrics, areas, categories = 60, 43, 20
        Framework.objects.update(is_current=False)
        framework = framework_load(text=synthetic_framework(metrics, areas, categories)).framework
        Framework.objects.filter(pk=framework.pk).update(is_current=True)
        agency = Agency.objects.get(code="bench-police")
        manager, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.PERFORMANCE_MANAGER})
        analyst, _ = User.objects.get_or_create(
            username="bench-analyst", defaults={"role": Role.ANALYST, "agency": agency}
        )
        vendor = connection.vendor
        self.stdout.write(
            f"database: {vendor}; framework: {metrics} metrics x {areas} areas x ({categories} categories + total)"
        )
        results = {}
        for label, n in (("baseline", options["baseline_rows"]), ("large", options["rows"])):
            Observation.objects.filter(metric__agency=agency).delete()
            ImportBatch.objects.filter(agency=agency).delete()
            ReturnValue.objects.filter(return_obj__agency=agency).delete()
            Return.objects.filter(agency=agency).delete()
            CollectionRound.objects.filter(period=PERIOD, returns__isnull=True).delete()
            round_ = CollectionRound.objects.filter(period=PERIOD).first() or round_open(
                actor=manager, framework=framework, period=PERIOD, due_date=PERIOD + dt.timedelta(days=30)
            )
            return_obj = Return.objects.get(round=round_, agency=agency)
            content = rows_csv(n, metrics, areas, categories)
            start = time.perf_counter()
            upload = upload_create(actor=analyst, return_obj=return_obj, filename=f"bench-{n}.csv", content=content)
            preview = time.perf_counter() - start
            assert not upload.summary["errors"], upload.summary["errors"][:3]
            start = time.perf_counter()
            upload_write(actor=analyst, upload=upload)
            commit = time.perf_counter() - start
            return_obj.refresh_from_db()
            return_obj.state = "submitted"
            return_obj.submitted_at = return_obj.updated_at
            return_obj.save()
            start = time.perf_counter()
            return_approve(actor=manager, return_obj=return_obj)
            approve = time.perf_counter() - start
            rows = upload.summary["rows_read"]
            results[label] = (rows, preview, commit, approve)
            self.stdout.write(
                f"{label:8} {rows:>7,} rows: preview {preview:6.2f} s ({rows / preview:>8,.0f} rows/s), "
                f"commit {commit:6.2f} s ({rows / commit:>8,.0f} rows/s), approve {approve:6.2f} s"
            )
        base_rows, base_preview, base_commit, _ = results["baseline"]
        big_rows, big_preview, big_commit, _ = results["large"]
        scale = big_rows / base_rows
        self.stdout.write(
            f"time per row, large / baseline: preview {big_preview / base_preview / scale:.2f}x, "
            f"commit {big_commit / base_commit / scale:.2f}x (1.00x = linear)"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"peak memory (max RSS): {peak:,.0f} MB")
