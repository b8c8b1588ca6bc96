"""The priority page drawn in Chromium, against the overview drawn in the same run (after
generate_national_dataset).

Starts gunicorn as ``bench_readers`` does (the production set-up, DEBUG off, behind a proxy's
``X-Forwarded-Proto: https``) and drives Debian's Chromium with Playwright (the browser tests' flags), a
fresh browser context (empty browser cache) for each load, as a logged-in board member:

- the overview fully drawn: from navigation to the ``load`` event (its tiles are HTML and inline SVG);
- the priority page's first screen shown: from navigation to the frame that paints every chart starting in
  the first screen, as the server's SVG (``data-drawn="static"``, reports/chart_svg.py) or Plotly's chart;
- the first screen interactive: to every one of those charts drawn by Plotly (``data-drawn="true"``, set by
  static/js/charts.js);
- the priority page's every chart shown, and every chart interactive (15 on the national dataset), without
  scrolling.

Each is the median of ``--repeat`` loads, printed in ms and as a ratio to the overview's time. Targets
(issue 16): first screen within 1.5x the overview, all charts within 3x; the verdicts are read on the charts
shown, the interactive figures printed beside them (and what the verdict would be on those). ``--full-bundle`` also times the
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
# A chart is shown once it has ``data-drawn`` ("static": the server's SVG, in the HTML; "true": Plotly's), interactive
# once Plotly has drawn it. The "shown" predicates are polled at each animation frame (the frame that paints it: none
# runs before the stylesheet has loaded), the "interactive" ones every 10 ms (as the bench always did). The charts
# of the first screen: those whose top is above the window's bottom, once the parser has gone past the first screen
# (a chart below it parsed, or the whole page); "all": once the whole page is parsed.
_CHARTS = """const charts = [...document.querySelectorAll('[data-figure]')];
  const first = charts.filter(el => el.getBoundingClientRect().top < window.innerHeight);
  const parsed = document.readyState !== 'loading';
  const below = parsed || charts.some(el => el.getBoundingClientRect().top >= window.innerHeight);"""
FIRST_SCREEN_SHOWN = f"""() => {{ {_CHARTS}
  return below && charts.length > 0 && first.every(el => el.hasAttribute('data-drawn'));
}}"""
ALL_SHOWN = f"""() => {{ {_CHARTS}
  return parsed && charts.length > 0 && charts.every(el => el.hasAttribute('data-drawn'));
}}"""
FIRST_SCREEN_DRAWN = f"""() => {{ {_CHARTS}
  return below && charts.length > 0 && first.every(el => el.getAttribute('data-drawn') === 'true');
}}"""
ALL_DRAWN = f"""() => {{ {_CHARTS}
  return parsed && charts.length > 0 && charts.every(el => el.getAttribute('data-drawn') === 'true');
}}"""
TIMES = ("first_shown", "all_shown", "first_drawn", "all_drawn")


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
        ) -> tuple[dict[str, float], int]:
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
                    return dict.fromkeys(TIMES, loaded), 0
                times: dict[str, float] = {}
                for key, predicate, polling in (
                    ("first_shown", FIRST_SCREEN_SHOWN, "raf"),
                    ("all_shown", ALL_SHOWN, "raf"),
                    ("first_drawn", FIRST_SCREEN_DRAWN, 10),
                    ("all_drawn", ALL_DRAWN, 10),
                ):
                    page.wait_for_function(predicate, polling=polling)
                    times[key] = (time.perf_counter() - start) * 1000
                return times, page.locator("[data-figure]").count()
            finally:
                context.close()

        load("/dashboard/", charts=False)  # warm: the server's first render of each page
        load(priority_url, charts=True)
        overview: list[float] = []
        runs: dict[str, list[dict[str, float]]] = {"": [], "full": [], "js": [], "plotly": []}
        count = 0
        for turn in range(options["repeat"]):
            overview.append(load("/dashboard/", charts=False)[0]["all_drawn"])
            if options["charts_js"] and turn % 2:  # the other version first every other turn
                runs["js"].append(load(priority_url, charts=True, charts_js=options["charts_js"])[0])
            times, count = load(priority_url, charts=True)
            runs[""].append(times)
            if options["full_bundle"]:
                runs["full"].append(load(priority_url, charts=True, full_bundle=True)[0])
            if options["plotly_js"]:
                runs["plotly"].append(load(priority_url, charts=True, plotly_js=options["plotly_js"])[0])
            if options["charts_js"] and not turn % 2:
                runs["js"].append(load(priority_url, charts=True, charts_js=options["charts_js"])[0])
        floor = statistics.median(overview)
        self.stdout.write(f"Chromium, a fresh context each load, median of {options['repeat']}:")
        self.stdout.write(f"overview fully drawn (the floor): {floor:7.0f} ms")
        self._block("priority page", runs[""], floor, count)
        if options["full_bundle"]:
            self._block("  with the full 4.7 MB plotly.js instead", runs["full"], floor, count)
        if options["charts_js"]:
            self._block(f"  with {Path(options['charts_js']).name} instead of charts.js", runs["js"], floor, count)
        if options["plotly_js"]:
            self._block(
                f"  with {Path(options['plotly_js']).name} as plotly-basic.min.js", runs["plotly"], floor, count
            )

    def _block(self, label: str, runs: list[dict[str, float]], floor: float, count: int) -> None:
        """The four figures of one version of the page: the targets' verdicts on the charts shown (the
        server's SVG or Plotly's chart), the interactive (Plotly-drawn) figures beside them."""
        first = f"{label}, first screen's charts"
        every = f"{label}, all {count} charts"
        self._line(f"{first} shown (server SVG or Plotly)", [r["first_shown"] for r in runs], floor, 1.5)
        self._line(f"{first} interactive (Plotly drawn)", [r["first_drawn"] for r in runs], floor, 1.5, beside=True)
        self._line(f"{every} shown (server SVG or Plotly)", [r["all_shown"] for r in runs], floor, 3.0)
        self._line(f"{every} interactive (Plotly drawn)", [r["all_drawn"] for r in runs], floor, 3.0, beside=True)

    def _line(self, label: str, times: list[float], floor: float, target: float, *, beside: bool = False) -> None:
        median = statistics.median(times)
        ratio = median / floor if floor else float("nan")
        verdict = "met" if ratio <= target else "NOT met"
        if beside:
            text = f"beside it: were the target read on Plotly's charts, {verdict}"
        else:
            text = f"target <= {target}x: {verdict}"
        self.stdout.write(f"{label}: {median:7.0f} ms, {ratio:4.1f}x the overview ({text})")
