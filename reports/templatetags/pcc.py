"""Formatting of figures the way a statistical publication shows them."""

from typing import Any

from django import template

from metrics.stats.suppression import missing_symbol, status_symbol

register = template.Library()

_DECIMALS = {"count": 0, "percentage": 1, "rate_per_1000": 2, "rate_per_100000": 1, "days": 0, "ratio": 2, "score": 1}
_SUFFIX = {"percentage": "%"}


@register.filter
def figure(observation: Any) -> str:
    """An observation's value with its unit's precision and thousands separators, or its GSS symbol."""
    if observation is None:
        return "no data"
    if observation.missing:
        return missing_symbol(observation.missing)
    decimals = _DECIMALS.get(observation.unit, 1)
    text = f"{observation.value:,.{decimals}f}" + _SUFFIX.get(observation.unit, "")
    symbol = status_symbol(observation.status)
    return f"{text} {symbol}" if symbol else text
