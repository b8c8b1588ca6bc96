"""The framework file's schema (CONTRACT §1): YAML in, typed specs out, or every problem with its key path.

``parse_framework_text`` checks the whole file and the references it makes (to things in the file or already
in the database) and raises ``FrameworkFileError`` listing every problem, e.g.
``priorities[1].metrics[3].unit: 'per cent' is not one of count, percentage, …``. It writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from accounts.models import Agency, Partnership
from frameworks.models import Area, AreaType, Breakdown, PeerGroup
from metrics.models import Basis, Direction, Importance, RuleKind, SourceType, Unit
from metrics.plausible import unit_range

from .checker import Checker


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
    decimals: int | None = None
    comparable: bool | None = None
    source: dict[str, str] = field(default_factory=dict)
    local_areas: bool = False
    plausible_min: float | None = None
    plausible_max: float | None = None


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
    areas: list[dict[str, Any]] = field(default_factory=list)
    peer_groups: list[tuple[dict[str, str], list[MembershipSpec]]] = field(default_factory=list)
    breakdowns: list[tuple[dict[str, Any], list[tuple[str, str]]]] = field(default_factory=list)
    priorities: list[PrioritySpec] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    partnership: str | None = None  # the partnership's code; None: the installation's default partnership


def default_name(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").capitalize()


def _plausible(c: Checker, metric_map: dict[str, Any], mpath: str, unit: str) -> tuple[float | None, float | None]:
    """A metric's ``plausible: {min, max}``: within its unit's range (it tightens, never widens), min ≤ max."""
    bounds = c.mapping(metric_map.get("plausible") or {}, f"{mpath}.plausible", set(), {"min", "max"}) or {}
    low = c.number(bounds.get("min"), f"{mpath}.plausible.min")
    high = c.number(bounds.get("max"), f"{mpath}.plausible.max")
    lowest, highest = unit_range(unit)
    for key, value in (("min", low), ("max", high)):
        if value is not None and not lowest <= value <= highest:
            c.error(
                f"{mpath}.plausible.{key}", f"{value:g} is outside the range of the unit ({lowest:g} to {highest:g})"
            )
    if low is not None and high is not None and low > high:
        c.error(f"{mpath}.plausible", f"min {low:g} is above max {high:g}")
    return low, high


def parse_framework_text(text: str) -> FrameworkSpec:
    """Parse and check a framework file. Raises ``FrameworkFileError`` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise FrameworkFileError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    c = Checker()
    top = c.mapping(
        data, "", {"framework", "priorities"}, {"agencies", "areas", "peer_groups", "breakdowns", "validation_rules"}
    )
    if top is None:
        raise FrameworkFileError(c.errors)

    fw = (
        c.mapping(top.get("framework"), "framework", {"code", "name", "home_area"}, {"peer_group", "partnership"}) or {}
    )
    spec = FrameworkSpec(
        code=c.code(fw.get("code"), "framework.code"),
        name=c.text(fw.get("name"), "framework.name"),
        home_area=c.code(fw.get("home_area"), "framework.home_area"),
        peer_group=c.code(fw["peer_group"], "framework.peer_group") if fw.get("peer_group") is not None else None,
        partnership=(c.code(fw["partnership"], "framework.partnership") if fw.get("partnership") is not None else None),
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
        m = c.mapping(item, path, {"code", "name", "type"}, {"ons_code", "parent", "population"})
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
                "population": (
                    c.integer(m["population"], f"{path}.population", 0, 1, 2_000_000_000)
                    if m.get("population") is not None
                    else None
                ),
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
        m = c.mapping(item, path, {"code", "name", "categories"}, {"reference", "not_recorded", "min_recorded"})
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
        named = {}
        for key in ("reference", "not_recorded"):
            named[key] = c.code(m[key], f"{path}.{key}") if m.get(key) is not None else ""
            if named[key] and named[key] not in {code for code, _ in categories}:
                c.error(f"{path}.{key}", f"'{named[key]}' is not one of its categories")
        if named["reference"] and named["reference"] == named["not_recorded"]:
            c.error(f"{path}.not_recorded", "cannot be the reference category")
        min_recorded = c.number(m.get("min_recorded"), f"{path}.min_recorded") if "min_recorded" in m else 0.8
        if min_recorded is None or not 0 <= min_recorded <= 1:
            c.error(f"{path}.min_recorded", "must be a share from 0 to 1 (0.8 is 80%)")
            min_recorded = 0.8
        spec.breakdowns.append(
            (
                {
                    "code": c.code(m.get("code"), f"{path}.code"),
                    "name": c.text(m.get("name"), f"{path}.name"),
                    "reference": named["reference"],
                    "not_recorded": named["not_recorded"],
                    "min_recorded": min_recorded,
                },
                categories,
            )
        )
    c.unique([(f"breakdowns[{i}].code", b[0]["code"]) for i, b in enumerate(spec.breakdowns)], "breakdown")

    metric_keys = {"code", "name", "agency", "unit", "direction", "source_type"}
    metric_optional = {
        "basis", "breakdowns", "areas", "description", "caveats", "spc", "public", "decimals", "comparable", "source",
        "local_areas",
        "plausible",
    }  # fmt: skip
    source_keys = {"publisher", "title", "url", "period", "released", "next_release"}
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
                decimals=(
                    c.integer(metric_map["decimals"], f"{mpath}.decimals", 0, 0, 6)
                    if metric_map.get("decimals") is not None
                    else None
                ),
                comparable=(
                    c.boolean(metric_map["comparable"], f"{mpath}.comparable", False)
                    if metric_map.get("comparable") is not None
                    else None
                ),
                local_areas=c.boolean(metric_map.get("local_areas"), f"{mpath}.local_areas", False),
                source={
                    key: c.text(value, f"{mpath}.source.{key}", required=False, max_length=1000)
                    for key, value in (
                        c.mapping(metric_map.get("source") or {}, f"{mpath}.source", set(), source_keys) or {}
                    ).items()
                    if value is not None
                },
            )
            spec_metric.plausible_min, spec_metric.plausible_max = _plausible(c, metric_map, mpath, spec_metric.unit)
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


def _check_references(spec: FrameworkSpec, c: Checker) -> None:
    """Every reference names something in the file or already in the database."""
    agencies = {a["code"] for a in spec.agencies} | set(Agency.objects.values_list("code", flat=True))
    areas = {a["code"] for a in spec.areas} | set(Area.objects.values_list("code", flat=True))
    groups = {p[0]["code"] for p in spec.peer_groups} | set(PeerGroup.objects.values_list("code", flat=True))
    breakdowns = {b[0]["code"] for b in spec.breakdowns} | set(Breakdown.objects.values_list("code", flat=True))
    _check_partnership(spec, c)
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


def _check_partnership(spec: FrameworkSpec, c: Checker) -> None:
    """``framework.partnership`` names an existing partnership (loading never makes one). A framework's code is
    its partnership's own: the same code in two partnerships is two frameworks."""
    if spec.partnership is not None and not Partnership.objects.filter(code=spec.partnership).exists():
        c.error("framework.partnership", f"unknown partnership '{spec.partnership}'")
