"""Formatting of figures the way a statistical publication shows them."""

import functools
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
def series_rows(table: Any) -> str:
    """A measure's quarters as the rows of its short data table (quarter, value and symbol, variation): the
    same HTML the template loop made, built in one pass (a priority page has 15 tables of 40 rows)."""
    from django.utils.html import format_html_join

    return format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="num">{} {}</td><td>{}</td></tr>',
        ((r.label, r.value, r.symbol, r.cause) for r in table),
    )
