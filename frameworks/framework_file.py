"""Framework files (CONTRACT §1): validate, load (idempotent, all or nothing) and export.

``framework_load`` is the one service that writes a framework file into the database; the
``load_framework`` command and the admin both call it. Every problem is reported with its key path, e.g.
``priorities[1].metrics[3].unit: 'per cent' is not one of count, percentage, …``, and then nothing is
written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.audit import AuditAction, record
from accounts.models import Agency
from metrics.models import Basis, Direction, Metric, Observation, Rebase, SourceType, Unit
from metrics.quarters import Quarter, QuarterError

from .models import (
    Area,
    AreaType,
    Breakdown,
    BreakdownCategory,
    Framework,
    FrameworkMetric,
    FrameworkVersion,
    Importance,
    PeerGroup,
    PeerGroupMembership,
    Priority,
    RuleKind,
    ValidationRule,
)

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
SPC_DEFAULTS = {"screen_outliers": True, "run_length": 7, "trend_length": 7}


class FrameworkFileError(Exception):
    """The file was rejected; ``errors`` lists every problem as ``path: message``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# --- the parsed file ---------------------------------------------------------------------------------
@dataclass
class MetricSpec:
    code: str
    name: str
    agency: str
    unit: str
    direction: str
    source_type: str
    basis: str
    breakdowns: list[str]
    areas: list[str]
    description: str
    caveats: str
    screen_outliers: bool
    run_length: int
    trend_length: int
    rebases: list[tuple[dt.date, str]]
    public: bool = False


@dataclass
class PrioritySpec:
    code: str
    name: str
    metrics: list[MetricSpec]


@dataclass
class MembershipSpec:
    area: str
    valid_from: dt.date | None
    valid_to: dt.date | None


@dataclass
class FrameworkSpec:
    code: str
    name: str
    home_area: str
    peer_group: str | None
    agencies: list[dict[str, str]] = field(default_factory=list)
    areas: list[dict[str, str]] = field(default_factory=list)
    peer_groups: list[tuple[dict[str, str], list[MembershipSpec]]] = field(default_factory=list)
    breakdowns: list[tuple[dict[str, str], list[tuple[str, str]]]] = field(default_factory=list)
    priorities: list[PrioritySpec] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)


