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
from accounts.partnerships import default_partnership, several_partnerships
from accounts.tenancy import partnership_scope
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
from metrics.models import FrameworkMetric, Metric, Observation, Rebase, SourceType, ValidationRule
from metrics.shared import is_host, used_elsewhere

from .export import framework_export
from .schema import FrameworkFileError, FrameworkSpec, MetricSpec, parse_framework_text


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


def framework_load(*, text: str, actor: Any = None, partnership: Partnership | None = None) -> LoadResult:
    """Create or update everything a framework file names, in one transaction, in the framework's partnership
    (``framework.partnership``; a file without it: the default partnership). ``partnership``: the partnership
    the caller works in (the framework page's, a command's ``--partnership``): the file must name it or none
    (it then loads into it).

    The framework's own metrics belong to its partnership; official statistics are shared (one per code, reused
    by every partnership whose framework places them). Raises ``FrameworkFileError`` (nothing written) when the
    file or the change it asks for is invalid.
    """
    spec = parse_framework_text(text)
    try:
        with transaction.atomic():
            data_changed()  # definitions, structure or SPC settings may change: cached pages are out of date
            return _apply(spec, actor, partnership)
    except (IntegrityError, ProtectedError) as exc:
        raise FrameworkFileError([f"file: the database refused the change ({exc})"]) from None


def _partnership_of(spec: FrameworkSpec, asked: Partnership | None) -> Partnership:
    """The partnership the file loads into: the one it names (or the default one), which must be ``asked``
    when the caller works in a partnership (a file naming none then loads into ``asked``)."""
    named = Partnership.objects.get(code=spec.partnership) if spec.partnership is not None else None
    if asked is None:
        return named if named is not None else default_partnership()
    if named is not None and named.pk != asked.pk:
        raise FrameworkFileError(
            [
                f"framework.partnership: the file is for partnership '{named.code}', not '{asked.code}' (the "
                "partnership you are working in); load it there"
            ]
        )
    return asked


def _metric_definition(metric: Metric) -> dict[str, Any]:
    """A stored metric's definition, in the terms of the file (codes, not ids)."""
    return {
        "name": metric.name,
        "agency": metric.agency.code,
        "unit": metric.unit,
        "direction": metric.direction,
        "source_type": metric.source_type,
        "basis": metric.basis,
        "description": metric.description,
        "caveats": metric.caveats,
        "spc.screen_outliers": metric.spc_screen_outliers,
        "spc.run_length": metric.spc_run_length,
        "spc.trend_length": metric.spc_trend_length,
        "public": metric.public,
        "decimals": metric.decimals,
        "comparable": metric.comparable,
        "source": dict(metric.source or {}),
        "local_areas": metric.local_areas,
        "plausible.min": metric.plausible_min,
        "plausible.max": metric.plausible_max,
        "breakdowns": sorted(b.code for b in metric.breakdowns.all()),
        "areas": sorted(a.code for a in metric.areas.all()),
    }


def _spec_definition(m: MetricSpec) -> dict[str, Any]:
    """A metric's definition as the file gives it (the keys of ``_metric_definition``)."""
    return {
        "name": m.name,
        "agency": m.agency,
        "unit": m.unit,
        "direction": m.direction,
        "source_type": m.source_type,
        "basis": m.basis,
        "description": m.description,
        "caveats": m.caveats,
        "spc.screen_outliers": m.screen_outliers,
        "spc.run_length": m.run_length,
        "spc.trend_length": m.trend_length,
        "public": m.public,
        "decimals": m.decimals,
        "comparable": m.comparable,
        "source": dict(m.source or {}),
        "local_areas": m.local_areas,
        "plausible.min": m.plausible_min,
        "plausible.max": m.plausible_max,
        "breakdowns": sorted(m.breakdowns),
        "areas": sorted(m.areas),
    }


def _check_metric_codes(spec: FrameworkSpec, partnership: Partnership, actor: Any) -> dict[str, Metric]:
    """Where each metric of the file lives, checked before anything is written: the partnership's own metric
    or the shared one with its code (returned by code, for those that exist). Raises ``FrameworkFileError``
    listing every metric that cannot be loaded as asked:

    - an official statistic is shared: its code must not be another partnership's own metric code, and its
      definition changes only while no other partnership's framework places it (or by the host);
    - a partnership's own metric must not take the code of a shared one another partnership's framework places
      (one that no other partnership uses becomes the partnership's own)."""
    placed = [
        (f"priorities[{i}].metrics[{j}]", m) for i, p in enumerate(spec.priorities) for j, m in enumerate(p.metrics)
    ]
    found = list(
        Metric.objects.filter(code__in={m.code for _, m in placed})
        .select_related("agency")
        .prefetch_related("breakdowns", "areas")
    )
    shared = {m.code: m for m in found if m.partnership_id is None}
    own = {m.code: m for m in found if m.partnership_id == partnership.pk}
    elsewhere = {m.code for m in found if m.partnership_id not in (None, partnership.pk)}
    in_use = used_elsewhere(metric_ids=[m.pk for m in shared.values()], partnership_id=partnership.pk)
    host = is_host(actor)
    errors: list[str] = []
    for path, m in placed:
        stored = shared.get(m.code)
        if m.source_type == SourceType.OFFICIAL_STATISTICS:
            if stored is None and m.code in elsewhere:
                errors.append(
                    f"{path}.code: '{m.code}' is another partnership's own metric code; a shared official "
                    "statistic needs a code no partnership uses for its own metrics"
                )
            elif stored is not None and stored.pk in in_use and not host:
                theirs, ours = _metric_definition(stored), _spec_definition(m)
                differ = [key for key in ours if ours[key] != theirs[key]]
                if differ:
                    errors.append(
                        f"{path}: '{m.code}' is a shared official statistic that another partnership's framework "
                        f"uses, so its definition is not changed here: {', '.join(differ)} differ from the shared "
                        "definition (give the shared definition, as the exported file has it, or ask the host "
                        "to change it)"
                    )
        elif stored is not None and stored.pk in in_use:
            errors.append(
                f"{path}.code: '{m.code}' is the code of a shared official statistic that another partnership's "
                "framework uses; a partnership's own metric needs a code of its own (or give source_type "
                "official_statistics to use the shared one)"
            )
    if errors:
        raise FrameworkFileError(errors)
    return {**shared, **own}


