"""Snapshots: a quarter's approved data and definitions frozen as published."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.immutable import Guard, GuardedQuerySet, ImmutableError, ImmutableQuerySet, guarded
from accounts.scoping import MadeInCurrentPartnership, ScopedQuerySet
from frameworks.models import Area, BreakdownCategory, Framework
from metrics.models import Metric, StoredFigure, figure_constraints, figure_key_constraints
from metrics.quarters import period_label

__all__ = ["ImmutableError"]  # raised by every refused write below (defined in accounts.immutable)

SNAPSHOT_IMMUTABLE = "A published snapshot cannot be changed or deleted."
SNAPSHOT_OBSERVATION_IMMUTABLE = "A published snapshot's observations cannot be changed or deleted."
SNAPSHOT_REVISION_IMMUTABLE = "A published snapshot's revisions cannot be changed or deleted."
REPORT_IMMUTABLE = "A published report cannot be changed or deleted."
SECTION_IMMUTABLE = "A published report's sections cannot be added, changed or deleted."
FINDING_IMMUTABLE = "A published report's findings cannot be added, changed or deleted."


class SnapshotQuerySet(ScopedQuerySet, ImmutableQuerySet):  # type: ignore[override]  # (stubs: two as_manager)
    PATH = "framework__partnership"

    immutable_message = SNAPSHOT_IMMUTABLE


class SnapshotObservationQuerySet(ScopedQuerySet, ImmutableQuerySet):  # type: ignore[override]
    PATH = "snapshot__framework__partnership"

    immutable_message = SNAPSHOT_OBSERVATION_IMMUTABLE


class SnapshotRevisionQuerySet(ImmutableQuerySet):
    immutable_message = SNAPSHOT_REVISION_IMMUTABLE


class WrittenOnce(models.Model):
    """A row that is inserted and never changed or deleted (``immutable_message`` says so)."""

    immutable_message = "This row cannot be changed or deleted."

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError(self.immutable_message)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError(self.immutable_message)


class Snapshot(WrittenOnce):
    """The immutable copy of approved data, metric definitions, framework structure and SPC settings
    for a quarter, as published: one version of the truth for every board that discusses it. The database
    refuses any change or deletion (``GUARDS``)."""

    immutable_message = SNAPSHOT_IMMUTABLE

    period = models.DateField(help_text="The quarter the snapshot is for.")
    number = models.PositiveIntegerField(
        default=1, help_text="1 for the first snapshot of the quarter, 2 for the next, …"
    )
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="snapshots")
    framework_version = models.PositiveIntegerField()
    framework_file = models.TextField(
        help_text="The framework file (definitions, structure, SPC settings) as published."
    )
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why it was published with returns missing.")
    missing_returns = models.JSONField(default=list, blank=True)
    observation_count = models.PositiveIntegerField(default=0)
    annotations = models.JSONField(
        default=list,
        blank=True,
        help_text="The metrics' annotations as published: [{metric, area (code or null), period, kind, text}].",
    )

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "-number"]
        # Numbered within the framework (so within its partnership); the index leads with the framework.
        constraints = [models.UniqueConstraint(fields=["framework", "period", "number"], name="snapshot_unique")]

    def __str__(self) -> str:
        return f"{period_label(self.period)} snapshot {self.number}"

    @property
    def label(self) -> str:
        return period_label(self.period)


class SnapshotObservation(WrittenOnce, StoredFigure):
    """An approved observation as it was when the snapshot was published (same figure fields and checks as
    Observation)."""

    immutable_message = SNAPSHOT_OBSERVATION_IMMUTABLE

    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="observations")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    category = models.ForeignKey(BreakdownCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = SnapshotObservationQuerySet.as_manager()

    class Meta:
        ordering = ["snapshot", "metric", "area", "period"]
        indexes = [models.Index(fields=["snapshot", "metric", "area", "period"], name="snapobs_lookup")]
        constraints = [
            *figure_key_constraints("snapobs", "snapshot", "metric", "area", "period"),
            *figure_constraints("snapobs"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.metric_id}/{self.area_id}/{self.period} {self.value}"


class SnapshotRevision(WrittenOnce):
    """A value that changed since the previous snapshot of any quarter: shown as [r] with old and new."""

    immutable_message = SNAPSHOT_REVISION_IMMUTABLE

    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="revisions")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    category = models.ForeignKey(BreakdownCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    old_value = models.FloatField(null=True, blank=True)
    new_value = models.FloatField(null=True, blank=True)
    old_missing = models.CharField(max_length=1, blank=True)
    new_missing = models.CharField(max_length=1, blank=True)

    objects = SnapshotRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["snapshot", "metric", "area", "period"]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.area_id}/{self.period}: {self.old_value} -> {self.new_value}"


class AnnotationKind(models.TextChoices):
    CONTEXT = "context", "Context"
    DATA_ISSUE = "data_issue", "Data issue"


class AnnotationQuerySet(ScopedQuerySet):
    PATH = "partnership"


class Annotation(MadeInCurrentPartnership, models.Model):
    """A dated note on a metric (for one area, or all): shown on its charts, in reports and the PDF."""

    partnership = models.ForeignKey("accounts.Partnership", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="annotations")
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Empty: every area."
    )
    period = models.DateField(help_text="Quarter end date the note is about.")
    kind = models.CharField(max_length=12, choices=AnnotationKind.choices, default=AnnotationKind.CONTEXT)
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "period"]

    def __str__(self) -> str:
        return f"{self.metric_id} {period_label(self.period)}: {self.text}"

    @property
    def label(self) -> str:
        prefix = "Data issue: " if self.kind == AnnotationKind.DATA_ISSUE else ""
        return f"{prefix}{self.text}"


class ReportState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


# Legal moves of a report's state: draft ⇄ in review → published (then locked for good).
REPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    ReportState.DRAFT: frozenset({ReportState.IN_REVIEW}),
    ReportState.IN_REVIEW: frozenset({ReportState.DRAFT, ReportState.PUBLISHED}),
    ReportState.PUBLISHED: frozenset(),
}


class ReportQuerySet(ScopedQuerySet, GuardedQuerySet):  # type: ignore[override]
    PATH = "snapshot__framework__partnership"


class Report(models.Model):
    """The quarterly report on a snapshot: narrative first, with the evidence beside it. Once published,
    the database refuses any change to it, its sections and findings (``GUARDS``)."""

    snapshot = models.OneToOneField(Snapshot, on_delete=models.PROTECT, related_name="report")
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=ReportState.choices, default=ReportState.DRAFT)
    executive_summary = models.TextField(blank=True, help_text="Markdown.")
    public_summary = models.TextField(
        blank=True, default="", help_text="The public edition's summary (Markdown); never the board's text."
    )
    deep_dive = models.ForeignKey(
        "frameworks.Priority", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deep_dive_findings = models.TextField(blank=True, help_text="The analyst's findings from the deep dive (Markdown).")
    deep_dive_recommendations = models.TextField(
        blank=True, help_text="The analyst's recommendations to the board from the deep dive (Markdown)."
    )
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-snapshot__period", "-snapshot__number"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="published") | Q(published_at__isnull=False), name="report_published_has_time"
            ),
            models.CheckConstraint(condition=Q(state__in=ReportState.values), name="report_state_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.published_in_db:
            raise ImmutableError(REPORT_IMMUTABLE)
        with guarded():
            super().save(*args, **kwargs)
        self._stored_state = str(self.state)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.published_in_db:
            raise ImmutableError(REPORT_IMMUTABLE)
        with guarded():
            return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Report:
        report = super().from_db(db, field_names, values, **kwargs)
        report._stored_state = str(report.__dict__.get("state", ""))
        return report

    @property
    def published_in_db(self) -> bool:
        return getattr(self, "_stored_state", None) == ReportState.PUBLISHED


class GuardedSave(models.Model):
    """A row whose writes the database may refuse (a published report's part): the refusal is ImmutableError."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with guarded():
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with guarded():
            return super().delete(*args, **kwargs)


class ReportSection(GuardedSave):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sections")
    priority = models.ForeignKey("frameworks.Priority", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)
    narrative = models.TextField(blank=True, help_text="The analysts' narrative (Markdown).")
    commentary = models.TextField(blank=True, help_text="Partner commentary (Markdown).")
    public_narrative = models.TextField(
        blank=True,
        default="",
        help_text="The public edition's narrative (Markdown); empty shows none, never the board's narrative.",
    )

    objects = GuardedQuerySet.as_manager()

    class Meta:
        ordering = ["report", "order"]
        constraints = [models.UniqueConstraint(fields=["report", "priority"], name="report_section_unique")]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.priority_id}"


