"""Board pack build time and peak memory (``make bench``): the current framework's latest snapshot,
published and reported on here if need be."""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Role, User
from frameworks.selectors import current_framework
from reports.models import Report
from reports.narrative.services import report_create
from reports.packs.build import build_pack_html, build_pack_pdf
from reports.snapshots.services import snapshot_publish


class Command(BaseCommand):
    help = "Time building the board pack of the current framework's latest quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--label", default="pack")

    def handle(self, *args: Any, **options: Any) -> None:
        framework = current_framework()
        assert framework is not None
        actor, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.PERFORMANCE_MANAGER})
        report = Report.objects.filter(snapshot__framework=framework).order_by("-snapshot__period").first()
        if report is None:
            from metrics.models import Observation

            period = (
                Observation.objects.filter(area=framework.home_area)
                .order_by("-period")
                .values_list("period", flat=True)
                .first()
            )
            assert period is not None
            snapshot = snapshot_publish(actor=actor, framework=framework, period=period, reason="benchmark")
            report = report_create(actor=actor, snapshot=snapshot)
        html = build_pack_html(report=report, public=False, use_browser=False)
        charts = html.count("Chart not drawn")
        start = time.perf_counter()
        pdf = build_pack_pdf(report=report, public=False)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        build_pack_pdf(report=report, public=False, use_browser=False)
        tables = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"{options['label']}: {charts} charts, {len(pdf) / 1024:,.0f} KB PDF; build {elapsed:.1f} s "
            f"({(elapsed - tables) / max(charts, 1):.2f} s a chart over the tables-only build of {tables:.1f} s); "
            f"peak memory (max RSS of this process, browser excluded) {rss:,.0f} MB"
        )
