"""What an import found: each problem (``Issue``) and the summary people and commands read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


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


@dataclass
class ImportSummary:
    filename: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    batch_id: int | None = None

    @property
    def accepted(self) -> bool:
        return not self.errors

    def by_kind(self, issues: list[Issue]) -> list[tuple[str, str, list[Issue]]]:
        groups: dict[str, list[Issue]] = defaultdict(list)
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
        lines.append(f"Warnings: {len(self.warnings)}")
        for _, heading, issues in self.warnings_by_kind():
            lines.append(f"  {heading} ({len(issues)}):")
            lines.extend(f"    {issue}" for issue in issues)
        lines.append(f"Errors: {len(self.errors)}")
        for _, heading, issues in self.errors_by_kind():
            lines.append(f"  {heading} ({len(issues)}):")
            lines.extend(f"    {issue}" for issue in issues)
        if self.errors:
            lines.append("Rejected: nothing was written.")
        elif self.dry_run:
            lines.append("Dry run: the file is valid; nothing was written.")
        else:
            lines.append("Accepted: written." if self.written else "Accepted: nothing to write.")
        return "\n".join(lines)
