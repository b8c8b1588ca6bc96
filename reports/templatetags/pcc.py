"""Formatting of figures the way a statistical publication shows them."""

import functools
import html
import json
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

from metrics.stats.suppression import missing_symbol, status_symbol

register = template.Library()


@register.filter
def figure(observation: Any) -> str:
    """An observation's value with its unit's precision and thousands separators, or its GSS symbol."""
    if observation is None:
        return "no data"
    if observation.missing:
        return missing_symbol(observation.missing)
    from metrics.stats.presentation import format_value

    text = format_value(observation.value, observation.unit)
    symbol = status_symbol(observation.status)
    return f"{text} {symbol}" if symbol else text


@register.filter
def quarter(day: Any) -> str:
    """A quarter end date as its financial-year label."""
    from metrics.quarters import period_label

    return period_label(day) if day else ""


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping is not None else None


@register.filter
def sparkline(values: Any) -> str:
    from reports.charts import sparkline_points

    return sparkline_points(list(values))


@register.filter
def variation_icon(variation: Any, size: str = "1.5em") -> str:
    """The Making Data Count icon (vector SVG) of a verdict or variation: the same on the web and on paper."""
    from reports.icons import icon_svg

    return icon_svg(variation, size=size)


@register.simple_tag
def icon_legend() -> Any:
    """(icon SVG, icon) pairs for a legend of the variation icons."""
    from reports.icons import legend

    return legend()


@register.filter
def thousands(value: Any) -> str:
    """A whole number with thousands separators (``848,489``)."""
    return f"{int(value):,}" if value is not None else ""


@register.simple_tag
def chart_template() -> str:
    """Plotly's default template as a JSON script (id ``chart-template``), sent once per page: every
    plain-dict chart on the page is drawn with it (static/js/charts.js)."""
    return _chart_template_script()


@functools.cache
def _chart_template_script() -> str:
    from django.utils.html import json_script

    from reports.charts import chart_template as template

    return json_script(template(), "chart-template")


@register.filter
def xmr_svg(value: Any, fig_id: str) -> str:
    """An XmR chart's figure data as the server's static SVG (``reports.chart_svg``), named by the figure's
    caption (``{fig_id}-caption``); every text in it escaped there."""
    from django.utils.safestring import SafeString

    from reports.chart_svg import xmr_svg as draw

    return SafeString(draw(value, labelled_by=f"{fig_id}-caption")) if value else ""


@register.filter
def figure_json_script(value: Any, element_id: str) -> str:
    """Django's ``json_script``, byte for byte, with the three escapes as ``str.replace``: its
    ``str.translate`` walks a priority page's 250 KB of figure JSON a character at a time (a sixth of the
    page's Python)."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils.safestring import SafeString

    text = json.dumps(value, cls=DjangoJSONEncoder)
    text = text.replace("&", "\\u0026").replace("<", "\\u003C").replace(">", "\\u003E")
    return SafeString(f'<script id="{_escape(element_id)}" type="application/json">{text}</script>')


@register.filter
def series_rows(table: Any) -> str:
    """A measure's quarters as the rows of its short data table (quarter, value and symbol, variation): the
    same HTML the template loop made, built in one pass (a priority page has 15 tables of 40 rows), each
    cell escaped as ``format_html`` escapes it, without its per-call overhead (a fifth of the page's Python)."""
    from django.utils.safestring import mark_safe

    e = _escape
    return mark_safe(  # noqa: S308 - every cell escaped
        "".join(
            f'<tr><th scope="row">{e(r.label)}</th><td class="num">{e(r.value)} {e(r.symbol)}</td>'
            f"<td>{e(r.cause)}</td></tr>"
            for r in table
        )
    )


@register.filter
def metric_rows(table: Any) -> str:
    """The metric page's table of every quarter (quarter, value and symbol, numerator, denominator, variation,
    mean, limits): the HTML the template loop made, in one pass (40 rows of 8 cells), each cell escaped as
    the template escapes it."""
    from django.template.defaultfilters import floatformat
    from django.utils.safestring import mark_safe

    e, number = _escape, _number_formatter()

    def count(value: Any) -> str:
        # A whole count (nearly every numerator and denominator): "-2g" writes it as "0g" does.
        if type(value) in (int, float) and math.isfinite(value) and float(value).is_integer():
            return number(value, 0, True)
        return e(floatformat(value, "-2g") or "")

    return mark_safe(  # noqa: S308 - every cell escaped
        "".join(
            f'<tr><th scope="row">{e(r.label)}</th><td class="num">{e(r.value)} {e(r.symbol)}</td>'
            f'<td class="num">{count(r.obs.numerator)}</td><td class="num">{count(r.obs.denominator)}</td>'
            f'<td>{e(r.cause)}</td><td class="num">{e(r.mean_text)}</td><td class="num">{e(r.lower_text)}</td>'
            f'<td class="num">{e(r.upper_text)}</td></tr>'
            for r in table
        )
    )


def _format_html(template: str, *args: Any) -> str:
    """``format_html`` for the hot loops here: each argument escaped by ``_escape`` (as
    ``conditional_escape`` would), the result marked safe; no lazy-string wrappers per call."""
    from django.utils.safestring import SafeString

    return SafeString(template.format(*[_escape(arg) for arg in args]))


def _escape(value: Any) -> str:
    """``conditional_escape`` without its lazy-string wrappers: safe HTML as it is, anything else as text
    with ``& < > " '`` escaped (the same characters, the same entities)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


@register.filter
def area_options(areas: Any, selected: Any) -> str:
    """The area picker's options (``selected``: the area shown): the HTML the template loop made, in one pass
    (a national installation lists 87 areas: a loop of them was half the metric page's template time)."""
    from django.utils.safestring import mark_safe

    e = _escape
    chosen = getattr(selected, "pk", None)
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{e(a.code)}"{" selected" if a.pk == chosen else ""}>{e(a.name)}</option>' for a in areas
        )
    )


