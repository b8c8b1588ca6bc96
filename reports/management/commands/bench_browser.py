"""The priority page drawn in Chromium, against the overview drawn in the same run (after
generate_national_dataset).

Starts gunicorn as ``bench_readers`` does (the production set-up, DEBUG off, behind a proxy's
``X-Forwarded-Proto: https``) and drives Debian's Chromium with Playwright (the browser tests' flags), a
fresh browser context (empty browser cache) for each load, as a logged-in board member:

- the overview fully drawn: from navigation to the ``load`` event (its tiles are HTML and inline SVG);
- the priority page's first screen: from navigation to every chart that starts in the first screen drawn
  (``data-drawn``, set by static/js/charts.js when Plotly has drawn it);
- the priority page's every chart drawn (15 on the national dataset), without scrolling.

Each is the median of ``--repeat`` loads, printed in ms and as a ratio to the overview's time. Targets
(issue 16): first screen within 1.5x the overview, all charts within 3x. ``--full-bundle`` also times the
priority page with the plotly package's full 4.7 MB bundle served in place of the basic one (as before);
``--charts-js FILE`` also times it with FILE served in place of static/js/charts.js (an earlier version, say
``git show REV:static/js/charts.js``), loads taking turns, for a before/after from one run."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import plotly
from django.core.management.base import BaseCommand, CommandError, CommandParser

from frameworks.selectors import current_framework
from reports.management.commands.bench_readers import HOST, _session_cookie, gunicorn_running

# The browser tests' flags (tests/browser/conftest.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIRST_SCREEN_DRAWN = """() => {
  const charts = [...document.querySelectorAll('[data-figure]')];
  const first = charts.filter(el => el.getBoundingClientRect().top < window.innerHeight);
  return charts.length > 0 && first.every(el => el.hasAttribute('data-drawn'));
}"""
ALL_DRAWN = """() => {
  const charts = [...document.querySelectorAll('[data-figure]')];
  return charts.length > 0 && charts.every(el => el.hasAttribute('data-drawn'));
}"""


class Command(BaseCommand):
    help = "Time the overview and the priority page (first screen, every chart) drawn in Chromium."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--redis", default="", help="REDIS_URL for the server's cache (default: local memory)")
        parser.add_argument("--full-bundle", action="store_true", help="also time the full plotly.js bundle")
        parser.add_argument("--charts-js", default="", help="also time the priority page with this charts.js")
        parser.add_argument(
            "--plotly-js", default="", help="also time the priority page with this file served as plotly-basic.min.js"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        if not os.path.exists(chromium):
            raise CommandError("Chromium is not installed (make install installs it).")
        framework = current_framework()
        if framework is None:
            raise CommandError("No framework: run generate_national_dataset first.")
        priority = framework.priorities.order_by("order").first()
        if priority is None:
            raise CommandError("The framework has no priority.")
        cookie = _session_cookie("bench-browser")
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        base = f"http://{HOST}:{options['port']}"
        with gunicorn_running(port=options["port"], env={"REDIS_URL": options["redis"]}), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                self._run(browser, base, cookie, f"/dashboard/priority/{priority.code}/", options)
            finally:
                browser.close()

    def _run(self, browser: Any, base: str, cookie: str, priority_url: str, options: dict[str, Any]) -> None:
        name, value = cookie.split("=", 1)
        full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

        def load(
            url: str, *, charts: bool, full_bundle: bool = False, charts_js: str = "", plotly_js: str = ""
        ) -> tuple[float, float, float, int]:
            context = browser.new_context(
                base_url=base,
                bypass_csp=True,  # the timing predicates below are evaluated in the page
                extra_http_headers={"X-Forwarded-Proto": "https"},  # as the proxy in front of gunicorn says
                viewport={"width": 1280, "height": 800},
            )
            context.add_cookies([{"name": name, "value": value, "url": base}])
            if full_bundle:
                context.route("**/plotly-basic*.js", lambda route: route.fulfill(path=str(full)))
            if plotly_js:
                context.route("**/plotly-basic*.js", lambda route: route.fulfill(path=plotly_js))
            if charts_js:
                context.route("**/js/charts*.js", lambda route: route.fulfill(path=charts_js))
            page = context.new_page()
            page.set_default_timeout(60_000)
            try:
                start = time.perf_counter()
                page.goto(url, wait_until="load" if not charts else "commit")
                if not charts:
                    loaded = (time.perf_counter() - start) * 1000
                    return loaded, loaded, loaded, 0
                page.wait_for_function(FIRST_SCREEN_DRAWN, polling=10)
                first = (time.perf_counter() - start) * 1000
                page.wait_for_function(ALL_DRAWN, polling=10)
                every = (time.perf_counter() - start) * 1000
                count = page.locator("[data-figure]").count()
                return first, every, every, count
            finally:
                context.close()

        load("/dashboard/", charts=False)  # warm: the server's first render of each page
        load(priority_url, charts=True)
        overview, first, every, full_first, full_every, js_first, js_every = [], [], [], [], [], [], []
        plotly_first: list[float] = []
        plotly_every: list[float] = []
        count = 0
        for turn in range(options["repeat"]):
            overview.append(load("/dashboard/", charts=False)[0])
            if options["charts_js"] and turn % 2:  # the other version first every other turn
                a, b, _c, _n = load(priority_url, charts=True, charts_js=options["charts_js"])
                js_first.append(a)
                js_every.append(b)
            a, b, _c, count = load(priority_url, charts=True)
            first.append(a)
            every.append(b)
            if options["full_bundle"]:
                a, b, _c, _n = load(priority_url, charts=True, full_bundle=True)
                full_first.append(a)
                full_every.append(b)
            if options["plotly_js"]:
                a, b, _c, _n = load(priority_url, charts=True, plotly_js=options["plotly_js"])
                plotly_first.append(a)
                plotly_every.append(b)
            if options["charts_js"] and not turn % 2:
                a, b, _c, _n = load(priority_url, charts=True, charts_js=options["charts_js"])
                js_first.append(a)
                js_every.append(b)
        floor = statistics.median(overview)
        self.stdout.write(f"Chromium, a fresh context each load, median of {options['repeat']}:")
        self.stdout.write(f"overview fully drawn (the floor): {floor:7.0f} ms")
        self._line(f"priority page, first screen's charts drawn ({count} charts in all)", first, floor, 1.5)
        self._line(f"priority page, all {count} charts drawn", every, floor, 3.0)
        if options["full_bundle"]:
            self._line("  with the full 4.7 MB plotly.js instead: first screen", full_first, floor, 1.5)
            self._line("  with the full 4.7 MB plotly.js instead: all charts", full_every, floor, 3.0)
        if options["charts_js"]:
            name = Path(options["charts_js"]).name
            self._line(f"  with {name} instead of charts.js: first screen", js_first, floor, 1.5)
            self._line(f"  with {name} instead of charts.js: all charts", js_every, floor, 3.0)
        if options["plotly_js"]:
            name = Path(options["plotly_js"]).name
            self._line(f"  with {name} as plotly-basic.min.js: first screen", plotly_first, floor, 1.5)
            self._line(f"  with {name} as plotly-basic.min.js: all charts", plotly_every, floor, 3.0)

    def _line(self, label: str, times: list[float], floor: float, target: float) -> None:
        median = statistics.median(times)
        ratio = median / floor if floor else float("nan")
        verdict = "met" if ratio <= target else "NOT met"
        self.stdout.write(f"{label}: {median:7.0f} ms, {ratio:4.1f}x the overview (target <= {target}x: {verdict})")
