"""Exporting a framework: ``framework_export`` writes the framework file (CONTRACT §1) a load would read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from accounts.models import Agency, Partnership
from accounts.partnerships import is_default
from frameworks.models import Area, Breakdown, Framework, PeerGroup
from metrics.models import FrameworkMetric, Metric

from .schema import default_name


def framework_export(*, code: str, partnership: Partnership | None = None) -> str:
    """The framework file (CONTRACT §1) for framework ``code`` (of ``partnership``, when one is given). Raises
    ``Framework.DoesNotExist``. ``framework.partnership`` is written for a framework outside the default
    partnership only, so a single-partnership installation exports exactly what it did before partnerships."""
    frameworks = Framework.objects.select_related("home_area", "peer_group", "partnership")
    if partnership is not None:
        frameworks = frameworks.filter(partnership=partnership)
    framework = frameworks.get(code=code)
    doc: dict[str, Any] = {
        "framework": {"code": framework.code, "name": framework.name, "home_area": framework.home_area.code},
    }
    if framework.peer_group:
        doc["framework"]["peer_group"] = framework.peer_group.code
    if not is_default(framework.partnership):
        doc["framework"]["partnership"] = framework.partnership.code
    doc["agencies"] = [{"code": a.code, "name": a.name} for a in Agency.objects.order_by("code")]
    areas = []
    for a in Area.objects.select_related("parent").order_by("code"):
        entry: dict[str, Any] = {"code": a.code, "name": a.name, "type": a.type}
        if a.ons_code:
            entry["ons_code"] = a.ons_code
        if a.parent:
            entry["parent"] = a.parent.code
        if a.population is not None:
            entry["population"] = a.population
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
    for b in (
        Breakdown.objects.prefetch_related("categories").select_related("reference", "not_recorded").order_by("code")
    ):
        entry = {"code": b.code, "name": b.name}
        if b.reference:
            entry["reference"] = b.reference.code
        if b.not_recorded:
            entry["not_recorded"] = b.not_recorded.code
        if b.min_recorded != 0.8:
            entry["min_recorded"] = b.min_recorded
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
            **({"local_areas": True} if metric.local_areas else {}),
            **({"decimals": metric.decimals} if metric.decimals is not None else {}),
            **({"comparable": metric.comparable} if metric.comparable is not None else {}),
            **({"source": dict(metric.source)} if metric.source else {}),
            **({"plausible": _plausible(metric)} if _plausible(metric) else {}),
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


def _plausible(metric: Metric) -> dict[str, float]:
    """A metric's own plausible bounds as the file writes them (whole numbers without a decimal point)."""
    found = {"min": metric.plausible_min, "max": metric.plausible_max}
    return {key: int(v) if v.is_integer() else v for key, v in found.items() if v is not None}