@register.filter
def overview_rows(priorities: Any) -> str:
    """The overview's table of every measure (priority, measure, quarter, value, variation, rank): the same
    HTML the template loop made, built in one pass (60 rows of 6 cells on a national framework)."""
    from django.utils.safestring import mark_safe

    format_html = _format_html

    from reports.wording import VARIATION_SHORT

    rows = []
    for priority, tiles in priorities:
        for t in tiles:
            value = format_html("{} {}", t.latest_text, t.latest.symbol) if t.latest else ""
            if t.illustrative:
                value = format_html('{} <span class="tag illustrative">Illustrative</span>', value)
            rank = t.comparison.rank if t.comparison else None
            rows.append(
                format_html(
                    '<tr><td>{}</td><th scope="row">{}</th><td>{}</td><td class="num">{}</td><td>{}</td>'
                    '<td class="num">{}</td></tr>',
                    priority.name,
                    t.metric.name,
                    t.stale_text if t.stale else t.quarter_label,
                    value,
                    "Out of date (not judged)" if t.stale else VARIATION_SHORT.get(t.variation),
                    format_html("{} of {}", rank, t.comparison.of) if rank else "",
                )
            )
    return mark_safe("".join(rows))  # noqa: S308 - every part escaped by format_html


@register.simple_tag
def overview_tiles(tiles: Any, data: Any, snapshot: Any, short: Any) -> str:
    """A priority's tiles on the overview: the same HTML the template loop made, built in one pass (each
    tile reads a dozen figures and texts; a national framework has 60)."""
    from django.template.defaultfilters import truncatewords
    from django.urls import reverse
    from django.utils.safestring import mark_safe

    from metrics.quarters import period_label
    from reports.charts import sparkline_points
    from reports.icons import icon_svg

    format_html = _format_html  # escapes as Django's format_html does, without its per-call overhead
    marker = "metric-code-here"
    link = reverse("dashboard-metric", args=[marker])
    query = format_html("?area={}", data.area.code)
    if data.period:
        query = format_html("{}&amp;quarter={}", query, data.period.isoformat())
    if snapshot:
        query = format_html("{}&amp;snapshot={}", query, snapshot.pk)
    out = []
    for tile in tiles:
        head = format_html(
            '\n    <li class="tile v-{}">\n      <h3><a href="{}{}">{}</a></h3>\n      ',
            tile.verdict,
            link.replace(marker, tile.metric.code),
            query,
            tile.metric.name,
        )
        latest = tile.latest
        if latest is None:
            body = format_html(
                '\n        <p class="tile-value">No data</p><p class="hint">{}</p>\n      ',
                truncatewords(tile.metric.caveats, 18),
            )
        else:
            when = tile.stale_text if tile.stale else period_label(latest.period)
            value = format_html(
                '{}{} <span class="hint">{}{}</span>{}{}',
                tile.latest_text,
                format_html(" {}", latest.symbol) if latest.symbol else "",
                when,
                format_html(", {}", tile.area.name) if tile.national_fallback else "",
                mark_safe(' <span class="tag illustrative">Illustrative</span>') if tile.illustrative else "",
                mark_safe(' <span class="tag">National context</span>') if tile.national_fallback else "",
            )
            if tile.stale:
                variation = format_html(
                    '<p class="variation">{} Not judged: the figure is out of date</p>', icon_svg("stale", size="1.5em")
                )
            else:
                variation = format_html(
                    '<p class="variation">{} {}</p>', icon_svg(tile.variation, size="1.5em"), short.get(tile.variation)
                )
            comparison = tile.comparison
            rank = (
                format_html('<p class="hint">Rank {} of {} peers</p>', comparison.rank, comparison.of)
                if comparison and comparison.rank
                else ""
            )
            points = sparkline_points(list(tile.sparkline))
            spark = (
                format_html(
                    '<svg class="spark" width="120" height="28" viewBox="0 0 120 28" aria-hidden="true" '
                    'focusable="false"><polyline points="{}" fill="none" stroke="currentColor" '
                    'stroke-width="1.5"/></svg>',
                    points,
                )
                if points
                else ""
            )
            body = format_html(
                '\n        <p class="tile-value">{}</p>\n        <p class="tile-changes">{}</p>\n        {}\n        {}\n'
                "        {}\n      ",
                value,
                tile.changes_text,
                variation,
                rank,
                spark,
            )
        out.append(format_html("{}{}\n    </li>\n  ", head, body))
    return mark_safe("".join(out))  # noqa: S308 - every part escaped by format_html


