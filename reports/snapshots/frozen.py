"""What a snapshot froze besides its figures: the metrics' definitions, priorities and agencies (from its
framework file) and the annotations (``Snapshot.annotations``), read back as the pages, report editions and
packs use them. Renaming a metric or editing an annotation later changes none of them."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml

from accounts.models import Agency
from frameworks.models import Area
from metrics.models import Metric
from reports.models import Annotation, Snapshot

# Metric fields a framework file carries, with their value when the file leaves the key out.
DEFINITION_FIELDS: dict[str, Any] = {
    "name": "",
    "unit": "",
    "direction": "",
    "source_type": "",
    "basis": "quarter",
    "description": "",
    "caveats": "",
    "public": False,
    "decimals": None,
    "comparable": None,
    "source": {},
    "local_areas": False,
}


@dataclass(frozen=True)
class FrozenDefinitions:
    """A snapshot's definitions by code: metric entries of its framework file, priority and agency names."""

    metrics: dict[str, dict[str, Any]]
    priorities: dict[str, str]
    agencies: dict[str, str]
    annotations: list[dict[str, Any]]

    @classmethod
    def of(cls, snapshot: Snapshot) -> FrozenDefinitions:
        doc = yaml.safe_load(snapshot.framework_file) or {}
        metrics = {m["code"]: m for p in doc.get("priorities", []) for m in p.get("metrics", [])}
        return cls(
            metrics=metrics,
            priorities={p["code"]: p.get("name", p["code"]) for p in doc.get("priorities", [])},
            agencies={a["code"]: a.get("name", a["code"]) for a in doc.get("agencies", [])},
            annotations=list(snapshot.annotations or []),
        )

    def spc_settings(self) -> dict[str, dict[str, Any]]:
        """Each metric's SPC settings and rebases as they were published."""
        out: dict[str, dict[str, Any]] = {}
        for code, metric in self.metrics.items():
            spc = metric.get("spc", {})
            out[code] = {
                "screen_outliers": spc.get("screen_outliers", True),
                "run_length": spc.get("run_length", 7),
                "trend_length": spc.get("trend_length", 7),
                "rebases": [
                    (dt.date.fromisoformat(str(r["period"])), r.get("reason", "")) for r in spc.get("rebases", [])
                ],
            }
        return out

    def metric(self, metric: Metric) -> Metric:
        """``metric`` as the snapshot defined it: a copy (same primary key) carrying the published name,
        definition, caveats, unit, direction, source and owner; the metric itself when the snapshot's
        framework did not include it."""
        entry = self.metrics.get(metric.code)
        if entry is None:
            return metric
        frozen = copy.copy(metric)
        for name, default in DEFINITION_FIELDS.items():
            setattr(frozen, name, copy.deepcopy(entry.get(name, default)))
        spc = entry.get("spc", {})
        frozen.spc_screen_outliers = spc.get("screen_outliers", True)
        frozen.spc_run_length = spc.get("run_length", 7)
        frozen.spc_trend_length = spc.get("trend_length", 7)
        agency = entry.get("agency")
        if agency:
            frozen.agency = Agency(pk=metric.agency_id, code=agency, name=self.agencies.get(agency, agency))
        return frozen

    def priority_name(self, code: str, default: str) -> str:
        return self.priorities.get(code, default)

    def annotations_for(
        self, metrics: list[Metric], *, area: Area, period: dt.date | None
    ) -> dict[int, list[Annotation]]:
        """The frozen annotations of ``metrics`` for ``area`` (or every area) up to ``period``, by metric id,
        as unsaved ``Annotation`` rows (so the charts and pages read them as before)."""
        by_code = {m.code: m for m in metrics}
        out: dict[int, list[Annotation]] = {}
        for note in self.annotations:
            metric = by_code.get(note["metric"])
            when = dt.date.fromisoformat(note["period"])
            if metric is None or note.get("area") not in (None, area.code):
                continue
            if period is not None and when > period:
                continue
            out.setdefault(metric.pk, []).append(
                Annotation(
                    metric_id=metric.pk,
                    area=area if note.get("area") else None,
                    period=when,
                    kind=note.get("kind", "context"),
                    text=note.get("text", ""),
                )
            )
        return out
