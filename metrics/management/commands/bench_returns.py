"""Benchmark: preview, commit and approval of large return files (``make bench``).

Builds a synthetic framework in the configured database (enough metrics x 43 areas x 20 categories + totals
for the largest file), opens a round and times, for a 5,000-row file (the baseline), a 50,000-row file and a
200,000-row file: the preview (parse, check, diff, rules and unusual-figure checks), the commit (writing the
return's values) and the approval of the return into approved data. Each is printed in seconds and as a
ratio against a floor measured in the same run: a bare set-based insert of the same number of rows (COPY on
PostgreSQL, executemany on SQLite) into a scratch table with the return values' columns, so the figures
compare across a noisy machine. Then the time per row of the larger files against the baseline's (1.00x =
linear) and the 50,000-row target (preview + commit ≤ 3 s).
"""

from __future__ import annotations

import datetime as dt
import math
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from accounts.bulk import analyze_task, insert_rows
from accounts.models import Agency, Role, User
from frameworks.models import Area, Framework
from metrics.catalogue.load import framework_load
from metrics.models import CollectionRound, ImportBatch, Metric, Observation, Return, ReturnValue
from metrics.returns.services import return_approve, round_open
from metrics.returns.uploads import upload_create, upload_write
from metrics.returns.values import VALUE_INSERT_FIELDS

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


def floor_seconds(return_obj: Return, metric_id: int, area_id: int, n: int) -> float:
    """A bare set-based insert of ``n`` return-value rows into a scratch table (no indexes, constraints or
    triggers), timed: the floor the import's figures are measured against."""
    now = dt.datetime.now(dt.UTC)
    fixed = (return_obj.pk, metric_id, area_id, None, "count")
    rows = [
        (*fixed, float(i), None, None, "", "provisional", "", False, "", "bench.csv", i, now, None) for i in range(n)
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute("CREATE TABLE bench_floor AS SELECT * FROM metrics_returnvalue WHERE 1 = 0")
    start = time.perf_counter()
    with transaction.atomic():
        insert_rows(ReturnValue, VALUE_INSERT_FIELDS, rows, table="bench_floor")
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return seconds


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
    help = (
        "Time the preview, commit and approval of 5,000-, 50,000- and 200,000-row return files against a bare "
        "insert of as many rows (creates a 'bench' framework)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--large-rows", type=int, default=200_000)
        parser.add_argument("--baseline-rows", type=int, default=5_000)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        settings.PCC_PERF_BACKGROUND_ROWS = 10**9  # time the work itself, in this process
        sizes = [("baseline", options["baseline_rows"]), ("target", options["rows"]), ("large", options["large_rows"])]
        sizes = [(label, n) for label, n in sizes if n > 0]
        areas, categories = 43, 20
        metrics = max(60, math.ceil(max(n for _, n in sizes) / (areas * (categories + 1))))
        Framework.objects.update(is_current=False)
        framework = framework_load(text=synthetic_framework(metrics, areas, categories)).framework
        Framework.objects.filter(pk=framework.pk).update(is_current=True)
        agency = Agency.objects.get(code="bench-police")
        manager, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.PERFORMANCE_MANAGER})
        analyst, _ = User.objects.get_or_create(
            username="bench-analyst", defaults={"role": Role.ANALYST, "agency": agency}
        )
        metric_id = Metric.objects.filter(agency=agency).values_list("pk", flat=True)[0]
        area_id = Area.objects.values_list("pk", flat=True)[0]
        vendor = connection.vendor
        self.stdout.write(
            f"database: {vendor}; framework: {metrics} metrics x {areas} areas x ({categories} categories + total); "
            "floor: a bare "
            + ("COPY" if vendor == "postgresql" else "executemany")
            + " of as many rows into a scratch table, same run"
        )
        results = {}
        for label, n in sizes:
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
            floor = floor_seconds(return_obj, metric_id, area_id, n)
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
            results[label] = (rows, preview, commit, approve, floor)
            worker = ""
            if vendor == "postgresql" and rows >= settings.PCC_PERF_ANALYZE_ROWS:
                start = time.perf_counter()
                analyze_task.call(["metrics_returnvalue", "metrics_observation", "frameworks_auditevent"])
                worker = f"; the worker's ANALYZE afterwards {time.perf_counter() - start:.2f} s"
            self.stdout.write(
                f"{label:8} {rows:>7,} rows: floor {floor:5.2f} s; preview {preview:6.2f} s ({preview / floor:5.1f}x), "
                f"commit {commit:6.2f} s ({commit / floor:5.1f}x), approve {approve:6.2f} s ({approve / floor:5.1f}x); "
                f"preview + commit {preview + commit:6.2f} s ({(preview + commit) / floor:5.1f}x floor), "
                f"{rows / (preview + commit):>8,.0f} rows/s{worker}"
            )
        if "baseline" in results:
            base_rows, base_preview, base_commit, base_approve, _ = results["baseline"]
            for label in ("target", "large"):
                if label not in results:
                    continue
                rows, preview, commit, approve, _ = results[label]
                scale = rows / base_rows
                self.stdout.write(
                    f"time per row, {label} / baseline: preview {preview / base_preview / scale:.2f}x, "
                    f"commit {commit / base_commit / scale:.2f}x, approve {approve / base_approve / scale:.2f}x "
                    "(1.00x = linear)"
                )
        if "target" in results and "large" in results:
            rows_a, *times_a = results["target"]
            rows_b, *times_b = results["large"]
            per = [(b / a) / (rows_b / rows_a) for a, b in zip(times_a, times_b, strict=True)]
            self.stdout.write(
                f"time per row, large / target: preview {per[0]:.2f}x, commit {per[1]:.2f}x, approve {per[2]:.2f}x, "
                f"floor {per[3]:.2f}x (1.00x = linear)"
            )
        if "target" in results:
            rows, preview, commit, _, floor = results["target"]
            verdict = "met" if preview + commit <= 3 else "NOT met"
            self.stdout.write(
                f"target: {rows:,}-row preview + commit {preview + commit:.2f} s <= 3 s: {verdict} "
                f"({(preview + commit) / floor:.1f}x this run's floor of {floor:.2f} s)"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"peak memory (max RSS): {peak:,.0f} MB")