def _apply(spec: FrameworkSpec, actor: Any, asked: Partnership | None = None) -> LoadResult:
    partnership = _partnership_of(spec, asked)
    with partnership_scope(partnership):  # audited in, and written for, the framework's partnership
        return _apply_in(spec, actor, partnership)


def _check_reference_changes(changes: list[str], actor: Any) -> None:
    """Agencies, areas (and which areas lie under which), peer groups and breakdowns are shared by every
    partnership: once the service has several, only the host changes them; a partnership's file may name them
    only as they are stored. Raises (the load is one transaction: nothing stays written)."""
    if not changes or is_host(actor) or not several_partnerships():
        return
    raise FrameworkFileError(
        [
            f"{change}: agencies, areas, peer groups and breakdowns are shared by every partnership on this "
            "service, so only the host may change them (give them in the file exactly as they are stored, or ask "
            "the host to load the change)"
            for change in changes
        ]
    )


def _apply_in(spec: FrameworkSpec, actor: Any, partnership: Partnership) -> LoadResult:
    stored_metrics = _check_metric_codes(spec, partnership, actor)
    loader = _Loader(actor)
    before_reference = len(loader.changes)
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

    _check_reference_changes(loader.changes[before_reference:], actor)
    agency_ids = dict(Agency.objects.values_list("code", "id"))
    group_ids = dict(PeerGroup.objects.values_list("code", "id"))
    breakdown_ids = dict(Breakdown.objects.values_list("code", "id"))
    framework = loader.upsert(
        Framework,
        {"code": spec.code, "partnership_id": partnership.pk},
        {
            "name": spec.name,
            "home_area_id": area_ids[spec.home_area],
            "peer_group_id": group_ids.get(spec.peer_group or ""),
        },
        f"framework {spec.code}",
    )
    wanted_priorities = [p.code for p in spec.priorities]
    wanted_metrics: list[str] = []
    metric_ids: dict[str, int] = {}
    for p_order, p in enumerate(spec.priorities):
        priority = loader.upsert(
            Priority, {"framework": framework, "code": p.code}, {"name": p.name, "order": p_order}, f"priority {p.code}"
        )
        for m_order, m in enumerate(p.metrics):
            wanted_metrics.append(m.code)
            # An official statistic is shared (no partnership); every other metric is the partnership's own.
            target = None if m.source_type == SourceType.OFFICIAL_STATISTICS else partnership.pk
            stored = stored_metrics.get(m.code)
            old_unit = stored.unit if stored is not None else None
            metric = loader.upsert(
                Metric,
                {"code": m.code, "partnership_id": stored.partnership_id if stored is not None else target},
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
            metric_ids[m.code] = metric.pk
            if metric.partnership_id != target:
                _move_metric(loader, metric, target, partnership)
            if old_unit is not None and old_unit != m.unit:
                Observation.objects.filter(metric=metric).update(unit=m.unit)
            _sync_m2m(loader, metric, "breakdowns", {breakdown_ids[b] for b in m.breakdowns})
            _sync_m2m(loader, metric, "areas", {area_ids[a] for a in m.areas})
            # Rebases are the partnership's decisions, on its own and on shared metrics alike.
            for period, reason in m.rebases:
                loader.upsert(
                    Rebase,
                    {"partnership": partnership, "metric": metric, "period": period},
                    {"reason": reason},
                    f"rebase {m.code} {period}",
                )
            loader.delete(
                metric.rebases.filter(partnership=partnership).exclude(period__in=[d for d, _ in m.rebases]),
                f"rebase of {m.code}",
            )
            loader.upsert(
                FrameworkMetric,
                {"framework": framework, "metric": metric},
                {"priority": priority, "order": m_order},
                f"place of {m.code}",
            )
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


def framework_preview(*, text: str, actor: Any = None, partnership: Partnership | None = None) -> LoadResult:
    """What loading ``text`` would create, update, delete and leave unchanged, worked out by the loader
    itself in a transaction that is then rolled back: nothing is written. Raises ``FrameworkFileError``
    like ``framework_load``."""
    spec = parse_framework_text(text)
    outcome: list[LoadResult] = []
    try:
        with transaction.atomic():
            outcome.append(_apply(spec, actor, partnership))
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
    content = framework_export(code=framework.code, partnership=framework.partnership)
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


def _move_metric(loader: _Loader, metric: Metric, target: int | None, partnership: Partnership) -> None:
    """A metric whose file now says it is (or is no longer) an official statistic: it becomes shared (or the
    partnership's own). ``_check_metric_codes`` has made sure no other partnership's framework depends on it."""

    def name(pid: int | None) -> str:
        return "shared" if pid is None else partnership.code

    old = metric.partnership_id
    Metric.objects.filter(pk=metric.pk).update(partnership_id=target)
    metric.partnership_id = target
    loader.updated_after(
        f"metric {metric.code}",
        f"partnership of metric {metric.code}",
        metric,
        summary="partnership",
        old={"partnership": name(old)},
        new={"partnership": name(target)},
    )


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
