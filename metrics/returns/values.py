"""A return's values: checking rows against the return, saving the web grid and the analyst's comments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.access import Perm, require
from accounts.audit import AuditAction, record, record_rows
from accounts.bulk import analyze, insert_rows, update_rows
from accounts.tenancy import current_partnership_id
from frameworks.models import Area, BreakdownCategory
from frameworks.selectors import current_framework
from metrics.imports.checks import Row, check_rows, numbers_of, same_numbers
from metrics.imports.parse import COLUMNS
from metrics.imports.summary import ISSUES_PER_KIND, ImportSummary, Issue
from metrics.models import FIGURE_VALUE_FIELDS, FrameworkMetric, Return, ReturnState, ReturnValue
from metrics.quarters import period_label

from .services import check_editable, lock_return, move_return
from .template_file import unfilled_dropped
from .validation import Finding, Key, evaluate


def _period_issues(rows: list[Row], period: dt.date, summary: ImportSummary) -> list[Row]:
    kept = []
    for row in rows:
        if row.period != period:
            summary.errors.append(
                Issue(
                    row.row,
                    "period",
                    "bad_period",
                    f"{period_label(row.period)} is not this return's quarter ({period_label(period)})",
                )
            )
        else:
            kept.append(row)
    return kept


def _partnership_issues(rows: list[Row], summary: ImportSummary) -> list[Row]:
    """The rows whose metric the current partnership may give figures for: its own or a shared one. Another
    partnership's metric is unknown here, as the import core says of a code it does not know."""
    foreign = {row.metric.partnership_id for row in rows} - {None}
    if not foreign:
        return rows  # shared metrics only: nothing to ask
    mine = current_partnership_id()
    kept = []
    for row in rows:
        if row.metric.partnership_id not in (None, mine):
            summary.errors.append(Issue(row.row, "metric", "unknown_metric", f"unknown metric '{row.metric.code}'"))
        else:
            kept.append(row)
    return kept


@dataclass
class ValuesCheck:
    summary: ImportSummary
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    created: list[Row] = field(default_factory=list)
    updated: list[tuple[Row, ReturnValue]] = field(default_factory=list)


def check_return_rows(
    *,
    return_obj: Return,
    positions: dict[str, int],
    raw_rows: list[tuple[int, list[Any]]],
    filename: str,
    progress: Any = None,
    findings: bool = True,
    issue_cap: int | None = ISSUES_PER_KIND,
) -> ValuesCheck:
    """The import core's checks plus this return's own (its quarter), and what would change; with
    ``findings``, also the rules and unusual-figure checks on the return as it would be. ``issue_cap``: problems
    kept per kind (None for the web grid, whose every problem goes on its cell)."""
    summary = ImportSummary(filename=filename, issue_cap=issue_cap)
    raw_rows = unfilled_dropped(positions, raw_rows)  # a template's lines not yet filled in add nothing
    rows = check_rows(
        positions=positions, raw_rows=raw_rows, agency=return_obj.agency, summary=summary, progress=progress
    )
    rows = _period_issues(_partnership_issues(rows, summary), return_obj.round.period, summary)
    check = ValuesCheck(summary=summary, rows=rows)
    if summary.errors:
        return check
    existing = _sort_rows(check, return_obj)
    if not findings:
        return check
    merged: dict[Key, Any] = dict(existing)
    numbers: dict[Key, int] = {}
    for row in rows:
        key = (row.metric.id, row.area_id, row.category_id)
        merged[key] = row
        numbers[key] = row.row
    framework = current_framework()
    check.findings = evaluate(
        values=list(merged.values()), framework=framework, period=return_obj.round.period, rows=numbers
    )
    return check


def checked_return_rows(*, return_obj: Return, rows: list[Row], rows_read: int, filename: str) -> ValuesCheck:
    """What rows checked earlier (the preview's, kept with the upload) would change in the return now."""
    summary = ImportSummary(filename=filename)
    summary.rows_read = rows_read
    check = ValuesCheck(summary=summary, rows=rows)
    _sort_rows(check, return_obj)
    return check


def _sort_rows(check: ValuesCheck, return_obj: Return) -> dict[Key, ReturnValue]:
    """Sort the check's rows into new, changed and unchanged values of the return; its values by key."""
    existing = {v.key: v for v in return_obj.values.all()}
    summary = check.summary
    for row in check.rows:
        current = existing.get((row.metric.id, row.area_id, row.category_id))
        if current is None:
            check.created.append(row)
        elif _same_value(current, row):
            summary.unchanged += 1
        else:
            check.updated.append((row, current))
    summary.created, summary.updated = len(check.created), len(check.updated)
    return existing


def _same_value(current: ReturnValue, row: Row) -> bool:
    return same_numbers(current, row) and current.status == row.status and current.note == row.note


# The columns a return's value is written with, in order (``write_values``).
VALUE_INSERT_FIELDS = (
    "return_obj",
    "metric",
    "area",
    "category",
    "unit",
    *FIGURE_VALUE_FIELDS,
    "comment",
    "source",
    "source_row",
    "updated_at",
    "updated_by",
)
VALUE_UPDATE_FIELDS = (*FIGURE_VALUE_FIELDS, "source", "source_row", "updated_at", "updated_by")


