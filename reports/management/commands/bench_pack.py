"""Board pack build time and peak memory (``make bench``): the current framework's latest snapshot,
published and reported on here if need be.

Printed against floors measured in the same run (the machine is shared and noisy): the same pack with its
charts as tables (WeasyPrint and the evidence, no browser), and one bare kaleido batch (Chromium started,
one chart drawn, closed). Memory is the peak of the summed resident memory of this process and every
process under it (kaleido's Chromium and its renderers), sampled every 100 ms, as RSS (shared pages counted
in every process that maps them: errs high) and PSS (shared pages split between their sharers). The libraries are imported first, as the task worker does when it
starts (``db_worker``), and their import time printed apart."""

from __future__ import annotations

import contextlib
import os
import resource
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
TARGET_CHARTS = 40  # issue 16: a 40-chart board pack


def tree_memory(root: int) -> tuple[int, int]:
    """Resident and proportional memory (RSS, PSS: shared pages split between their sharers) of ``root`` and
    all its descendants, summed, in bytes (psutil if installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return _proc_tree_memory(root)
    rss = pss = 0
    try:
        top = psutil.Process(root)
        for proc in [top, *top.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # ended between the listing and the read
                info = proc.memory_full_info()
                rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
    except psutil.Error:
        pass
    return int(rss), int(pss)


def _proc_children(pid: int) -> list[int]:
    """``pid``'s children, from each of its threads' ``children`` list (no walk over every process)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                out.extend(int(child) for child in (task / "children").read_text().split())
    return out


def _proc_tree_memory(root: int) -> tuple[int, int]:
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(_proc_children(pid))
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name == "Rss":
                    rss += int(value.split()[0]) * 1024
                elif name == "Pss":
                    pss += int(value.split()[0]) * 1024
    return rss, pss


class PeakTreeMemory:
    """``with PeakTreeMemory() as peak: …`` then ``peak.text``: the highest summed RSS
    (shared pages counted in every process: errs high) and PSS of this process and all under it."""

    def __init__(self, every: float = 0.1) -> None:
        self.every = every
        self.rss = self.pss = 0
        self.cpu = 0.0  # CPU time the sampling itself took (left out of the pack's CPU time)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-pack-memory", daemon=True)

    def _sample(self) -> None:
        rss, pss = tree_memory(os.getpid())
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _run(self) -> None:
        while True:
            start = time.thread_time()
            self._sample()
            self.cpu += time.thread_time() - start
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> PeakTreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def text(self) -> str:
        return f"{self.rss / 2**20:,.0f} MB RSS ({self.pss / 2**20:,.0f} MB PSS)"


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended (kaleido's Chromium,
    once its batch is closed): a figure less at the mercy of a shared machine's load than wall time."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(work: Any) -> tuple[Any, float, float]:
    """``work()``, its wall time and the CPU time of the process tree, in seconds."""
    start, cpu = time.perf_counter(), cpu_seconds()
    out = work()
    return out, time.perf_counter() - start, cpu_seconds() - cpu


def per_chart_line(*, charts: int, seconds: float, target_charts: int = TARGET_CHARTS) -> str:
    """The PDF + Word figure per chart, and scaled to the target's pack size: a proportional estimate, not
    a measurement (this pack's fixed costs are scaled too: high above its own size, low below it)."""
    if not charts:
        return "no charts: nothing to scale"
    per = seconds / charts
    if charts == target_charts:
        return f"PDF + Word {per:.2f} s per chart; this is a {charts}-chart pack: {seconds:.1f} s measured (target {TARGET_SECONDS} s)"
    return (
        f"PDF + Word {per:.2f} s per chart; a {target_charts}-chart pack at that rate {per * target_charts:.1f} s "
        f"(scaled from {charts} charts, not measured: {'errs high' if target_charts > charts else 'errs low'}; "
        f"target {TARGET_SECONDS} s)"
    )


class Command(BaseCommand):
    help = "Time building the board pack of the current framework's latest quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--label", default="pack")

    def handle(self, *args: Any, **options: Any) -> None:
        from reports.management.commands.db_worker import warm_up

        _, imports, _ = timed(warm_up)  # as the worker does when it starts
        from reports.packs.build import build_pack_files, build_pack_pdf
        from reports.packs.content import pack_parts
        from reports.packs.svg import render_batch

        report = self._report()
        charts = len(pack_parts(report=report, public=False).slots)
        _, tables, tables_cpu = timed(lambda: build_pack_pdf(report=report, public=False, use_browser=False))
        bare_figure = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [1, 3, 2]}], "layout": {}}
        bare_drawn, bare, bare_cpu = timed(lambda: render_batch([bare_figure]))
        with PeakTreeMemory() as pdf_memory:
            pdf, elapsed, cpu = timed(lambda: build_pack_pdf(report=report, public=False))
        cpu -= pdf_memory.cpu
        with PeakTreeMemory() as full_memory:
            (_, docx, drawn), full, full_cpu = timed(lambda: build_pack_files(report=report, public=False))
        full_cpu -= full_memory.cpu
        label = options["label"]
        self.stdout.write(
            f"{label}: {charts} charts, {len(pdf) / 1024:,.0f} KB PDF"
            + ("" if drawn and bare_drawn is not None else " (NO BROWSER: charts drawn as tables)")
            + f"; floors this run: tables-only pack {tables:.1f} s ({tables_cpu:.1f} s CPU), one bare kaleido "
            f"batch {bare:.1f} s ({bare_cpu:.1f} s CPU); library imports (done at worker start) {imports:.1f} s"
        )
        self.stdout.write(
            f"{label}: PDF {elapsed:.1f} s = {elapsed / tables:.2f}x the tables-only pack "
            f"(CPU {cpu:.1f} s = {cpu / tables_cpu:.2f}x), {elapsed / bare:.1f}x a bare kaleido batch; "
            f"peak memory of the process tree (Python + Chromium) {pdf_memory.text}"
        )
        self.stdout.write(
            f"{label}: PDF + Word document as the worker builds them {full:.1f} s = {full / tables:.2f}x the "
            f"tables-only pack (CPU {full_cpu:.1f} s = {full_cpu / tables_cpu:.2f}x; "
            f"{len(docx or b'') / 1024:,.0f} KB .docx); peak memory of the process tree {full_memory.text} "
            f"(targets: {TARGET_SECONDS} s, {TARGET_MB:,} MB)"
        )
        self.stdout.write(f"{label}: {per_chart_line(charts=charts, seconds=full)}")

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