def default_name(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").capitalize()


class _Checker:
    """Collects errors with their key paths."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {type(value).__name__}")
            return None
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join(sorted(required | optional))
                self.error(f"{path}.{key}" if path else str(key), f"unknown key (allowed: {allowed})")
        for key in sorted(required):
            if key not in value or value[key] is None:
                self.error(f"{path}.{key}" if path else key, "is required")
        return value

    def sequence(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list, got {type(value).__name__}")
            return []
        return value

    def text(self, value: Any, path: str, *, required: bool = True, max_length: int = 300) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(path, f"expected text, got {type(value).__name__}")
            return ""
        text = str(value).strip()
        if required and not text:
            self.error(path, "must not be empty")
        if len(text) > max_length:
            self.error(path, f"is longer than {max_length} characters")
        return text

    def code(self, value: Any, path: str, *, max_length: int = 64) -> str:
        text = self.text(value, path, max_length=max_length)
        if text and not CODE_RE.match(text):
            self.error(path, f"'{text}' is not a code (letters, digits, - and _ only)")
        return text

    def choice(self, value: Any, path: str, choices: list[str], default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if value not in choices:
            self.error(path, f"'{value}' is not one of {', '.join(choices)}")
            return choices[0]
        return str(value)

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(path, f"'{value}' is not true or false")
            return default
        return value

    def integer(self, value: Any, path: str, default: int, minimum: int, maximum: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.error(path, f"'{value}' is not a whole number from {minimum} to {maximum}")
            return default
        return value

    def number(self, value: Any, path: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path, f"'{value}' is not a number")
            return None
        return float(value)

    def date(self, value: Any, path: str) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.error(path, f"'{value}' is not a date (YYYY-MM-DD)")
            return None

    def quarter(self, value: Any, path: str) -> dt.date | None:
        try:
            if isinstance(value, dt.date):
                return Quarter.from_end_date(value).end_date
            return Quarter.parse(str(value)).end_date
        except QuarterError as exc:
            self.error(path, str(exc))
            return None

    def unique(self, codes: list[tuple[str, str]], what: str) -> None:
        seen: set[str] = set()
        for path, code in codes:
            if code and code in seen:
                self.error(path, f"{what} '{code}' appears twice")
            seen.add(code)


def parse_framework_text(text: str) -> FrameworkSpec:
    """Parse and check a framework file. Raises ``FrameworkFileError`` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise FrameworkFileError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    c = _Checker()
    top = c.mapping(
        data, "", {"framework", "priorities"}, {"agencies", "areas", "peer_groups", "breakdowns", "validation_rules"}
    )
    if top is None:
        raise FrameworkFileError(c.errors)

    fw = c.mapping(top.get("framework"), "framework", {"code", "name", "home_area"}, {"peer_group"}) or {}
    spec = FrameworkSpec(
        code=c.code(fw.get("code"), "framework.code"),
        name=c.text(fw.get("name"), "framework.name"),
        home_area=c.code(fw.get("home_area"), "framework.home_area"),
        peer_group=c.code(fw["peer_group"], "framework.peer_group") if fw.get("peer_group") is not None else None,
    )

    for i, item in enumerate(c.sequence(top.get("agencies"), "agencies")):
        path = f"agencies[{i}]"
        m = c.mapping(item, path, {"code", "name"}, set())
        if m is not None:
            spec.agencies.append(
                {"code": c.code(m.get("code"), f"{path}.code"), "name": c.text(m.get("name"), f"{path}.name")}
            )
    c.unique([(f"agencies[{i}].code", a["code"]) for i, a in enumerate(spec.agencies)], "agency")

    area_types = [t.value for t in AreaType]
    for i, item in enumerate(c.sequence(top.get("areas"), "areas")):
        path = f"areas[{i}]"
        m = c.mapping(item, path, {"code", "name", "type"}, {"ons_code", "parent"})
        if m is None:
            continue
        ons = c.text(m.get("ons_code"), f"{path}.ons_code", required=False, max_length=9)
        if ons and not re.fullmatch(r"[EWKSN]\d{8}", ons):
            c.error(f"{path}.ons_code", f"'{ons}' is not an ONS code (a letter and 8 digits)")
        spec.areas.append(
            {
                "code": c.code(m.get("code"), f"{path}.code"),
                "name": c.text(m.get("name"), f"{path}.name"),
                "type": c.choice(m.get("type"), f"{path}.type", area_types),
                "ons_code": ons,
                "parent": c.code(m["parent"], f"{path}.parent") if m.get("parent") is not None else "",
            }
        )
    c.unique([(f"areas[{i}].code", a["code"]) for i, a in enumerate(spec.areas)], "area")

    for i, item in enumerate(c.sequence(top.get("peer_groups"), "peer_groups")):
        path = f"peer_groups[{i}]"
        m = c.mapping(item, path, {"code", "name", "members"}, {"description"})
        if m is None:
            continue
        members: list[MembershipSpec] = []
        for j, member in enumerate(c.sequence(m.get("members"), f"{path}.members")):
            mpath = f"{path}.members[{j}]"
            if isinstance(member, dict):
                mm = c.mapping(member, mpath, {"area"}, {"from", "to"}) or {}
                start, end = c.date(mm.get("from"), f"{mpath}.from"), c.date(mm.get("to"), f"{mpath}.to")
                if start and end and end < start:
                    c.error(f"{mpath}.to", "is before 'from'")
                members.append(MembershipSpec(c.code(mm.get("area"), f"{mpath}.area"), start, end))
            else:
                members.append(MembershipSpec(c.code(member, mpath), None, None))
        spec.peer_groups.append(
            (
                {
                    "code": c.code(m.get("code"), f"{path}.code"),
                    "name": c.text(m.get("name"), f"{path}.name"),
                    "description": c.text(m.get("description"), f"{path}.description", required=False, max_length=5000),
                },
                members,
            )
        )
    c.unique([(f"peer_groups[{i}].code", p[0]["code"]) for i, p in enumerate(spec.peer_groups)], "peer group")

    for i, item in enumerate(c.sequence(top.get("breakdowns"), "breakdowns")):
        path = f"breakdowns[{i}]"
        m = c.mapping(item, path, {"code", "name", "categories"}, {"reference"})
        if m is None:
            continue
        categories: list[tuple[str, str]] = []
        for j, cat in enumerate(c.sequence(m.get("categories"), f"{path}.categories")):
            cpath = f"{path}.categories[{j}]"
            if isinstance(cat, dict):
                cm = c.mapping(cat, cpath, {"code"}, {"name"}) or {}
                code = c.code(cm.get("code"), f"{cpath}.code")
                name = c.text(cm.get("name"), f"{cpath}.name", required=False) or default_name(code)
            else:
                code = c.code(cat, cpath)
                name = default_name(code)
            categories.append((code, name))
        if not categories:
            c.error(f"{path}.categories", "must list at least one category")
        c.unique([(f"{path}.categories[{j}]", code) for j, (code, _) in enumerate(categories)], "category")
        reference = c.code(m["reference"], f"{path}.reference") if m.get("reference") is not None else ""
        if reference and reference not in {code for code, _ in categories}:
            c.error(f"{path}.reference", f"'{reference}' is not one of its categories")
        spec.breakdowns.append(
            (
                {
                    "code": c.code(m.get("code"), f"{path}.code"),
                    "name": c.text(m.get("name"), f"{path}.name"),
                    "reference": reference,
                },
                categories,
            )
        )
    c.unique([(f"breakdowns[{i}].code", b[0]["code"]) for i, b in enumerate(spec.breakdowns)], "breakdown")

    metric_keys = {"code", "name", "agency", "unit", "direction", "source_type"}
    metric_optional = {"basis", "breakdowns", "areas", "description", "caveats", "spc", "public"}
    all_metric_codes: list[tuple[str, str]] = []
    priorities = c.sequence(top.get("priorities"), "priorities")
    if not priorities and "priorities" in top:
        c.error("priorities", "must list at least one priority")
    for i, item in enumerate(priorities):
        path = f"priorities[{i}]"
        m = c.mapping(item, path, {"code", "name"}, {"metrics"})
        if m is None:
            continue
        metrics: list[MetricSpec] = []
        for j, met in enumerate(c.sequence(m.get("metrics"), f"{path}.metrics")):
            mpath = f"{path}.metrics[{j}]"
            metric_map = c.mapping(met, mpath, metric_keys, metric_optional)
            if metric_map is None:
                continue
            spc = (
                c.mapping(
                    metric_map.get("spc") or {},
                    f"{mpath}.spc",
                    set(),
                    {"screen_outliers", "run_length", "trend_length", "rebases"},
                )
                or {}
            )
            rebases: list[tuple[dt.date, str]] = []
            for k, reb in enumerate(c.sequence(spc.get("rebases"), f"{mpath}.spc.rebases")):
                rpath = f"{mpath}.spc.rebases[{k}]"
                rm = c.mapping(reb, rpath, {"period", "reason"}, set())
                if rm is None:
                    continue
                period = c.quarter(rm.get("period"), f"{rpath}.period")
                reason = c.text(rm.get("reason"), f"{rpath}.reason", max_length=2000)
                if period:
                    rebases.append((period, reason))
            c.unique(
                [(f"{mpath}.spc.rebases[{k}].period", d.isoformat()) for k, (d, _) in enumerate(rebases)],
                "rebase period",
            )
            bds = c.sequence(metric_map.get("breakdowns"), f"{mpath}.breakdowns")
            spec_metric = MetricSpec(
                code=c.code(metric_map.get("code"), f"{mpath}.code", max_length=32),
                name=c.text(metric_map.get("name"), f"{mpath}.name"),
                agency=c.code(metric_map.get("agency"), f"{mpath}.agency"),
                unit=c.choice(metric_map.get("unit"), f"{mpath}.unit", [u.value for u in Unit]),
                direction=c.choice(metric_map.get("direction"), f"{mpath}.direction", [d.value for d in Direction]),
                source_type=c.choice(
                    metric_map.get("source_type"), f"{mpath}.source_type", [s.value for s in SourceType]
                ),
                basis=c.choice(
                    metric_map.get("basis"), f"{mpath}.basis", [b.value for b in Basis], default=Basis.QUARTER
                ),
                breakdowns=[c.code(b, f"{mpath}.breakdowns[{k}]") for k, b in enumerate(bds)],
                areas=[
                    c.code(a, f"{mpath}.areas[{k}]")
                    for k, a in enumerate(c.sequence(metric_map.get("areas"), f"{mpath}.areas"))
                ],
                description=c.text(
                    metric_map.get("description"), f"{mpath}.description", required=False, max_length=10000
                ),
                caveats=c.text(metric_map.get("caveats"), f"{mpath}.caveats", required=False, max_length=10000),
                screen_outliers=c.boolean(spc.get("screen_outliers"), f"{mpath}.spc.screen_outliers", True),
                run_length=c.integer(spc.get("run_length"), f"{mpath}.spc.run_length", 7, 2, 50),
                trend_length=c.integer(spc.get("trend_length"), f"{mpath}.spc.trend_length", 7, 2, 50),
                rebases=sorted(rebases),
                public=c.boolean(metric_map.get("public"), f"{mpath}.public", False),
            )
            metrics.append(spec_metric)
            all_metric_codes.append((f"{mpath}.code", spec_metric.code))
        spec.priorities.append(
            PrioritySpec(c.code(m.get("code"), f"{path}.code"), c.text(m.get("name"), f"{path}.name"), metrics)
        )
    c.unique([(f"priorities[{i}].code", p.code) for i, p in enumerate(spec.priorities)], "priority")
    c.unique(all_metric_codes, "metric")

    rule_kinds = [k.value for k in RuleKind]
    for i, item in enumerate(c.sequence(top.get("validation_rules"), "validation_rules")):
        path = f"validation_rules[{i}]"
        m = c.mapping(
            item,
            path,
            {"code", "kind", "metric"},
            {"other", "breakdown", "min", "max", "tolerance", "importance", "message"},
        )
        if m is None:
            continue
        kind = c.choice(m.get("kind"), f"{path}.kind", rule_kinds)
        rule: dict[str, Any] = {
            "code": c.code(m.get("code"), f"{path}.code"),
            "kind": kind,
            "metric": c.code(m.get("metric"), f"{path}.metric", max_length=32),
            "other": c.code(m["other"], f"{path}.other", max_length=32) if m.get("other") is not None else "",
            "breakdown": c.code(m["breakdown"], f"{path}.breakdown") if m.get("breakdown") is not None else "",
            "min": c.number(m.get("min"), f"{path}.min"),
            "max": c.number(m.get("max"), f"{path}.max"),
            "tolerance": c.number(m.get("tolerance"), f"{path}.tolerance") or 0.0,
            "importance": c.choice(
                m.get("importance"), f"{path}.importance", [x.value for x in Importance], default=Importance.ERROR
            ),
            "message": c.text(m.get("message"), f"{path}.message", required=False),
        }
        if kind == RuleKind.AT_MOST and not rule["other"]:
            c.error(f"{path}.other", "is required for an at_most rule")
        if kind == RuleKind.BREAKDOWN_SUM and not rule["breakdown"]:
            c.error(f"{path}.breakdown", "is required for a breakdown_sum rule")
        if kind == RuleKind.RANGE and rule["min"] is None and rule["max"] is None:
            c.error(path, "a range rule needs min, max or both")
        if rule["min"] is not None and rule["max"] is not None and rule["min"] > rule["max"]:
            c.error(f"{path}.max", "is below min")
        if (rule["tolerance"] or 0) < 0:
            c.error(f"{path}.tolerance", "must not be negative")
        spec.rules.append(rule)
    c.unique([(f"validation_rules[{i}].code", r["code"]) for i, r in enumerate(spec.rules)], "rule")

    if c.errors:
        raise FrameworkFileError(c.errors)
    _check_references(spec, c)
    if c.errors:
        raise FrameworkFileError(c.errors)
    return spec


def _check_references(spec: FrameworkSpec, c: _Checker) -> None:
    """Every reference names something in the file or already in the database."""
    agencies = {a["code"] for a in spec.agencies} | set(Agency.objects.values_list("code", flat=True))
    areas = {a["code"] for a in spec.areas} | set(Area.objects.values_list("code", flat=True))
    groups = {p[0]["code"] for p in spec.peer_groups} | set(PeerGroup.objects.values_list("code", flat=True))
    breakdowns = {b[0]["code"] for b in spec.breakdowns} | set(Breakdown.objects.values_list("code", flat=True))
    if spec.home_area not in areas:
        c.error("framework.home_area", f"unknown area '{spec.home_area}'")
    if spec.peer_group and spec.peer_group not in groups:
        c.error("framework.peer_group", f"unknown peer group '{spec.peer_group}'")
    for i, area in enumerate(spec.areas):
        if area["parent"] and area["parent"] not in areas:
            c.error(f"areas[{i}].parent", f"unknown area '{area['parent']}'")
        if area["parent"] == area["code"]:
            c.error(f"areas[{i}].parent", "an area cannot be its own parent")
    for i, (_, members) in enumerate(spec.peer_groups):
        for j, member in enumerate(members):
            if member.area not in areas:
                c.error(f"peer_groups[{i}].members[{j}]", f"unknown area '{member.area}'")
    for i, priority in enumerate(spec.priorities):
        for j, metric in enumerate(priority.metrics):
            path = f"priorities[{i}].metrics[{j}]"
            if metric.agency not in agencies:
                c.error(f"{path}.agency", f"unknown agency '{metric.agency}'")
            for k, code in enumerate(metric.breakdowns):
                if code not in breakdowns:
                    c.error(f"{path}.breakdowns[{k}]", f"unknown breakdown '{code}'")
            for k, code in enumerate(metric.areas):
                if code not in areas:
                    c.error(f"{path}.areas[{k}]", f"unknown area '{code}'")
    in_file = {m.code: m for p in spec.priorities for m in p.metrics}
    for i, rule in enumerate(spec.rules):
        path = f"validation_rules[{i}]"
        for key in ("metric", "other"):
            if rule[key] and rule[key] not in in_file:
                c.error(f"{path}.{key}", f"'{rule[key]}' is not a metric of this framework")
        if (
            rule["breakdown"]
            and rule["metric"] in in_file
            and rule["breakdown"] not in in_file[rule["metric"]].breakdowns
        ):
            c.error(f"{path}.breakdown", f"metric '{rule['metric']}' is not broken down by '{rule['breakdown']}'")


# --- loading -----------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    framework: Framework
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


class _Loader:
    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.created = self.updated = self.unchanged = self.deleted = 0
        self.changes: list[str] = []

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
            return _apply(spec, actor)
    except (IntegrityError, ProtectedError) as exc:
        raise FrameworkFileError([f"file: the database refused the change ({exc})"]) from None


def _apply(spec: FrameworkSpec, actor: Any) -> LoadResult:
    loader = _Loader(actor)
    for a in spec.agencies:
        loader.upsert(Agency, {"code": a["code"]}, {"name": a["name"]}, f"agency {a['code']}")
    # Areas: create without parents first so a parent may come later in the file.
    areas: dict[str, Area] = {}
    for a in spec.areas:
        existing_parent = Area.objects.filter(code=a["code"]).values_list("parent_id", flat=True).first()
        areas[a["code"]] = loader.upsert(
            Area,
            {"code": a["code"]},
            {"name": a["name"], "type": a["type"], "ons_code": a["ons_code"], "parent_id": existing_parent},
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
            if f"created area {a['code']}" not in loader.changes:
                loader.updated += 1
                loader.changes.append(f"updated area {a['code']}")
                record(
                    AuditAction.FRAMEWORK_FILE_UPDATED,
                    actor=actor,
                    obj=obj,
                    old={"parent": old},
                    new={"parent": parent_id},
                )
    _check_area_cycles(area_ids)

    for group, members in spec.peer_groups:
        pg = loader.upsert(
            PeerGroup,
            {"code": group["code"]},
            {"name": group["name"], "description": group["description"]},
            f"peer group {group['code']}",
        )
        wanted = {(area_ids[m.area], m.valid_from, m.valid_to) for m in members}
        current = {(m.area_id, m.valid_from, m.valid_to): m for m in pg.memberships.all()}
        if set(current) != wanted:
            old_members = sorted(str(k) for k in current)
            pg.memberships.all().delete()
            PeerGroupMembership.objects.bulk_create(
                PeerGroupMembership(peer_group=pg, area_id=area, valid_from=start, valid_to=end)
                for area, start, end in wanted
            )
            if f"created peer group {pg.code}" not in loader.changes:
                loader.updated += 1
                loader.changes.append(f"updated members of peer group {pg.code}")
            record(
                AuditAction.FRAMEWORK_FILE_UPDATED,
                actor=actor,
                obj=pg,
                summary="members",
                old=old_members,
                new=sorted(str(k) for k in wanted),
            )

    for bd, categories in spec.breakdowns:
        breakdown = loader.upsert(Breakdown, {"code": bd["code"]}, {"name": bd["name"]}, f"breakdown {bd['code']}")
        cats = {}
        for order, (code, name) in enumerate(categories):
            cats[code] = loader.upsert(
                BreakdownCategory,
                {"breakdown": breakdown, "code": code},
                {"name": name, "order": order},
                f"category {bd['code']}:{code}",
            )
        loader.delete(breakdown.categories.exclude(code__in=list(cats)), f"category of {bd['code']}")
        reference_id = cats[bd["reference"]].pk if bd["reference"] else None
        if breakdown.reference_id != reference_id:
            old_reference = breakdown.reference_id
            breakdown.reference_id = reference_id
            breakdown.save(update_fields=["reference"])
            if f"created breakdown {bd['code']}" not in loader.changes:
                loader.updated += 1
                loader.changes.append(f"updated reference of breakdown {bd['code']}")
                record(
                    AuditAction.FRAMEWORK_FILE_UPDATED,
                    actor=actor,
                    obj=breakdown,
                    old={"reference": old_reference},
                    new={"reference": reference_id},
                )

    agency_ids = dict(Agency.objects.values_list("code", "id"))
    group_ids = dict(PeerGroup.objects.values_list("code", "id"))
    breakdown_ids = dict(Breakdown.objects.values_list("code", "id"))
    framework = loader.upsert(
        Framework,
        {"code": spec.code},
        {
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
                },
                f"metric {m.code}",
            )
            if old_unit is not None and old_unit != m.unit:
                Observation.objects.filter(metric=metric).update(unit=m.unit)
            _sync_m2m(loader, actor, metric, "breakdowns", {breakdown_ids[b] for b in m.breakdowns})
            _sync_m2m(loader, actor, metric, "areas", {area_ids[a] for a in m.areas})
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
        content = framework_export(code=framework.code)
        last = framework.versions.first()
        if last is None or last.content != content:
            number = (last.version + 1) if last else 1
            FrameworkVersion.objects.create(
                framework=framework,
                version=number,
                content=content,
                created_by=actor if getattr(actor, "pk", None) else None,
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
    return LoadResult(framework, loader.created, loader.updated, loader.unchanged, loader.deleted, loader.changes)


def _sync_m2m(loader: _Loader, actor: Any, metric: Metric, name: str, wanted: set[int]) -> None:
    related = getattr(metric, name)
    have = set(related.values_list("id", flat=True))
    if wanted == have:
        return
    related.set(wanted)
    if f"created metric {metric.code}" not in loader.changes:
        loader.updated += 1
        loader.changes.append(f"updated {name} of metric {metric.code}")
        record(
            AuditAction.FRAMEWORK_FILE_UPDATED,
            actor=actor,
            obj=metric,
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


# --- export ------------------------------------------------------------------------------------------
def framework_export(*, code: str) -> str:
    """The framework file (CONTRACT §1) for framework ``code``. Raises ``Framework.DoesNotExist``."""
    framework = Framework.objects.select_related("home_area", "peer_group").get(code=code)
    doc: dict[str, Any] = {
        "framework": {"code": framework.code, "name": framework.name, "home_area": framework.home_area.code},
    }
    if framework.peer_group:
        doc["framework"]["peer_group"] = framework.peer_group.code
    doc["agencies"] = [{"code": a.code, "name": a.name} for a in Agency.objects.order_by("code")]
    areas = []
    for a in Area.objects.select_related("parent").order_by("code"):
        entry: dict[str, Any] = {"code": a.code, "name": a.name, "type": a.type}
        if a.ons_code:
            entry["ons_code"] = a.ons_code
        if a.parent:
            entry["parent"] = a.parent.code
        areas.append(entry)
    doc["areas"] = areas
    groups = []
    for pg in PeerGroup.objects.prefetch_related("memberships__area").order_by("code"):
        members: list[Any] = []
        for m in sorted(pg.memberships.all(), key=lambda m: (m.area.code, m.valid_from or dt.date.min)):
            if m.valid_from is None and m.valid_to is None:
                members.append(m.area.code)
            else:
                member: dict[str, Any] = {"area": m.area.code}
                if m.valid_from:
                    member["from"] = m.valid_from.isoformat()
                if m.valid_to:
                    member["to"] = m.valid_to.isoformat()
                members.append(member)
        group: dict[str, Any] = {"code": pg.code, "name": pg.name}
        if pg.description:
            group["description"] = pg.description
        group["members"] = members
        groups.append(group)
    doc["peer_groups"] = groups
    breakdowns = []
    for b in Breakdown.objects.prefetch_related("categories").select_related("reference").order_by("code"):
        entry = {"code": b.code, "name": b.name}
        if b.reference:
            entry["reference"] = b.reference.code
        entry["categories"] = [
            cat.code if cat.name == default_name(cat.code) else {"code": cat.code, "name": cat.name}
            for cat in b.categories.all()
        ]
        breakdowns.append(entry)
    doc["breakdowns"] = breakdowns
    placements = (
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency", "priority")
        .prefetch_related("metric__breakdowns", "metric__rebases", "metric__areas")
        .order_by("priority__order", "order")
    )
    by_priority: dict[int, list[dict[str, Any]]] = {}
    for place in placements:
        metric = place.metric
        entry = {
            "code": metric.code,
            "name": metric.name,
            "agency": metric.agency.code,
            "unit": metric.unit,
            "direction": metric.direction,
            "source_type": metric.source_type,
            "basis": metric.basis,
            "breakdowns": sorted(b.code for b in metric.breakdowns.all()),
            "areas": sorted(a.code for a in metric.areas.all()),
            "description": metric.description,
            "caveats": metric.caveats,
            **({"public": True} if metric.public else {}),
            "spc": {
                "screen_outliers": metric.spc_screen_outliers,
                "run_length": metric.spc_run_length,
                "trend_length": metric.spc_trend_length,
                "rebases": [{"period": r.period.isoformat(), "reason": r.reason} for r in metric.rebases.all()],
            },
        }
        by_priority.setdefault(place.priority_id, []).append(entry)
    doc["priorities"] = [
        {"code": p.code, "name": p.name, "metrics": by_priority.get(p.pk, [])}
        for p in framework.priorities.order_by("order")
    ]
    rules = []
    for rule in framework.rules.select_related("metric", "other_metric", "breakdown").order_by("code"):
        entry = {"code": rule.code, "kind": rule.kind, "metric": rule.metric.code}
        if rule.other_metric:
            entry["other"] = rule.other_metric.code
        if rule.breakdown:
            entry["breakdown"] = rule.breakdown.code
        if rule.minimum is not None:
            entry["min"] = rule.minimum
        if rule.maximum is not None:
            entry["max"] = rule.maximum
        if rule.tolerance:
            entry["tolerance"] = rule.tolerance
        entry["importance"] = rule.importance
        if rule.message:
            entry["message"] = rule.message
        rules.append(entry)
    if rules:
        doc["validation_rules"] = rules
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
