"""One partnership among many against a single-partnership installation of the same size (issue 18, point 5).

Two PostgreSQL databases on the server of ``DATABASE_URL``, made by ``generate_partnerships_dataset``:
``--many`` with 42 partnerships, ``--single`` with only the partnership benchmarked (``--partnerships 1
--first 21``: the same rows). In the same run, on the same connection settings, the two take turns (``--rounds``
rounds of ``--repeat`` requests per page and database, so a busy machine weighs on both alike): the overview
and API series calls of that partnership, as a board member of it only, with DEBUG off and the page cache off
(each request builds the page). Prints each page's median server time in both databases and the ratio (target
<= 1.2x), the query counts (the same in both), and the same SQL replayed bare in each database (the SQL's own
share of any difference) and the Python CPU time per request (steadier than wall time on a busy machine). Then the query plans (EXPLAIN) of the scoped reads in the large database: metrics in
scope, the current framework, rounds, snapshots, audit events, and the observations of the partnership's
measures, which have no partnership column and are reached through their metric's id."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.test import Client

from accounts.models import AuditEvent, Membership, Partnership, Role, User
from accounts.tenancy import partnership_scope
from frameworks.selectors import current_framework
from metrics.models import CollectionRound, FrameworkMetric, Metric, Observation
from reports.models import Snapshot

from .bench_pages import _bare_round_trip

Queries = list[tuple[str, Any, bool]]


class Command(BaseCommand):
    help = "Overview and API server times of one partnership among 42 against a single-partnership database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--many", default="pcc_perf_scale42", help="database with many partnerships")
        parser.add_argument("--single", default="pcc_perf_scale1", help="database with only the one benchmarked")
        parser.add_argument("--partnership", default="lcjb-21")
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("PostgreSQL only: two databases on the server of DATABASE_URL")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        settings.PAGE_CACHE_SECONDS = 0  # every request builds and renders the page
        code = options["partnership"]
        dbs = {"single": options["single"], "many": options["many"]}
        pages: dict[str, str] = {}
        clients: dict[str, Client] = {}
        counts: dict[str, dict[str, int]] = {}
        captured: dict[str, dict[str, Queries]] = {}
        for label, name in dbs.items():
            _use(name)
            partnership = Partnership.objects.filter(code=code).first()
            if partnership is None:
                raise CommandError(f"no partnership {code} in database {name}: run generate_partnerships_dataset")
            framework = current_framework(partnership=partnership)
            assert framework is not None
            if not pages:
                home = framework.home_area.code
                local = (
                    FrameworkMetric.objects.filter(framework=framework, metric__partnership=partnership)
                    .order_by("metric__code")
                    .values_list("metric__code", flat=True)
                    .first()
                )
                shared = (
                    FrameworkMetric.objects.filter(framework=framework, metric__partnership__isnull=True)
                    .order_by("metric__code")
                    .values_list("metric__code", flat=True)
                    .first()
                )
                pages = {
                    "overview (60 measures)": "/dashboard/",
                    f"API series, local measure {local}": f"/api/v1/series/?metric={local}&area={home}",
                    f"API series, shared statistic {shared}": f"/api/v1/series/?metric={shared}&area={home}",
                }
            clients[label] = _board_member(partnership)
            counts[label], captured[label] = {}, {}
            for page, url in pages.items():
                response = clients[label].get(url, secure=True)
                assert response.status_code == 200, (name, url, response.status_code)
                queries: Queries = []
                with connection.execute_wrapper(_recorder(queries)):
                    clients[label].get(url, secure=True)
                counts[label][page], captured[label][page] = len(queries), queries
        observations = {}
        for label, name in dbs.items():
            _use(name)
            observations[label] = Observation.objects.count()
        self.stdout.write(
            f"partnership {code}: single-partnership database {dbs['single']} ({observations['single']:,} "
            f"observations) against {dbs['many']} ({Partnership.objects.count() - 1} partnerships, "
            f"{observations['many']:,} observations); {options['rounds']} rounds x {options['repeat']} requests "
            "per page and database, taking turns; DEBUG off, page cache off"
        )
        times: dict[str, dict[str, list[float]]] = {label: {page: [] for page in pages} for label in dbs}
        cpu: dict[str, dict[str, list[float]]] = {label: {page: [] for page in pages} for label in dbs}
        floors: dict[str, dict[str, list[float]]] = {label: {page: [] for page in pages} for label in dbs}
        for _ in range(options["rounds"]):
            for label, name in dbs.items():
                _use(name)
                for page, url in pages.items():
                    clients[label].get(url, secure=True)  # warm the new connection
                    for _ in range(options["repeat"]):
                        start, start_cpu = time.perf_counter(), time.process_time()
                        clients[label].get(url, secure=True)
                        times[label][page].append((time.perf_counter() - start) * 1000)
                        cpu[label][page].append((time.process_time() - start_cpu) * 1000)
                    floors[label][page].append(_bare_round_trip(captured[label][page], repeat=options["repeat"]))
        for page in pages:
            single, many = (statistics.median(times[label][page]) for label in dbs)
            sql_single, sql_many = (statistics.median(floors[label][page]) for label in dbs)
            cpu_single, cpu_many = (statistics.median(cpu[label][page]) for label in dbs)
            ratio = many / single
            self.stdout.write(
                f"{page:38} single {single:7.1f} ms, 42 partnerships {many:7.1f} ms: ratio {ratio:4.2f}x "
                f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'}); queries {counts['single'][page]} / "
                f"{counts['many'][page]}; its SQL bare {sql_single:5.1f} / {sql_many:5.1f} ms "
                f"(ratio {sql_many / sql_single:4.2f}x); Python CPU {cpu_single:5.1f} / {cpu_many:5.1f} ms"
            )
        self.stdout.write("queries at least 2 ms slower among 42 partnerships (each run bare, median of 5):")
        for page in pages:
            bare: dict[str, list[float]] = {}
            for label, name in dbs.items():
                _use(name)
                bare[label] = [_bare_round_trip([q], repeat=5) for q in captured[label][page]]
            if len(bare["single"]) != len(bare["many"]):
                self.stdout.write(f"  {page}: not compared (different query counts)")
                continue
            for (sql, _, _), one, many in zip(captured["many"][page], bare["single"], bare["many"], strict=True):
                if many - one >= 2:
                    self.stdout.write(f"  {page}: {one:5.1f} -> {many:5.1f} ms  {sql[:150]}")
        _use(dbs["many"])
        partnership = Partnership.objects.get(code=code)
        self._plans(partnership, captured["many"])

    def _plans(self, partnership: Partnership, captured: dict[str, Queries]) -> None:
        """EXPLAIN of the scoped reads, in the database of many partnerships: the plan's nodes and indexes."""
        with partnership_scope(partnership):
            framework = current_framework()
            assert framework is not None
            placed = FrameworkMetric.objects.filter(framework=framework).values("metric_id")
            reads: dict[str, Any] = {
                "metrics in scope": Metric.objects.in_scope().only("id", "code"),
                "current framework": _framework_query(partnership),
                "collection rounds": CollectionRound.objects.in_scope().order_by("-period"),
                "snapshots": Snapshot.objects.in_scope().order_by("-period", "-number").only("id", "period"),
                "audit events (newest 50)": AuditEvent.objects.filter(partnership=partnership).order_by("-at")[:50],
                "observations of the measures in the framework, home area": Observation.objects.filter(
                    metric_id__in=placed, area_id=framework.home_area_id
                ),
            }
            self.stdout.write("\nquery plans in the database of many partnerships (EXPLAIN ANALYZE):")
            for label, queryset in reads.items():
                plan = queryset.explain(analyze=True)
                self.stdout.write(f"-- {label}: {_summary(plan)}")
                if "Seq Scan" in plan:  # a table of a few hundred rows is read whole: the index it has
                    with connection.cursor() as cursor:
                        cursor.execute("SET enable_seqscan = off")
                        try:
                            forced = _summary(queryset.explain())
                        finally:
                            cursor.execute("RESET enable_seqscan")
                    self.stdout.write(
                        f"   (a small table, read whole; the index it has, with sequential scans off: {forced})"
                    )
                for line in plan.splitlines():
                    self.stdout.write(f"     {line}")
        self.stdout.write("\nevery query of each page (EXPLAIN: the scans it plans):")
        with connection.cursor() as cursor:
            for page, queries in captured.items():
                self.stdout.write(f"-- {page}")
                for sql, params, many in queries:
                    if many or not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    cursor.execute(f"EXPLAIN {sql}", params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    tables = sorted(set(re.findall(r'FROM "(\w+)"', sql)))
                    self.stdout.write(f"     {', '.join(tables)[:70]:70} {_summary(plan)}")


def _framework_query(partnership: Partnership) -> Any:
    from frameworks.models import Framework

    return Framework.objects.filter(is_current=True, partnership=partnership).order_by("-updated_at", "code")[:1]


def _summary(plan: str) -> str:
    """The scans a plan makes: each index it uses, and each table it reads whole."""
    indexes = re.findall(r"Index(?: Only)? Scan(?: Backward)? using (\w+) on (\w+)", plan)
    bitmaps = re.findall(r"Bitmap Index Scan on (\w+)", plan)
    seqs = re.findall(r"Seq Scan on (\w+)", plan)
    parts = [f"index {i} ({t})" for i, t in indexes] + [f"bitmap {i}" for i in bitmaps]
    parts += [f"SEQ SCAN {t}" for t in seqs]
    return "; ".join(dict.fromkeys(parts)) or plan.splitlines()[0]


def _use(name: str) -> None:
    """Point the default connection at database ``name`` (same server and user); process caches forgotten."""
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name
    ContentType.objects.clear_cache()
    cache.clear()


def _recorder(queries: Queries) -> Callable[..., Any]:
    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append((sql, params, many))
        return execute(sql, params, many, context)

    return record


def _board_member(partnership: Partnership) -> Client:
    """A client logged in as a board member of ``partnership`` only (a Membership, no default-partnership
    role)."""
    user, _ = User.objects.get_or_create(username=f"bench-{partnership.code}")
    Membership.objects.get_or_create(user=user, partnership=partnership, defaults={"role": Role.BOARD_MEMBER})
    client = Client()
    client.force_login(user)
    return client