def _number_formatter() -> Any:
    """``floatformat`` as ``(value, places, grouped)`` for the hot table filters (``grouped``: the ``g`` suffix).

    Where the locale writes "." for decimals and groups thousands by "," every 3 digits, and nothing else is
    grouped (``USE_THOUSAND_SEPARATOR`` off), a finite float or int in everyday range is rounded half up from
    its shortest decimal form, as floatformat rounds it, and written directly; anything else goes through
    floatformat itself. Floatformat's general path (~15 us a call) was a fifth of the fairness page's Python."""
    from django.conf import settings
    from django.template.defaultfilters import floatformat
    from django.utils.formats import get_format

    direct = (
        get_format("DECIMAL_SEPARATOR") == "."
        and get_format("THOUSAND_SEPARATOR") == ","
        and get_format("NUMBER_GROUPING") == 3
        and not settings.USE_THOUSAND_SEPARATOR
    )

    def formatted(value: Any, places: int, grouped: bool) -> str:
        if direct and type(value) in (int, float) and (value == 0 or 1e-4 <= abs(value) < 1e15):
            rounded = Decimal(repr(value)).quantize(_QUANTUM[places], ROUND_HALF_UP)
            if rounded.is_zero():
                rounded = abs(rounded)  # floatformat never writes -0 or -0.00
            return f"{rounded:,f}" if grouped else f"{rounded:f}"
        return str(floatformat(value, f"{places}g" if grouped else places))

    return formatted


_QUANTUM = {0: Decimal(1), 2: Decimal("0.01")}


@register.filter
def fairness_group_rows(fair: Any) -> str:
    """The fairness table's rows (group, count, base, rate, ratio, interval, significant): the HTML the
    template loop made, in one pass (a national page has 10 tables), each cell escaped as the template
    escapes it and each figure as ``floatformat`` writes it."""
    from django.utils.safestring import mark_safe

    e, number = _escape, _number_formatter()
    withheld, labels = fair.withheld, fair.labels
    rows = []
    for g in fair.groups:
        if g.ratio is not None:
            small = ' <span class="hint">(small numbers)</span>' if g.small_numbers else ""
            ratio = f"{number(g.ratio, 2, False)}{small}"
            interval = f"{number(g.ci_lower, 2, False)} to {number(g.ci_upper, 2, False)}"
        else:
            ratio, interval = "—", "withheld" if withheld else e(g.note)
        significant = "Yes" if g.significant else "No" if g.significant is False else "—"
        rows.append(
            f'<tr><th scope="row">{e(get(labels, g.category))}</th>'
            f'<td class="num">{number(g.numerator, 0, True)}</td><td class="num">{number(g.denominator, 0, True)}</td>'
            f'<td class="num">{number(g.rate, 2, False)}</td>\n      <td class="num">{ratio}</td>\n'
            f'      <td class="num">{interval}</td>\n      <td>{significant}</td></tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - every text escaped; figures are digits and separators


@register.filter
def fairness_trend_rows(fair: Any) -> str:
    """The fairness trend table's rows (quarter, share recorded, each group's ratio or why withheld): the
    HTML the template loop made, in one pass."""
    from django.utils.safestring import mark_safe

    e, number = _escape, _number_formatter()
    recorded = fair.recorded_share is not None
    width = len(fair.trend_groups)
    rows = []
    for label, share, withheld, ratios in fair.trend_rows():
        cells = [f'<tr><th scope="row">{e(label)}</th>']
        if recorded:
            cells.append(f'<td class="num">{_percent(share)}%</td>' if share is not None else '<td class="num">—</td>')
        if withheld:
            cells.append(f'<td colspan="{width}">withheld: {e(withheld)}</td>')
        else:
            cells.extend(
                f'<td class="num">{number(r, 2, False)}</td>' if r is not None else '<td class="num">—</td>'
                for r in ratios
            )
        cells.append("</tr>")
        rows.append("".join(cells))
    return mark_safe("".join(rows))  # noqa: S308 - every text escaped


def _percent(share: Any) -> str:
    """``{% widthratio share 1 100 %}``: the share as a whole percentage, rounded as widthratio rounds."""
    try:
        return str(round(float(share) / 1.0 * 100))
    except (ValueError, TypeError, OverflowError):
        return ""
