"""Loading a framework file: ``framework_load`` is the one service that writes one into the database.

Idempotent (loading the same file twice changes nothing) and all or nothing (one transaction); every change is
audited, and a changed framework gets a new version holding its exported file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.audit import AuditAction, record
from accounts.models import Agency, Partnership
from accounts.partnerships import default_partnership
from accounts.versions import data_changed
from frameworks.models import (
    Area,
    Breakdown,
    BreakdownCategory,
    Framework,
    FrameworkVersion,
    PeerGroup,
    PeerGroupMembership,
    Priority,
)
from metrics.models import FrameworkMetric, Metric, Observation, Rebase, ValidationRule

from .export import framework_export
from .schema import FrameworkFileError, FrameworkSpec, parse_framework_text


@dataclass
class LoadResult:
    framework: Framework
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    changes: list[str] = field(default_factory=list)
    unchanged_items: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


class _Loader:
    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.created = self.updated = self.unchanged = self.deleted = 0
        self.changes: list[str] = []
        self.unchanged_items: list[str] = []

    def upsert(self, model: type[Any], lookup: dict[str, Any], values: dict[str, Any], label: str) -> Any:
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model.objects.create(**lookup, **values)
            self.created += 1
            self.changes.append(f"created {label}")
            record(AuditAction.FRAMEWORK_FILE_CREATED, actor=self.actor, obj=obj, summary=label, new=_jsonable(values))
            return obj
        old = {k: _field_value(obj, k) for k in values}
        new = {k: _field_value_raw(v) for k, v in values.items()}
        if old == new:
            self.unchanged += 1
            self.unchanged_items.append(label)
            return obj
        for key, value in values.items():
            setattr(obj, key, value)
        obj.save()
        self.updated += 1
        self.changes.append(f"updated {label}")
        diff_old = {k: v for k, v in old.items() if new[k] != v}
        diff_new = {k: new[k] for k in diff_old}
        record(
            AuditAction.FRAMEWORK_FILE_UPDATED,
            actor=self.actor,
            obj=obj,
            summary=label,
            old=_jsonable(diff_old),
            new=_jsonable(diff_new),
        )
        return obj

    def upsert_coded(self, model: type[Any], row: dict[str, Any], names: tuple[str, ...], label: str) -> Any:
        """``upsert`` of a row the file names by its ``code``, with the fields ``names`` taken from the file."""
        code = row["code"]
        return self.upsert(model, {"code": code}, {name: row[name] for name in names}, f"{label} {code}")

    def updated_after(self, label: str, change: str, obj: Any, *, audit_created: bool = False, **audit: Any) -> None:
        """A change made after ``upsert`` (a parent, members, a named category, a related set): one more
        update, unless ``label`` was created by this load, and audited (a created one only if ``audit_created``)."""
        if f"created {label}" not in self.changes:
            self.updated += 1
            self.changes.append(f"updated {change}")
        elif not audit_created:
            return
        record(AuditAction.FRAMEWORK_FILE_UPDATED, actor=self.actor, obj=obj, **audit)

    def delete(self, queryset: Any, label: str) -> None:
        for obj in list(queryset):
            record(AuditAction.FRAMEWORK_FILE_DELETED, actor=self.actor, obj=obj, summary=f"{label} {obj}")
            obj.delete()
            self.deleted += 1
            self.changes.append(f"deleted {label} {obj}")


def _field_value(obj: Any, key: str) -> Any:
    field_obj = obj._meta.get_field(key)
    if field_obj.is_relation:
        return getattr(obj, field_obj.attname)
    return getattr(obj, key)


def _field_value_raw(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        value = _field_value_raw(value)
        out[key] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def framework_load(*, text: str, actor: Any = None) -> LoadResult:
    """Create or update everything a framework file names, in one transaction.

    Raises ``FrameworkFileError`` (nothing written) when the file or the change it asks for is invalid.
    """
    spec = parse_framework_text(text)
    try:
        with transaction.atomic():
            data_changed()  # definitions, structure or SPC settings may change: cached pages are out of date
            return _apply(spec, actor)
    except (IntegrityError, ProtectedError) as exc:
        raise FrameworkFileError([f"file: the database refused the change ({exc})"]) from None


def _apply(spec: FrameworkSpec, actor: Any) -> LoadResult:
    loader = _Loader(actor)
    for a in spec.agencies:
        loader.upsert_coded(Agency, a, ("name",), "agency")
    # Areas: create without parents first so a parent may come later in the file.
    areas: dict[str, Area] = {}
    for a in spec.areas:
        existing_parent = Area.objects.filter(code=a["code"]).values_list("parent_id", flat=True).first()
        areas[a["code"]] = loader.upsert(
            Area,
            {"code": a["code"]},
            {
                "name": a["name"],
                "type": a["type"],
                "ons_code": a["ons_code"],
                "parent_id": existing_parent,
                "population": a["population"],
            },
            f"area {a['code']}",
        )
    area_ids = dict(Area.objects.values_list("code", "id"))
    for a in spec.areas:
        obj = areas[a["code"]]
        parent_id = area_ids[a["parent"]] if a["parent"] else None
        if obj.parent_id != parent_id:
            old = obj.parent_id
            obj.parent_id = parent_id
            obj.save(update_fields=["parent"])
            loader.updated_after(
                f"area {a['code']}", f"area {a['code']}", obj, old={"parent": old}, new={"parent": parent_id}
            )
    _check_area_cycles(area_ids)

    for group, members in spec.peer_groups:
        pg = loader.upsert_coded(PeerGroup, group, ("name", "description"), "peer group")
        wanted = {(area_ids[m.area], m.valid_from, m.valid_to) for m in members}
        current = {(m.area_id, m.valid_from, m.valid_to): m for m in pg.memberships.all()}
        if set(current) != wanted:
            old_members = sorted(str(k) for k in current)
            pg.memberships.all().delete()
            PeerGroupMembership.objects.bulk_create(
                PeerGroupMembership(peer_group=pg, area_id=area, valid_from=start, valid_to=end)
                for area, start, end in wanted
            )
            loader.updated_after(
                f"peer group {pg.code}",
                f"members of peer group {pg.code}",
                pg,
                audit_created=True,
                summary="members",
                old=old_members,
                new=sorted(str(k) for k in wanted),
            )

    for bd, categories in spec.breakdowns:
        breakdown = loader.upsert_coded(Breakdown, bd, ("name", "min_recorded"), "breakdown")
        cats = {}
        for order, (code, name) in enumerate(categories):
            cats[code] = loader.upsert(
                BreakdownCategory,
                {"breakdown": breakdown, "code": code},
                {"name": name, "order": order},
                f"category {bd['code']}:{code}",
            )
        loader.delete(breakdown.categories.exclude(code__in=list(cats)), f"category of {bd['code']}")
        for key in ("reference", "not_recorded"):  # categories the breakdown names, set once they exist
            wanted_id = cats[bd[key]].pk if bd[key] else None
            old_id = getattr(breakdown, f"{key}_id")
            if old_id == wanted_id:
                continue
            setattr(breakdown, f"{key}_id", wanted_id)
            breakdown.save(update_fields=[key])
            loader.updated_after(
                f"breakdown {bd['code']}",
                f"{key.replace('_', ' ')} of breakdown {bd['code']}",
                breakdown,
                old={key: old_id},
                new={key: wanted_id},
            )

    agency_ids = dict(Agency.objects.values_list("code", "id"))
    group_ids = dict(PeerGroup.objects.values_list("code", "id"))
    breakdown_ids = dict(Breakdown.objects.values_list("code", "id"))
    partnership = (
        Partnership.objects.get(code=spec.partnership) if spec.partnership is not None else default_partnership()
    )
    framework = loader.upsert(
        Framework,
        {"code": spec.code},
        {
            "partnership_id": partnership.pk,
            "name": spec.name,
            "home_area_id": area_ids[spec.home_area],
            "peer_group_id": group_ids.get(spec.peer_group or ""),
        },
        f"framework {spec.code}",
    )
    wanted_priorities = [p.code for p in spec.priorities]
    wanted_metrics: list[str] = []
    for p_order, p in enumerate(spec.priorities):
        priority = loader.upsert(
            Priority, {"framework": framework, "code": p.code}, {"name": p.name, "order": p_order}, f"priority {p.code}"
        )
        for m_order, m in enumerate(p.metrics):
            wanted_metrics.append(m.code)
            old_unit = Metric.objects.filter(code=m.code).values_list("unit", flat=True).first()
            metric = loader.upsert(
                Metric,
                {"code": m.code},
                {
                    "name": m.name,
                    "agency_id": agency_ids[m.agency],
                    "unit": m.unit,
                    "direction": m.direction,
                    "source_type": m.source_type,
                    "basis": m.basis,
                    "description": m.description,
                    "caveats": m.caveats,
                    "spc_screen_outliers": m.screen_outliers,
                    "spc_run_length": m.run_length,
                    "spc_trend_length": m.trend_length,
                    "public": m.public,
                    "decimals": m.decimals,
                    "comparable": m.comparable,
                    "source": m.source,
                    "local_areas": m.local_areas,
                    "plausible_min": m.plausible_min,
                    "plausible_max": m.plausible_max,
                },
                f"metric {m.code}",
            )
            if old_unit is not None and old_unit != m.unit:
                Observation.objects.filter(metric=metric).update(unit=m.unit)
            _sync_m2m(loader, metric, "breakdowns", {breakdown_ids[b] for b in m.breakdowns})
            _sync_m2m(loader, metric, "areas", {area_ids[a] for a in m.areas})
            for period, reason in m.rebases:
                loader.upsert(
                    Rebase, {"metric": metric, "period": period}, {"reason": reason}, f"rebase {m.code} {period}"
                )
            loader.delete(metric.rebases.exclude(period__in=[d for d, _ in m.rebases]), f"rebase of {m.code}")
            loader.upsert(
                FrameworkMetric,
                {"framework": framework, "metric": metric},
                {"priority": priority, "order": m_order},
                f"place of {m.code}",
            )
    metric_ids = dict(Metric.objects.filter(code__in=wanted_metrics).values_list("code", "id"))
    for rule in spec.rules:
        loader.upsert(
            ValidationRule,
            {"framework": framework, "code": rule["code"]},
            {
                "kind": rule["kind"],
                "metric_id": metric_ids[rule["metric"]],
                "other_metric_id": metric_ids[rule["other"]] if rule["other"] else None,
                "breakdown_id": breakdown_ids[rule["breakdown"]] if rule["breakdown"] else None,
                "minimum": rule["min"],
                "maximum": rule["max"],
                "tolerance": rule["tolerance"],
                "importance": rule["importance"],
                "message": rule["message"],
            },
            f"rule {rule['code']}",
        )
    loader.delete(framework.rules.exclude(code__in=[r["code"] for r in spec.rules]), "rule")
    loader.delete(
        FrameworkMetric.objects.filter(framework=framework).exclude(metric__code__in=wanted_metrics), "place of metric"
    )
    loader.delete(framework.priorities.exclude(code__in=wanted_priorities), "priority")

    if loader.created or loader.updated or loader.deleted or not framework.versions.exists():
        framework_version_save(framework=framework, actor=actor)
    return LoadResult(
        framework,
        loader.created,
        loader.updated,
        loader.unchanged,
        loader.deleted,
        loader.changes,
        loader.unchanged_items,
    )


class _PreviewOnly(Exception):
    """Raised inside the preview's transaction so that everything it wrote is rolled back."""