def write_values(return_obj: Return, check: ValuesCheck, actor: Any, source: str) -> None:
    """Write checked rows into the return in set-based statements (``accounts.bulk``: COPY on PostgreSQL,
    executemany on SQLite), a changed value's old figures in the audit trail; then the return's version."""
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    name = source[:300]
    web = source == "web form"
    insert_rows(
        ReturnValue,
        VALUE_INSERT_FIELDS,
        (
            (
                return_obj.pk,
                row.metric.id,
                row.area_id,
                row.category_id,
                row.metric.unit,
                row.value,
                row.numerator,
                row.denominator,
                row.missing,
                row.status,
                row.note,
                row.illustrative,
                "",
                name,
                None if web else row.row,
                now,
                actor_id,
            )
            for row in check.created
        ),
    )
    update_rows(
        ReturnValue,
        VALUE_UPDATE_FIELDS,
        (
            (
                row.value,
                row.numerator,
                row.denominator,
                row.missing,
                row.status,
                row.note,
                row.illustrative,
                name,
                None if web else row.row,
                now,
                actor_id,
                current.pk,
            )
            for row, current in check.updated
        ),
    )
    record_rows(
        actor=actor,
        rows=(
            (
                AuditAction.RETURN_VALUE_CHANGED,
                "metrics.returnvalue",
                str(current.pk),
                f"{row.metric.code} area {row.area_id} category {row.category_id}",
                numbers_of(current),
                numbers_of(row),
                return_obj.pk,
                row.metric.code,
            )
            for row, current in check.updated
        ),
    )
    analyze(ReturnValue, rows=len(check.created) + len(check.updated))
    summary = f"{source}: {len(check.created)} added, {len(check.updated)} changed"
    if return_obj.state == ReturnState.RETURNED:  # corrections under way: a draft again
        move_return(return_obj, AuditAction.RETURN_VALUES_SAVED, actor=actor, fields=[], summary=summary)
        return
    return_obj.version += 1
    return_obj.save(update_fields=["version", "updated_at"])
    record(AuditAction.RETURN_VALUES_SAVED, actor=actor, obj=return_obj, summary=summary, return_id=return_obj.pk)


GRID_COLUMNS = COLUMNS


def return_save_grid(*, actor: Any, return_obj: Return, version: int, entries: list[dict[str, Any]]) -> ValuesCheck:
    """Save the web form grid as a draft. ``entries``: one dict per line with GRID_COLUMNS keys; a line with
    no value, numerator or denominator is left out (or, if saved before, removed). A problem with entry
    ``i`` is reported on row ``i + 1``, blank lines counted, so the page can put it on its cell."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    positions = {name: i for i, name in enumerate(GRID_COLUMNS)}

    def filled(entry: dict[str, Any]) -> bool:
        return any(str(entry.get(k) or "").strip() for k in ("value", "numerator", "denominator"))

    cleared = [e for e in entries if not filled(e)]
    raw_rows = [(index + 1, [e.get(name) for name in GRID_COLUMNS]) for index, e in enumerate(entries) if filled(e)]
    with transaction.atomic():
        locked = lock_return(return_obj, version)
        check_editable(locked)
        check = check_return_rows(
            return_obj=locked, positions=positions, raw_rows=raw_rows, filename="web form", issue_cap=None
        )
        if check.summary.errors:
            transaction.set_rollback(True)
            return check
        write_values(locked, check, actor, "web form")
        removed = _remove_cleared(locked, cleared, actor)
        if removed and not (check.created or check.updated):
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])
    return check


def _remove_cleared(return_obj: Return, cleared: list[dict[str, Any]], actor: Any) -> int:
    if not cleared:
        return 0
    # The grid's lines are the current framework's: a code names the metric placed there.
    metrics = dict(
        FrameworkMetric.objects.filter(
            framework=current_framework(), metric__code__in={e["metric"] for e in cleared}
        ).values_list("metric__code", "metric_id")
    )
    areas = dict(Area.objects.filter(code__in={e["area"] for e in cleared}).values_list("code", "id"))
    categories = {f"{b}/{c}": pk for b, c, pk in BreakdownCategory.objects.values_list("breakdown__code", "code", "id")}
    existing = {v.key: v for v in return_obj.values.all()}
    removed = 0
    for entry in cleared:
        key = (
            metrics.get(entry["metric"]),
            areas.get(entry["area"]),
            categories.get(f"{entry.get('breakdown')}/{entry.get('category')}") if entry.get("category") else None,
        )
        value = existing.get(key)
        if value is not None:
            record(
                AuditAction.RETURN_VALUE_REMOVED,
                actor=actor,
                obj=value,
                old={"value": value.value, "missing": value.missing},
                return_id=return_obj.pk,
                metric_code=entry["metric"],
            )
            value.delete()
            removed += 1
    return removed


def return_save_comments(*, actor: Any, return_obj: Return, version: int, comments: dict[int, str]) -> None:
    """Keep the analyst's explanations of warnings with the values (``comments``: value id -> text)."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    with transaction.atomic():
        locked = lock_return(return_obj, version)
        check_editable(locked)
        values = {v.pk: v for v in locked.values.filter(pk__in=list(comments))}
        changed = []
        for pk, text in comments.items():
            value = values.get(pk)
            if value is None or value.comment == text.strip():
                continue
            record(
                AuditAction.RETURN_VALUE_COMMENTED,
                actor=actor,
                obj=value,
                old={"comment": value.comment},
                new={"comment": text.strip()},
                return_id=locked.pk,
                metric_code=value.metric.code,
            )
            value.comment = text.strip()
            changed.append(value)
        ReturnValue.objects.bulk_update(changed, ["comment"])
        if changed:
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])