class ReportFinding(GuardedSave):
    """The data-driven finding for a metric, generated from the statistics and editable before publication."""

    section = models.ForeignKey(ReportSection, on_delete=models.CASCADE, related_name="findings")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)
    generated = models.TextField()
    text = models.TextField()

    objects = GuardedQuerySet.as_manager()

    class Meta:
        ordering = ["section", "order"]

    def __str__(self) -> str:
        return f"{self.metric_id}: {self.text[:40]}"

    @property
    def edited(self) -> bool:
        return self.text != self.generated


class ReportEdit(models.Model):
    """Every change to a report's text, with who and when: the narrative's version history."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="edits")
    field = models.CharField(max_length=100)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.field} {self.at:%Y-%m-%d %H:%M}"


class PackState(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


# Legal moves of a pack's state: queued → building → ready, or failed on the way; a failed pack may be
# queued again.
PACK_TRANSITIONS: dict[str, frozenset[str]] = {
    PackState.QUEUED: frozenset({PackState.BUILDING, PackState.FAILED}),
    PackState.BUILDING: frozenset({PackState.READY, PackState.FAILED}),
    PackState.READY: frozenset(),
    PackState.FAILED: frozenset({PackState.QUEUED}),
}


class BoardPackQuerySet(ScopedQuerySet):
    PATH = "report__snapshot__framework__partnership"


class BoardPack(models.Model):
    """A built PDF of a report's edition, with its checksum and the snapshot it came from."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="packs")
    public = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=PackState.choices, default=PackState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    charts_rendered = models.BooleanField(default=True)
    docx = models.BinaryField(
        null=True, blank=True, help_text="The board edition as an editable Word document (board packs only)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker building the pack: its task, and when it last said it was alive (see accounts.background).
    task_id = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = BoardPackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="pack_progress_max"),
            models.CheckConstraint(condition=Q(state__in=PackState.values), name="pack_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.report} ({'public' if self.public else 'board'}, {self.state})"

    @property
    def snapshot_id(self) -> int:
        return int(self.report.snapshot_id)

    @property
    def filename(self) -> str:
        return f"board-pack-{self.report.snapshot.period:%Y-%m-%d}-{'public' if self.public else 'board'}.pdf"

    @property
    def docx_filename(self) -> str:
        return self.filename.removesuffix(".pdf") + ".docx"


# What the database refuses, whatever writes to it (installed by migration 0011_published_guards; accounts.immutable).
_PUBLISHED = "'published'"
_SECTION_PUBLISHED = "EXISTS (SELECT 1 FROM reports_report r WHERE r.id = {row}.report_id AND r.state = 'published')"
_FINDING_PUBLISHED = (
    "EXISTS (SELECT 1 FROM reports_reportsection s JOIN reports_report r ON r.id = s.report_id "
    "WHERE s.id = {row}.section_id AND r.state = 'published')"
)
GUARDS = [
    *(Guard("reports_snapshot", op, SNAPSHOT_IMMUTABLE) for op in ("UPDATE", "DELETE")),
    *(Guard("reports_snapshotobservation", op, SNAPSHOT_OBSERVATION_IMMUTABLE) for op in ("UPDATE", "DELETE")),
    *(Guard("reports_snapshotrevision", op, SNAPSHOT_REVISION_IMMUTABLE) for op in ("UPDATE", "DELETE")),
    Guard("reports_report", "UPDATE", REPORT_IMMUTABLE, f"OLD.state = {_PUBLISHED}"),
    Guard("reports_report", "DELETE", REPORT_IMMUTABLE, f"OLD.state = {_PUBLISHED}"),
    Guard("reports_reportsection", "INSERT", SECTION_IMMUTABLE, _SECTION_PUBLISHED.format(row="NEW")),
    Guard(
        "reports_reportsection",
        "UPDATE",
        SECTION_IMMUTABLE,
        f"{_SECTION_PUBLISHED.format(row='OLD')} OR {_SECTION_PUBLISHED.format(row='NEW')}",
    ),
    Guard("reports_reportsection", "DELETE", SECTION_IMMUTABLE, _SECTION_PUBLISHED.format(row="OLD")),
    Guard("reports_reportfinding", "INSERT", FINDING_IMMUTABLE, _FINDING_PUBLISHED.format(row="NEW")),
    Guard(
        "reports_reportfinding",
        "UPDATE",
        FINDING_IMMUTABLE,
        f"{_FINDING_PUBLISHED.format(row='OLD')} OR {_FINDING_PUBLISHED.format(row='NEW')}",
    ),
    Guard("reports_reportfinding", "DELETE", FINDING_IMMUTABLE, _FINDING_PUBLISHED.format(row="OLD")),
]