def framework_preview(*, text: str, actor: Any = None) -> LoadResult:
    """What loading ``text`` would create, update, delete and leave unchanged, worked out by the loader
    itself in a transaction that is then rolled back: nothing is written. Raises ``FrameworkFileError``
    like ``framework_load``."""
    spec = parse_framework_text(text)
    outcome: list[LoadResult] = []
    try:
        with transaction.atomic():
            outcome.append(_apply(spec, actor))
            raise _PreviewOnly
    except _PreviewOnly:
        pass
    except (IntegrityError, ProtectedError) as exc:
        raise FrameworkFileError([f"file: the database refused the change ({exc})"]) from None
    result = outcome[0]
    result.unchanged_items = [item for item in result.unchanged_items if f"updated {item}" not in result.changes]
    return result


def framework_version_save(*, framework: Framework, actor: Any) -> int | None:
    """Keep the framework file as it now stands as a new version (when it changed): every change to the
    framework — a loaded file, a rebase recorded on the metric page — is written back to it."""
    content = framework_export(code=framework.code)
    last = framework.versions.first()
    if last is not None and last.content == content:
        return None
    number = (last.version + 1) if last else 1
    FrameworkVersion.objects.create(
        framework=framework, version=number, content=content, created_by=actor if getattr(actor, "pk", None) else None
    )
    Framework.objects.filter(pk=framework.pk).update(version=number)
    framework.version = number
    record(
        AuditAction.FRAMEWORK_VERSION_CREATED,
        actor=actor,
        obj=framework,
        summary=f"version {number}",
        new={"version": number},
    )
    return number


def _sync_m2m(loader: _Loader, metric: Metric, name: str, wanted: set[int]) -> None:
    related = getattr(metric, name)
    have = set(related.values_list("id", flat=True))
    if wanted == have:
        return
    related.set(wanted)
    loader.updated_after(
        f"metric {metric.code}",
        f"{name} of metric {metric.code}",
        metric,
        summary=name,
        old=sorted(have),
        new=sorted(wanted),
    )


def _check_area_cycles(area_ids: dict[str, int]) -> None:
    parents = dict(Area.objects.values_list("id", "parent_id"))
    names = {v: k for k, v in area_ids.items()}
    for start in parents:
        seen = {start}
        node: int | None = parents[start]
        while node is not None:
            if node in seen:
                raise FrameworkFileError(
                    [f"areas: '{names.get(start, start)}' is its own ancestor (parents form a loop)"]
                )
            seen.add(node)
            node = parents.get(node)
