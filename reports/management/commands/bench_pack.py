"""Board pack build time and peak memory (``make bench``): the current framework's latest snapshot,
published and reported on here if need be.

Printed against floors measured in the same run (the machine is shared and noisy): the same pack with its
charts as tables (WeasyPrint and the evidence, no browser), and one bare kaleido batch (Chromium started,
one chart drawn, closed). Memory is the peak of the summed resident memory of this process and every
process under it (kaleido's Chromium and its renderers), sampled every 20 ms: shared pages are counted once
per process, so the figure errs high. The libraries are imported first, as the task worker does when it
starts (``db_worker``), and their import time printed apart."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Role, User
from frameworks.selectors import current_framework
from reports.models import Report
from reports.narrative.services import report_create
from reports.snapshots.services import snapshot_publish

TARGET_SECONDS = 10
TARGET_MB = 1500


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (psutil if installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return _proc_tree_rss(root)
    try:
        top = psutil.Process(root)
        total = 0
        for proc in [top, *top.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # ended between the listing and the read
                total += proc.memory_info().rss
        return int(total)
    except psutil.Error:
        return 0


def _proc_tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # after "pid (comm) state"
        children.setdefault(ppid, []).append(int(entry.name))
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    return total


class PeakTreeMemory:
    """``with PeakTreeMemory() as peak: …`` then ``peak.mb``: the highest summed RSS of this process tree."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-pack-memory", daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss_bytes(os.getpid()))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> PeakTreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(os.getpid()))

    @property
    def mb(self) -> float:
        return self.peak / 1024 / 1024


def timed(work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = work()
    return out, time.perf_counter() - start


class Command(BaseCommand):
    help = "Time building the board pack of the current framework's latest quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--label", default="pack")

    def handle(self, *args: Any, **options: Any) -> None:
        from reports.management.commands.db_worker import warm_up

        _, imports = timed(warm_up)  # as the worker does when it starts
        from reports.packs.build import build_pack_files, build_pack_pdf
        from reports.packs.content import pack_parts
        from reports.packs.svg import render_batch

        report = self._report()
        charts = len(pack_parts(report=report, public=False).slots)
        _, tables = timed(lambda: build_pack_pdf(report=report, public=False, use_browser=False))
        bare_figure = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [1, 3, 2]}], "layout": {}}
        bare_drawn, bare = timed(lambda: render_batch([bare_figure]))
        with PeakTreeMemory() as pdf_memory:
            pdf, elapsed = timed(lambda: build_pack_pdf(report=report, public=False))
        with PeakTreeMemory() as full_memory:
            (_, docx, drawn), full = timed(lambda: build_pack_files(report=report, public=False))
        label = options["label"]
        self.stdout.write(
            f"{label}: {charts} charts, {len(pdf) / 1024:,.0f} KB PDF"
            + ("" if drawn and bare_drawn is not None else " (NO BROWSER: charts drawn as tables)")
            + f"; floors this run: tables-only pack {tables:.1f} s, one bare kaleido batch {bare:.1f} s; "
            f"library imports (done at worker start) {imports:.1f} s"
        )
        self.stdout.write(
            f"{label}: PDF {elapsed:.1f} s = {elapsed / tables:.2f}x the tables-only pack, "
            f"{elapsed / bare:.1f}x a bare kaleido batch; peak memory of the process tree (Python + Chromium) "
            f"{pdf_memory.mb:,.0f} MB"
        )
        self.stdout.write(
            f"{label}: PDF + Word document as the worker builds them {full:.1f} s = {full / tables:.2f}x the "
            f"tables-only pack ({len(docx or b'') / 1024:,.0f} KB .docx); peak memory of the process tree "
            f"{full_memory.mb:,.0f} MB (targets: {TARGET_SECONDS} s, {TARGET_MB:,} MB)"
        )

    def _report(self) -> Report:
        framework = current_framework()
        assert framework is not None
        report = Report.objects.filter(snapshot__framework=framework).order_by("-snapshot__period").first()
        if report is not None:
            return report
        from metrics.models import Observation

        actor, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.PERFORMANCE_MANAGER})
        period = (
            Observation.objects.filter(area=framework.home_area)
            .order_by("-period")
            .values_list("period", flat=True)
            .first()
        )
        assert period is not None
        snapshot = snapshot_publish(actor=actor, framework=framework, period=period, reason="benchmark")
        return report_create(actor=actor, snapshot=snapshot)
