"""What an import found: each problem (``Issue``) and the summary people and commands read."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    row: int | None  # file row number (the header is row 1); None for the whole file
    column: str
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


# Kinds of problem, in the order a summary lists them, with a heading for people.
ISSUE_KINDS = {
    "file": "Problems with the whole file",
    "unknown_metric": "Unknown metric codes",
    "not_owned": "Metrics this agency does not own",
    "shared_metric": "Shared official statistics another partnership uses (only the host loads their figures)",
    "unknown_area": "Unknown area codes",
    "bad_period": "Periods that are not quarters",
    "bad_category": "Breakdown or category problems",
    "bad_number": "Numbers that do not parse",
    "missing_value": "Missing values",
    "negative": "Negative values",
    "out_of_range": "Values out of range",
    "numerator_above_denominator": "Numerators above their denominators",
    "bad_status": "Unknown statuses",
    "duplicate": "The same observation twice",
    "inconsistent": "Values that disagree with their numerator and denominator",
}


# At most this many problems of each kind are kept (in memory, in an upload's stored summary, on its page and
# in a command's output); the rest are only counted. One error per row of a 200,000-row file would otherwise
# be a 20 MB summary and a page nobody can read.
ISSUES_PER_KIND = 100


class IssueList(list[Issue]):
    """Problems in the order found, keeping at most ``cap`` of each kind (None: all); ``omitted`` counts the
    rest by kind, ``total`` counts them all."""

    def __init__(self, items: Iterable[Issue] = (), *, cap: int | None = ISSUES_PER_KIND) -> None:
        super().__init__()
        self.cap = cap
        self.kept: Counter[str] = Counter()
        self.omitted: Counter[str] = Counter()
        self.extend(items)

    def append(self, issue: Issue) -> None:
        if self.cap is not None and self.kept[issue.kind] >= self.cap:
            self.omitted[issue.kind] += 1
            return
        self.kept[issue.kind] += 1
        super().append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.append(issue)

    @property
    def total(self) -> int:
        return len(self) + sum(self.omitted.values())

    def count_of(self, kind: str) -> int:
        return self.kept[kind] + self.omitted[kind]


def capped(items: Iterable[dict[str, Any]], cap: int = ISSUES_PER_KIND) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Stored problems (dicts with a ``kind``), at most ``cap`` of each kind, and how many of each were left out."""
    kept: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    omitted: Counter[str] = Counter()
    for item in items:
        kind = item.get("kind", "")
        if seen[kind] >= cap:
            omitted[kind] += 1
        else:
            seen[kind] += 1
            kept.append(item)
    return kept, dict(omitted)


@dataclass
class ImportSummary:
    filename: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: IssueList = field(default_factory=IssueList)
    warnings: IssueList = field(default_factory=IssueList)
    dry_run: bool = False
    written: bool = False
    batch_id: int | None = None
    issue_cap: int | None = ISSUES_PER_KIND  # problems kept per kind (None: all, for the bounded web grid)

    def __post_init__(self) -> None:
        self.errors.cap = self.warnings.cap = self.issue_cap

    @property
    def accepted(self) -> bool:
        return not self.errors

    def by_kind(self, issues: IssueList) -> list[tuple[str, str, list[Issue]]]:
        groups: dict[str, list[Issue]] = defaultdict(list)
        for kind in issues.omitted:
            groups[kind] = []
        for issue in issues:
            groups[issue.kind].append(issue)
        order = list(ISSUE_KINDS)
        kinds = sorted(groups, key=lambda k: order.index(k) if k in order else len(order))
        return [(kind, ISSUE_KINDS.get(kind, kind.replace("_", " ").capitalize()), groups[kind]) for kind in kinds]

    def errors_by_kind(self) -> list[tuple[str, str, list[Issue]]]:
        return self.by_kind(self.errors)

    def warnings_by_kind(self) -> list[tuple[str, str, list[Issue]]]:
        return self.by_kind(self.warnings)

    def as_text(self) -> str:
        lines = [f"File: {self.filename}", f"Rows read: {self.rows_read}"]
        lines.append(f"Values created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}")
        for title, found in (("Warnings", self.warnings), ("Errors", self.errors)):
            lines.append(f"{title}: {found.total}")
            for kind, heading, issues in self.by_kind(found):
                lines.append(f"  {heading} ({found.count_of(kind)}):")
                lines.extend(f"    {issue}" for issue in issues)
                if found.omitted[kind]:
                    lines.append(f"    … and {found.omitted[kind]:,} more not listed")
        if self.errors:
            lines.append("Rejected: nothing was written.")
        elif self.dry_run:
            lines.append("Dry run: the file is valid; nothing was written.")
        else:
            lines.append("Accepted: written." if self.written else "Accepted: nothing to write.")
        return "\n".join(lines)
