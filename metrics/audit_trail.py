"""The audit trail in words: who, when, what (metric, area, quarter), old → new with units.

``audit_events`` filters the trail of the partnership of the work in hand (a selector: one query, lazily);
``audit_lines`` turns a page of events into readable lines, naming every metric, area, category, return and quarter in a fixed number of queries whatever
the number of events (pinned in ``tests/test_query_counts.py``). The page and its CSV read the same lines.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from accounts.audit import AuditAction
from accounts.models import Agency, AuditEvent, Partnership
from accounts.partnerships import is_default
from accounts.tenancy import current_partnership
from frameworks.models import Area, Breakdown, BreakdownCategory, PeerGroup, Priority
from metrics.models import Metric, Missing, Observation, Return, ReturnState, ReturnUpload, ReturnValue
from metrics.quarters import Quarter, QuarterError, period_label
from metrics.stats.presentation import display_decimals, format_value

# How a unit reads after a figure ("12.50 per 1,000"); a percentage takes the sign.
UNIT_WORDS = {
    "count": "",
    "percentage": "",  # format_value gives the % sign
    "rate_per_1000": " per 1,000",
    "rate_per_100000": " per 100,000",
    "days": " days",
    "ratio": "",
    "score": "",
}
FIGURE_TYPES = {"metrics.returnvalue", "metrics.observation"}
# Fields the framework file audits by id, and what they name (read by name on the page).
REFERENCE_KEYS: dict[str, type[Any]] = {
    "home_area_id": Area,
    "parent_id": Area,
    "parent": Area,
    "peer_group_id": PeerGroup,
    "agency_id": Agency,
    "metric_id": Metric,
    "other_metric_id": Metric,
    "breakdown_id": Breakdown,
    "reference": BreakdownCategory,
    "not_recorded": BreakdownCategory,
    "priority": Priority,
    "priority_id": Priority,
}
# A metric's related sets (the event's summary names the set) and a peer group's members.
LIST_KEYS: dict[str, type[Any]] = {"breakdowns": Breakdown, "areas": Area, "members": Area}
_MEMBER = re.compile(
    r"^\((\d+), (None|datetime\.date\((\d+), (\d+), (\d+)\)), (None|datetime\.date\((\d+), (\d+), (\d+)\))\)$"
)
Names = dict[type[Any], dict[int, str]]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MISSING = {m.value: m.label for m in Missing if m.value}
_STATE_LABELS = {s.value: s.label for s in ReturnState}


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the trail is filtered by (all optional); ``agency`` also limits an analyst to their own."""

    actor: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    agency: Agency | None = None
    metric: str = ""
    return_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One event as a person reads it."""

    event: AuditEvent
    who: str
    action: str
    what: str
    old: str
    new: str
    return_label: str

    @property
    def at(self) -> dt.datetime:
        return self.event.at

    @property
    def reason(self) -> str:
        return self.event.reason


def audit_events(
    *, filters: AuditFilters, partnership: Partnership | None = None, host: bool = False
) -> QuerySet[AuditEvent]:
    """The events of ``partnership``'s trail (the partnership of the work in hand when None) matching
    ``filters``, newest first (not yet fetched).

    A partnership's trail is the events made in it. Events with no partnership (made before partnerships, or
    about the installation's shared data) are the default partnership's trail, and the host's (``host``: a
    superuser) in every partnership."""
    if partnership is None:
        partnership = current_partnership()
    mine = Q(partnership_id=partnership.pk)
    if host or is_default(partnership):
        mine |= Q(partnership__isnull=True)
    events = AuditEvent.objects.filter(mine).order_by("-at", "-id")
    if filters.return_id is not None:
        events = events.filter(return_id=filters.return_id)
    if filters.agency is not None:
        # An agency's trail: its returns (values, uploads, states) and the approved figures of its metrics.
        events = events.filter(
            Q(return_id__in=Return.objects.in_scope(partnership).filter(agency=filters.agency).values("pk"))
            | Q(
                metric_code__in=Metric.objects.in_scope(partnership).filter(agency=filters.agency).values("code"),
                return_id__isnull=True,
            )
        )
    if filters.actor:
        events = events.filter(actor_username=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from is not None:
        events = events.filter(at__date__gte=filters.date_from)
    if filters.date_to is not None:
        events = events.filter(at__date__lte=filters.date_to)
    if filters.metric:
        events = events.filter(metric_code=filters.metric)
    return events


def _ids(texts: Iterable[str]) -> set[int]:
    return {int(t) for t in texts if t.isdigit()}


def audit_lines(events: Sequence[AuditEvent]) -> list[AuditLine]:
    """Each event in words, in a bounded number of queries whatever the number of events: one each for the
    return values, observations, returns and metrics named, and one per kind of thing the framework file's
    events refer to by id (areas, agencies, peer groups, breakdowns, categories, priorities); a kind the
    events do not hold costs none. ``events`` come from ``audit_events`` (one partnership's trail): what they
    name by id is theirs; a metric named by code only is looked up in the partnership of the work in hand
    (codes are unique within a partnership, not across them)."""
    value_ids = _ids(e.object_id for e in events if e.object_type == "metrics.returnvalue")
    observation_ids = _ids(e.object_id for e in events if e.object_type == "metrics.observation")
    return_ids = {e.return_id for e in events if e.return_id is not None} | _ids(
        e.object_id for e in events if e.object_type == "metrics.return"
    )
    codes = {e.metric_code for e in events if e.metric_code}
    figure_related = ("metric", "area", "category__breakdown")
    values = (
        {
            str(v.pk): v
            for v in ReturnValue.objects.filter(pk__in=value_ids).select_related(*figure_related, "return_obj__round")
        }
        if value_ids
        else {}
    )
    observations = (
        {str(o.pk): o for o in Observation.objects.filter(pk__in=observation_ids).select_related(*figure_related)}
        if observation_ids
        else {}
    )
    returns = (
        {r.pk: r for r in Return.objects.filter(pk__in=return_ids).select_related("round", "agency")}
        if return_ids
        else {}
    )
    # Metrics named by code only (a removed value, a rebase) and not already fetched with a figure.
    fetched = {v.metric.code for v in values.values()} | {o.metric.code for o in observations.values()}
    wanted = codes - fetched
    metrics = {m.code: m for m in Metric.objects.in_scope().filter(code__in=wanted)} if wanted else {}
    for figure_metric in [*(v.metric for v in values.values()), *(o.metric for o in observations.values())]:
        metrics.setdefault(figure_metric.code, figure_metric)
    names = _reference_names(events)
    return [
        _line(e, values=values, observations=observations, returns=returns, metrics=metrics, names=names)
        for e in events
    ]


def _list_model(e: AuditEvent) -> type[Any] | None:
    return LIST_KEYS.get(e.summary) if e.object_type in {"metrics.metric", "frameworks.peergroup"} else None


def _reference_names(events: Sequence[AuditEvent]) -> Names:
    """The names of what the framework file's events refer to by id: one query per kind present."""
    wanted: dict[type[Any], set[int]] = {}
    for e in events:
        listed = _list_model(e)
        for side in (e.old, e.new):
            if isinstance(side, dict):
                for key, value in side.items():
                    model = REFERENCE_KEYS.get(key)
                    if model is not None and isinstance(value, int) and not isinstance(value, bool):
                        wanted.setdefault(model, set()).add(value)
            elif isinstance(side, list) and listed is not None:
                for item in side:
                    pk = _list_item_id(item)
                    if pk is not None:
                        wanted.setdefault(listed, set()).add(pk)
    names: Names = {}
    for model, ids in wanted.items():
        names[model] = {pk: str(name) for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")}
    return names


def _list_item_id(item: Any) -> int | None:
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    match = _MEMBER.match(item) if isinstance(item, str) else None
    return int(match.group(1)) if match else None


def _line(
    e: AuditEvent,
    *,
    values: dict[str, ReturnValue],
    observations: dict[str, Observation],
    returns: dict[int, Return],
    metrics: dict[str, Metric],
    names: Names,
) -> AuditLine:
    return_obj = returns.get(e.return_id) if e.return_id is not None else None
    if return_obj is None and e.object_type == "metrics.return" and e.object_id.isdigit():
        return_obj = returns.get(int(e.object_id))
    return_label = return_words(return_obj) if return_obj is not None else ""
    figure: ReturnValue | Observation | None = None
    period: dt.date | None = None
    if e.object_type == "metrics.returnvalue":
        value = values.get(e.object_id)
        if value is not None:
            figure, period = value, value.return_obj.round.period
    elif e.object_type == "metrics.observation":
        obs = observations.get(e.object_id)
        if obs is not None:
            figure, period = obs, obs.period
    metric = figure.metric if figure is not None else metrics.get(e.metric_code)
    what = _what(e, figure=figure, period=period, metric=metric, return_obj=return_obj, return_label=return_label)
    unit, decimals = (metric.unit, metric.decimals) if metric is not None else ("", None)
    old, new = change_words(
        e.old,
        e.new,
        unit=unit,
        decimals=decimals,
        figure=e.object_type in FIGURE_TYPES,
        names=names,
        listed=_list_model(e),
    )
    try:
        action = AuditAction(e.action).label
    except ValueError:
        action = e.action
    return AuditLine(
        event=e,
        who=e.actor_username or "system",
        action=str(action),
        what=what,
        old=old,
        new=new,
        return_label=return_label,
    )


def return_words(return_obj: Return) -> str:
    return f"{return_obj.agency.name} return for {return_obj.round.label}"


def _what(
    e: AuditEvent,
    *,
    figure: ReturnValue | Observation | None,
    period: dt.date | None,
    metric: Metric | None,
    return_obj: Return | None,
    return_label: str,
) -> str:
    if figure is not None and period is not None:
        parts = [f"{figure.metric.name} ({figure.metric.code})", figure.area.name, period_label(period)]
        if figure.category is not None:
            parts.append(f"{figure.category.breakdown.name}: {figure.category.name}")
        return " · ".join(parts)
    if e.object_type in FIGURE_TYPES:
        # The value has gone since (a cleared grid line): its metric is still known.
        named = f"{metric.name} ({metric.code})" if metric is not None else e.metric_code or "A figure"
        where = f" in the {return_label}" if return_label else ""
        return f"{named}: a value since removed{where}"
    if e.object_type == "metrics.return" and return_label:
        what = return_label[0].upper() + return_label[1:]
        # "web form: 3 added, 0 changed" says more; a state change's summary only repeats the return's name.
        if e.summary and return_obj is not None and e.summary != str(return_obj):
            what += f": {e.summary}"
        return what
    if e.object_type == ReturnUpload._meta.label_lower and return_label:
        return f"File {e.summary} for the {return_label}" if e.summary else f"A file for the {return_label}"
    summary = e.summary
    if metric is not None and metric.code in summary and metric.name not in summary:
        summary = summary.replace(metric.code, f"{metric.name} ({metric.code})", 1)
    if return_label and e.return_id is not None and "return" not in summary.lower():
        summary = f"{summary} ({return_label})" if summary else return_label
    return summary or e.object_type


# --- old and new values in words ---------------------------------------------------------------------------
def figure_text(value: float | None, unit: str, decimals: int | None, places: int | None = None) -> str:
    """``12.5`` rate per 1,000 -> ``12.50 per 1,000`` (the metric's precision, or ``places``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    return format_value(value, unit, decimals if places is None else places) + UNIT_WORDS.get(unit, "")


def _count_text(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def _figure_words(d: dict[str, Any], unit: str, decimals: int | None, places: int | None) -> str:
    missing = d.get("missing") or ""
    if missing:
        return _MISSING.get(missing, f"[{missing}]")
    text = figure_text(d.get("value"), unit, decimals, places)
    numerator, denominator = d.get("numerator"), d.get("denominator")
    if numerator is not None and denominator is not None:
        text += f" ({_count_text(numerator)} of {_count_text(denominator)})"
    elif numerator is not None:
        text += f" (numerator {_count_text(numerator)})"
    return text


def _places_to_tell_apart(old: Any, new: Any, unit: str, decimals: int | None) -> int | None:
    """More decimal places when two different figures would read the same at the metric's precision."""
    if not isinstance(old, (int, float)) or not isinstance(new, (int, float)) or old == new:
        return None
    base = display_decimals(unit, decimals)
    for places in range(base, base + 10):
        if f"{old:.{places}f}" != f"{new:.{places}f}":
            return None if places == base else places
    return None


def _key_words(key: str) -> str:
    return key.removesuffix("_id").replace("_", " ")


def _plain(key: str, value: Any, names: Names) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    model = REFERENCE_KEYS.get(key)
    if model is not None and isinstance(value, int):
        return names.get(model, {}).get(value, f"#{value} (since deleted)")
    if isinstance(value, (int, float)):
        return _count_text(value)
    if isinstance(value, list):
        return ", ".join(_plain(key, v, names) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{_key_words(k)}: {_plain(k, v, names)}" for k, v in value.items())
    text = str(value)
    if _ISO_DATE.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text
        if key == "period":
            try:
                return Quarter.from_end_date(day).label
            except QuarterError:
                pass
        return f"{day.day} {day:%B %Y}"
    if key == "state":
        return str(_STATE_LABELS.get(text, text.replace("_", " ").capitalize()))
    return text


def _list_words(items: list[Any], model: type[Any], names: Names) -> str:
    words = []
    for item in items:
        pk = _list_item_id(item)
        name = names.get(model, {}).get(pk, f"#{pk}") if pk is not None else str(item)
        match = _MEMBER.match(item) if isinstance(item, str) else None
        if match and match.group(3):
            name += f" from {int(match.group(5))} {dt.date(2000, int(match.group(4)), 1):%b} {match.group(3)}"
        if match and match.group(7):
            name += f" to {int(match.group(9))} {dt.date(2000, int(match.group(8)), 1):%b} {match.group(7)}"
        words.append(name)
    return ", ".join(words) or "none"


def _words(value: Any, names: Names, listed: type[Any] | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in {"state", "comment", "reason"}:
            ((key, item),) = value.items()
            return _plain(key, item, names)
        return "; ".join(f"{_key_words(k)}: {_plain(k, v, names)}" for k, v in value.items())
    if isinstance(value, list) and listed is not None:
        return _list_words(value, listed, names)
    return _plain("", value, names)


def change_words(
    old: Any,
    new: Any,
    *,
    unit: str,
    decimals: int | None,
    figure: bool,
    names: Names | None = None,
    listed: type[Any] | None = None,
) -> tuple[str, str]:
    """The old and the new value of an event in words: a figure with its unit at the metric's precision (more
    places only where two different figures would otherwise read the same), a state by its name, what the
    framework file refers to by id by its name, other fields as ``name: value`` — never a Python dict."""
    names = names or {}
    has_figure = any(isinstance(d, dict) and ("value" in d or "missing" in d) for d in (old, new))
    is_figure = has_figure and (figure or any(isinstance(d, dict) and "numerator" in d for d in (old, new)))
    if is_figure and unit:
        places = None
        if isinstance(old, dict) and isinstance(new, dict):
            places = _places_to_tell_apart(old.get("value"), new.get("value"), unit, decimals)
        old_text = _figure_words(old, unit, decimals, places) if isinstance(old, dict) else ""
        new_text = _figure_words(new, unit, decimals, places) if isinstance(new, dict) else ""
        if isinstance(old, dict) and isinstance(new, dict):
            # A status or note changed with the same figure (an approved figure made final, say): say which.
            for key in ("status", "note"):
                if key in old and key in new and old[key] != new[key]:
                    old_text += f"; {key}: {_plain(key, old[key], names)}"
                    new_text += f"; {key}: {_plain(key, new[key], names)}"
        return old_text, new_text
    return (_words(old, names, listed), _words(new, names, listed))
