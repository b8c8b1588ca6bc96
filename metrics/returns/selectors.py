"""Reads for returns: what each agency owes, the tracker, a return's history and findings, who may act."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Max, Prefetch
from django.utils import timezone

from accounts.access import Perm, has_perm, user_agency_id
from accounts.audit import AuditAction
from accounts.contacts import AgencyContactList
from accounts.models import Agency, AuditEvent
from frameworks.models import Area, BreakdownCategory, Framework
from frameworks.selectors import current_framework, local_areas, lowest_local_areas
from metrics.models import (
    EDITABLE_STATES,
    Basis,
    CollectionRound,
    FrameworkMetric,
    Metric,
    Observation,
    Return,
    ReturnState,
    ReturnValue,
)
from metrics.quarters import Quarter

from .validation import Finding, Key, evaluate, needing_comment


# --- what is owed -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OwedLine:
    metric: Metric
    area: Area
    category: BreakdownCategory | None

    @property
    def key(self) -> Key:
        return (self.metric.pk, self.area.pk, self.category.pk if self.category else None)


def owed_lines(*, framework: Framework, agency: Agency | None = None) -> list[OwedLine]:
    """Each (metric, area, category) the agency owes every quarter: its metrics in the framework × the
    metric's areas (the home area when none are named) × the total and each breakdown category; and for a
    metric reported by local area (``local_areas``), one value (the total) for each lowest local area under
    the home area (districts and unitary authorities). Fixed queries whatever the number of metrics and areas."""
    placements = (
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency")
        .prefetch_related("metric__areas", Prefetch("metric__breakdowns__categories"))
        .order_by("priority__order", "order")
    )
    if agency is not None:
        placements = placements.filter(metric__agency=agency)
    home = framework.home_area
    lines: list[OwedLine] = []
    local: list[Area] | None = None
    for place in placements:
        metric = place.metric
        if not owed_quarterly(metric):
            continue
        areas = sorted(metric.areas.all(), key=lambda a: a.name) or [home]
        for area in areas:
            lines.append(OwedLine(metric, area, None))
            for breakdown in metric.breakdowns.all():
                lines.extend(OwedLine(metric, area, category) for category in breakdown.categories.all())
        if metric.local_areas:
            if local is None:
                local = lowest_local_areas(local_areas(framework))
            named = {a.pk for a in areas}
            lines.extend(OwedLine(metric, area, None) for area in local if area.pk not in named)
    return lines


def owed_quarterly(metric: Metric) -> bool:
    """Annual figures (``basis: annual``) come from yearly publications, not from the quarterly returns."""
    return metric.basis != Basis.ANNUAL


def owing_agencies(*, framework: Framework) -> list[Agency]:
    ids = (
        FrameworkMetric.objects.filter(framework=framework)
        .exclude(metric__basis=Basis.ANNUAL)
        .values_list("metric__agency_id", flat=True)
    )
    return list(Agency.objects.filter(pk__in=set(ids)).order_by("name"))


# --- return status for the tracker ---------------------------------------------------------------------
@dataclass
class ReturnStatus:
    return_obj: Return
    owed: int
    supplied: int
    today: dt.date
    contacts: AgencyContactList | None = None  # filled in for those who may chase (the tracker page)
    next_reminder: dt.datetime | None = None  # when the agency may next be sent a reminder, if not now

    @property
    def state(self) -> str:
        r = self.return_obj
        if r.state == ReturnState.DRAFT and self.supplied == 0 and r.first_submitted_at is None:
            return "not_started"
        return str(r.state)

    @property
    def state_label(self) -> str:
        labels = {"not_started": "Not started", **dict(ReturnState.choices)}
        text = labels[self.state]
        return f"{text} (late)" if self.late else text

    @property
    def late(self) -> bool:
        r = self.return_obj
        due = r.round.due_date
        if r.state in (ReturnState.SUBMITTED, ReturnState.APPROVED):
            return r.first_submitted_at is not None and r.first_submitted_at.date() > due
        return self.today > due

    @property
    def on_time(self) -> bool | None:
        """Whether the return came in by its due date: only once it is in (submitted or approved). A return
        sent back for correction, or reopened, is not in yet, whenever it was first sent."""
        r = self.return_obj
        if r.first_submitted_at is None or r.state not in (ReturnState.SUBMITTED, ReturnState.APPROVED):
            return None
        return r.first_submitted_at.date() <= r.round.due_date

    @property
    def on_time_text(self) -> str:
        if self.on_time is not None:
            return "Yes" if self.on_time else "No"
        if self.return_obj.state == ReturnState.RETURNED:
            return "Not yet: sent back for correction"
        if self.return_obj.first_submitted_at is not None:
            return "Not yet: reopened"
        return "—"

    @property
    def chaseable(self) -> bool:
        """Not submitted (draft or sent back): a reminder can be sent about it."""
        return self.return_obj.state in EDITABLE_STATES

    @property
    def completeness(self) -> float:
        return self.supplied / self.owed * 100 if self.owed else 100.0


def tracker(*, framework: Framework, agency: Agency | None = None, today: dt.date | None = None) -> list[ReturnStatus]:
    """Every return (of ``agency``, or all) with its state, completeness and timeliness. Fixed queries."""
    today = today or timezone.localdate()
    lines = owed_lines(framework=framework)
    owed_by_agency: dict[int, set[Key]] = defaultdict(set)
    for line in lines:
        owed_by_agency[line.metric.agency_id].add(line.key)
    returns = Return.objects.in_scope().select_related("round", "agency").order_by("-round__period", "agency__name")
    if agency is not None:
        returns = returns.filter(agency=agency)
    returns_list = list(returns)
    supplied: dict[int, set[Key]] = defaultdict(set)
    for return_id, metric_id, area_id, category_id in ReturnValue.objects.filter(
        return_obj__in=returns_list
    ).values_list("return_obj_id", "metric_id", "area_id", "category_id"):
        supplied[return_id].add((metric_id, area_id, category_id))
    out = []
    for r in returns_list:
        owed = owed_by_agency.get(r.agency_id, set())
        out.append(ReturnStatus(r, len(owed), len(owed & supplied[r.pk]), today))
    return out


# --- findings on a saved return ----------------------------------------------------------------------------
def return_findings(*, return_obj: Return, values: list[ReturnValue] | None = None) -> list[Finding]:
    if values is None:
        values = list(return_obj.values.select_related("metric"))
    return evaluate(values=values, framework=current_framework(), period=return_obj.round.period)


def history_for(*, lines: list[OwedLine], period: dt.date, quarters: int = 4) -> dict[Key, list[Observation | None]]:
    """The approved values of the ``quarters`` before ``period`` for each line (None where missing). The lines
    are the current framework's (``owed_lines``), so their metrics are the partnership's or shared ones."""
    quarter = Quarter.from_end_date(period)
    periods = [quarter.shift(-k).end_date for k in range(quarters, 0, -1)]
    found: dict[tuple[Key, dt.date], Observation] = {}
    if lines:
        query = Observation.objects.filter(
            metric_id__in={line.metric.pk for line in lines},
            area_id__in={line.area.pk for line in lines},
            period__in=periods,
        )
        for obs in query:
            found[((obs.metric_id, obs.area_id, obs.category_id), obs.period)] = obs
    return {line.key: [found.get((line.key, p)) for p in periods] for line in lines}


def can_act(user: Any, return_obj: Return, perm: Perm) -> bool:
    return has_perm(user, perm, agency=return_obj.agency_id)


def require_return_access(user: Any, return_obj: Return) -> None:
    if not has_perm(user, Perm.VIEW_AGENCY_RETURNS, agency=return_obj.agency_id):
        raise PermissionDenied("This return belongs to another agency.")


REMIND_EVERY = dt.timedelta(hours=24)


def last_reminders(*, agency_ids: set[int], since: dt.datetime | None = None) -> dict[int, dt.datetime]:
    """When each agency was last sent a reminder from the tracker (within ``REMIND_EVERY`` of ``since``, by
    default now): reminders are limited to one per agency per ``REMIND_EVERY``. One query."""
    since = since or timezone.now()
    events = list(
        AuditEvent.objects.filter(
            action=AuditAction.RETURN_REMINDED,
            at__gt=since - REMIND_EVERY,
            return_id__in=Return.objects.in_scope().filter(agency_id__in=agency_ids).values("pk"),
        )
        .order_by()
        .values_list("return_id", "at")
    )
    agency_of = dict(Return.objects.in_scope().filter(pk__in={r for r, _ in events}).values_list("pk", "agency_id"))
    last: dict[int, dt.datetime] = {}
    for return_id, at in events:
        agency_id = agency_of[return_id]
        if agency_id not in last or at > last[agency_id]:
            last[agency_id] = at
    return last


def next_round(*, today: dt.date) -> tuple[Quarter, dt.date]:
    """The quarter to open a round for in the current partnership and its suggested due date: the quarter after
    its latest round, else after the latest approved figure it reads (never the calendar's quarter: data lags
    it), else the last whole quarter; due 30 days after the quarter ends and never sooner than two weeks from
    today."""
    latest_round = CollectionRound.objects.in_scope().aggregate(last=Max("period"))["last"]
    latest_data = Observation.objects.in_scope().aggregate(last=Max("period"))["last"]
    if latest_round is not None:
        quarter = Quarter.from_end_date(latest_round).shift(1)
    elif latest_data is not None:
        quarter = Quarter.from_end_date(latest_data).shift(1)
    else:
        quarter = Quarter.containing(today).previous()
    due = max(quarter.end_date + dt.timedelta(days=30), today + dt.timedelta(days=14))
    return quarter, due


# --- work queues (the home page) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class QueuedReturn:
    """A return on someone's to-do list, with the days left before its round's due date."""

    return_obj: Return
    today: dt.date
    findings: tuple[Finding, ...] = ()
    labels: tuple[str, ...] = ()  # what each finding is about ("OFF02 Stafford"), in the findings' order

    @property
    def labelled_findings(self) -> list[tuple[str, Finding]]:
        return list(zip(self.labels, self.findings, strict=True)) if self.labels else [("", f) for f in self.findings]

    @property
    def days_left(self) -> int:
        return (self.return_obj.round.due_date - self.today).days

    @property
    def due_text(self) -> str:
        days = self.days_left
        if days > 1:
            return f"due in {days} days"
        if days == 1:
            return "due tomorrow"
        if days == 0:
            return "due today"
        return f"{-days} day{'s' if days != -1 else ''} late"


@dataclass
class AnalystQueue:
    due: list[QueuedReturn]  # drafts not yet submitted, soonest first
    returned: list[QueuedReturn]  # sent back for correction, with the reason
    warnings: list[QueuedReturn]  # open returns with warnings that still need a comment

    @property
    def count(self) -> int:
        return len(self.due) + len(self.returned)


def analyst_queue(*, framework: Framework | None, agency: Agency | int, today: dt.date | None = None) -> AnalystQueue:
    """The agency's open returns in the current partnership (draft or returned for correction): due with days
    left, returned with the reason, and the warnings still awaiting a comment. Queries: two, plus the checks'
    few for each open return (an agency has one per open round, whatever the number of metrics)."""
    today = today or timezone.localdate()
    open_returns = list(
        Return.objects.in_scope()
        .filter(agency=agency, state__in=EDITABLE_STATES)
        .select_related("round", "agency")
        .prefetch_related(Prefetch("values", queryset=ReturnValue.objects.select_related("metric", "area", "category")))
        .order_by("round__due_date", "round__period")
    )
    due: list[QueuedReturn] = []
    returned: list[QueuedReturn] = []
    warnings: list[QueuedReturn] = []
    for r in open_returns:
        (returned if r.state == ReturnState.RETURNED else due).append(QueuedReturn(r, today))
        values = list(r.values.all())
        if values:
            comments = {v.key: v.comment for v in values}
            waiting = needing_comment(evaluate(values=values, framework=framework, period=r.round.period), comments)
            if waiting:
                by_key = {v.key: v for v in values}
                labels = tuple(_value_label(by_key.get(f.key)) for f in waiting)
                warnings.append(QueuedReturn(r, today, tuple(waiting), labels))
    return AnalystQueue(due=due, returned=returned, warnings=warnings)


def _value_label(value: ReturnValue | None) -> str:
    """What a finding is about, in words: the metric's code, the area and the category ("OFF02 Stafford")."""
    if value is None:
        return ""
    category = f" {value.category.name}" if value.category is not None else ""
    return f"{value.metric.code} {value.area.name}{category}"


def awaiting_approval() -> list[Return]:
    """The current partnership's submitted returns, oldest submission first. One query."""
    return list(
        Return.objects.in_scope()
        .filter(state=ReturnState.SUBMITTED)
        .select_related("round", "agency")
        .order_by("submitted_at")
    )


def late_returns(*, today: dt.date | None = None) -> list[QueuedReturn]:
    """The current partnership's returns past their round's due date and not yet submitted. One query."""
    today = today or timezone.localdate()
    query = (
        Return.objects.in_scope()
        .filter(state__in=EDITABLE_STATES, round__due_date__lt=today)
        .select_related("round", "agency")
        .order_by("round__due_date", "agency__name")
    )
    return [QueuedReturn(r, today) for r in query]


def latest_round() -> CollectionRound | None:
    """The current partnership's latest collection round."""
    return CollectionRound.objects.in_scope().order_by("-period").first()


def returns_to_do_count(user: Any) -> int:
    """The number beside "Returns" in the navigation, in the current partnership: submitted returns awaiting a
    manager's approval, or an analyst's open returns (draft or returned). One query, none for a role without
    returns."""
    if has_perm(user, Perm.APPROVE_RETURN):
        return int(Return.objects.in_scope().filter(state=ReturnState.SUBMITTED).count())
    agency_id = user_agency_id(user)
    if agency_id and has_perm(user, Perm.SUBMIT_RETURN):
        return int(Return.objects.in_scope().filter(agency_id=agency_id, state__in=EDITABLE_STATES).count())
    return 0
