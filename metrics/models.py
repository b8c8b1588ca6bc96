"""The metric catalogue (metrics, their place in a framework, validation rules), imports and observations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Agency
from accounts.scoping import MadeInCurrentPartnership, ScopedQuerySet
from frameworks.models import Area, Breakdown, BreakdownCategory, Framework, Priority

from .quarters import period_label


# Reads scoped by partnership (``accounts.scoping``): ``Model.objects.in_scope()``.
class MetricQuerySet(ScopedQuerySet):
    PATH = "partnership"
    SHARED = True


class RebaseQuerySet(ScopedQuerySet):
    PATH = "partnership"


class FrameworkMetricQuerySet(ScopedQuerySet):
    PATH = "framework__partnership"


class ValidationRuleQuerySet(ScopedQuerySet):
    PATH = "framework__partnership"


class ImportBatchQuerySet(ScopedQuerySet):
    PATH = "partnership"
    SHARED = True


class ObservationQuerySet(ScopedQuerySet):
    """A partnership reads its own measures' figures and the shared statistics' figures, except a shared
    statistic's figure approved from another partnership's return (its batch is that partnership's): approved
    but unpublished, it stays with that partnership (others see it once published, in its snapshot)."""

    PATH = "metric__partnership"
    SHARED = True

    def in_scope(self, partnership: Any = None) -> Any:
        if partnership is None:
            from accounts.tenancy import current_partnership_id

            pid = current_partnership_id()
        else:
            pid = getattr(partnership, "pk", partnership)
        return self.filter(visible_figures(partnership_id=pid))


def visible_figures(*, partnership_id: int | None = None, partnership_code: str | None = None) -> Q:
    """The observations a partnership (by id, or by code: no lookup query) reads: its own measures', and the
    shared statistics' not approved from another partnership's return (``ObservationQuerySet``)."""
    if partnership_id is not None:
        own, batch = Q(metric__partnership_id=partnership_id), Q(source__partnership_id=partnership_id)
    else:
        own, batch = Q(metric__partnership__code=partnership_code), Q(source__partnership__code=partnership_code)
    shared_source = Q(source__isnull=True) | Q(source__partnership__isnull=True) | batch
    return own | (Q(metric__partnership__isnull=True) & shared_source)


class CollectionRoundQuerySet(ScopedQuerySet):
    PATH = "partnership"


class ReturnQuerySet(ScopedQuerySet):
    PATH = "round__partnership"


class ReturnValueQuerySet(ScopedQuerySet):
    PATH = "return_obj__round__partnership"


class ReturnUploadQuerySet(ScopedQuerySet):
    PATH = "return_obj__round__partnership"


class Unit(models.TextChoices):
    COUNT = "count", "Count"
    PERCENTAGE = "percentage", "Percentage"
    RATE_PER_1000 = "rate_per_1000", "Rate per 1,000"
    RATE_PER_100000 = "rate_per_100000", "Rate per 100,000"
    DAYS = "days", "Days"
    RATIO = "ratio", "Ratio"
    SCORE = "score", "Score (may be negative)"


# Units whose values may be below zero (a net score, an index); every other unit's values may not.
SIGNED_UNITS = {Unit.SCORE}


# Units whose value is numerator / denominator × this factor.
UNIT_SCALE = {Unit.PERCENTAGE: 100.0, Unit.RATE_PER_1000: 1000.0, Unit.RATE_PER_100000: 100000.0}


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"
    NEUTRAL = "neutral", "Neutral"


class SourceType(models.TextChoices):
    OFFICIAL_STATISTICS = "official_statistics", "Official statistics"
    MANAGEMENT_INFORMATION = "management_information", "Management information"
    LOCAL_RETURN = "local_return", "Local return"


class Basis(models.TextChoices):
    QUARTER = "quarter", "Quarter"
    ROLLING_12_MONTHS = "rolling_12_months", "Rolling 12 months"
    FINANCIAL_YEAR_TO_DATE = "financial_year_to_date", "Financial year to date"
    ANNUAL = "annual", "Annual (one figure a year, at the quarter the year ends)"


class Metric(models.Model):
    """A defined measure, with every field of the framework file."""

    code = models.CharField(max_length=32)
    partnership = models.ForeignKey(
        "accounts.Partnership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="metrics",
        help_text="The partnership whose measure it is; empty: a shared official statistic (one definition and "
        "one set of figures for every partnership whose framework uses it).",
    )
    name = models.CharField(max_length=300)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="metrics")
    unit = models.CharField(max_length=20, choices=Unit.choices)
    direction = models.CharField(max_length=20, choices=Direction.choices)
    source_type = models.CharField(max_length=30, choices=SourceType.choices)
    basis = models.CharField(max_length=30, choices=Basis.choices, default=Basis.QUARTER)
    breakdowns = models.ManyToManyField(Breakdown, blank=True, related_name="metrics")
    areas = models.ManyToManyField(
        Area,
        blank=True,
        related_name="owed_metrics",
        help_text="Areas a return owes a value for (empty: the home area).",
    )
    description = models.TextField(blank=True)
    caveats = models.TextField(blank=True)
    spc_screen_outliers = models.BooleanField(default=True)
    spc_run_length = models.PositiveSmallIntegerField(default=7)
    spc_trend_length = models.PositiveSmallIntegerField(default=7)
    decimals = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Display precision; empty: the unit's default."
    )
    comparable = models.BooleanField(
        null=True,
        blank=True,
        help_text="Peer ranks allowed; empty: yes for percentages, rates, days and ratios, no for counts.",
    )
    source = models.JSONField(
        default=dict, blank=True, help_text="Publisher, title, url, period, released, next_release."
    )
    public = models.BooleanField(
        default=False, help_text="Show in public reports even though it is management information."
    )
    local_areas = models.BooleanField(
        default=False,
        help_text="Reported by local area: returns owe one value (the total) for each local area of the home area.",
    )
    plausible_min = models.FloatField(
        null=True, blank=True, help_text="Lowest plausible value (tightens the unit's range); empty: the unit's."
    )
    plausible_max = models.FloatField(
        null=True, blank=True, help_text="Highest plausible value (tightens the unit's range); empty: the unit's."
    )

    objects = MetricQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(spc_run_length__gte=2), name="metric_run_length_min"),
            models.CheckConstraint(condition=Q(spc_trend_length__gte=2), name="metric_trend_length_min"),
            # A code names one measure within a partnership, and one shared measure.
            models.UniqueConstraint(
                fields=["partnership", "code"],
                condition=Q(partnership__isnull=False),
                name="metric_code_per_partnership",
            ),
            models.UniqueConstraint(fields=["code"], condition=Q(partnership__isnull=True), name="metric_code_shared"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def has_ratio(self) -> bool:
        return self.unit in UNIT_SCALE


class Rebase(MadeInCurrentPartnership, models.Model):
    """A recalculation of SPC limits from a quarter on, recorded with its reason."""

    partnership = models.ForeignKey("accounts.Partnership", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="rebases")
    period = models.DateField(help_text="Quarter end date from which the new limits apply.")
    reason = models.TextField()

    objects = RebaseQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "period"]
        constraints = [models.UniqueConstraint(fields=["partnership", "metric", "period"], name="rebase_unique")]

    def __str__(self) -> str:
        return f"{self.metric_id} rebased {self.period}"


# --- a metric's place in a framework, and the checks on a return's values ---------------------------
class FrameworkMetric(models.Model):
    """A metric's place in a framework: under which priority and in what order."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="placements")
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="placements")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="placements")
    order = models.PositiveIntegerField(default=0)

    objects = FrameworkMetricQuerySet.as_manager()

    class Meta:
        db_table = "frameworks_frameworkmetric"  # made when it lived in frameworks; kept
        ordering = ["priority__order", "order"]
        constraints = [models.UniqueConstraint(fields=["framework", "metric"], name="framework_metric_unique")]

    def __str__(self) -> str:
        return f"{self.metric_id} in {self.priority_id}"


class RuleKind(models.TextChoices):
    BREAKDOWN_SUM = "breakdown_sum", "Categories add up to the total"
    AT_MOST = "at_most", "At most another metric"
    RANGE = "range", "Within a range"


class Importance(models.TextChoices):
    ERROR = "error", "Error (blocks submission)"
    WARNING = "warning", "Warning (needs a comment)"


class ValidationRule(models.Model):
    """A check on a return's values, declared in the framework file and evaluated by one engine."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="rules")
    code = models.SlugField(max_length=64)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="rules")
    other_metric = models.ForeignKey(Metric, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    breakdown = models.ForeignKey(Breakdown, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(default=0)
    importance = models.CharField(max_length=10, choices=Importance.choices, default=Importance.ERROR)
    message = models.CharField(max_length=300, blank=True)

    objects = ValidationRuleQuerySet.as_manager()

    class Meta:
        db_table = "frameworks_validationrule"  # made when it lived in frameworks; kept
        ordering = ["framework", "code"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="validation_rule_unique"),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.AT_MOST) | Q(other_metric__isnull=False), name="rule_at_most_has_other"
            ),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.BREAKDOWN_SUM) | Q(breakdown__isnull=False), name="rule_sum_has_breakdown"
            ),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.RANGE) | Q(minimum__isnull=False) | Q(maximum__isnull=False),
                name="rule_range_has_bound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"


class ImportBatch(models.Model):
    """One accepted data file or approved return: where observations came from."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="imports")
    partnership = models.ForeignKey(
        "accounts.Partnership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The partnership whose data it loaded (empty: shared official statistics only).",
    )
    source_return = models.ForeignKey(
        "Return",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imports",
        help_text="The approved return.",
    )
    filename = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.filename} ({self.agency.code}, {self.created_at:%Y-%m-%d})"


class ObservationStatus(models.TextChoices):
    PROVISIONAL = "provisional", "Provisional"
    FINAL = "final", "Final"
    REVISED = "revised", "Revised"


class Missing(models.TextChoices):
    """GSS symbols for a figure that is accounted for but has no value."""

    NONE = "", "—"
    NOT_AVAILABLE = "x", "[x] not available"
    NOT_APPLICABLE = "z", "[z] not applicable"


class StoredFigure(models.Model):
    """The stored figure fields shared by observations, return values and snapshot observations.

    ``unit`` copies the metric's unit so the database can check the figure (percentages in range, no
    negatives except scores); ``missing`` is a GSS symbol when the figure is accounted for but has no
    value. A concrete model adds ``figure_constraints(prefix)`` to its ``Meta.constraints``.
    """

    unit = models.CharField(max_length=20, choices=Unit.choices)
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    missing = models.CharField(max_length=1, choices=Missing.choices, blank=True, default=Missing.NONE)
    status = models.CharField(max_length=12, choices=ObservationStatus.choices, default=ObservationStatus.PROVISIONAL)
    note = models.TextField(blank=True)
    illustrative = models.BooleanField(
        default=False, help_text="Made up to show how the product works (the demo): never a published figure."
    )

    class Meta:
        abstract = True


# What a person gives for a figure, and with the unit copied from the metric, the stored figure: the fields
# copied, listed and bulk-updated wherever figures move between tables (in ``StoredFigure``'s order).
FIGURE_VALUE_FIELDS = ("value", "numerator", "denominator", "missing", "status", "note", "illustrative")
FIGURE_FIELDS = ("unit", *FIGURE_VALUE_FIELDS)


def figure_key_constraints(prefix: str, *key: str) -> list[models.BaseConstraint]:
    """One figure per ``key`` for the total (no category) and one per ``key`` and category, named
    ``{prefix}_total_unique`` and ``{prefix}_category_unique``."""
    return [
        models.UniqueConstraint(fields=list(key), condition=Q(category__isnull=True), name=f"{prefix}_total_unique"),
        models.UniqueConstraint(
            fields=[*key, "category"], condition=Q(category__isnull=False), name=f"{prefix}_category_unique"
        ),
    ]


def figure_constraints(prefix: str) -> list[models.BaseConstraint]:
    """The database's checks on a stored figure, named ``{prefix}_<rule>`` (unique per table).

    The same rules as the import core's checks (``metrics.imports.checks``), so a figure that passed them
    is never refused here, and one that did not cannot be stored by any other road.
    """
    return [
        models.CheckConstraint(
            condition=Q(denominator__isnull=True) | Q(denominator__gt=0), name=f"{prefix}_denominator_positive"
        ),
        models.CheckConstraint(
            condition=Q(numerator__isnull=True) | Q(numerator__gte=0), name=f"{prefix}_numerator_not_negative"
        ),
        models.CheckConstraint(
            condition=Q(value__isnull=True) | Q(value__gte=0) | Q(unit__in=list(SIGNED_UNITS)),
            name=f"{prefix}_value_not_negative",
        ),
        models.CheckConstraint(
            condition=~Q(unit=Unit.PERCENTAGE) | Q(value__isnull=True) | Q(value__gte=0, value__lte=100),
            name=f"{prefix}_percentage_in_range",
        ),
        models.CheckConstraint(
            condition=~Q(unit__in=list(UNIT_SCALE))
            | Q(numerator__isnull=True)
            | Q(denominator__isnull=True)
            | Q(numerator__lte=F("denominator")),
            name=f"{prefix}_numerator_within_denominator",
        ),
        models.CheckConstraint(
            condition=(Q(missing="") & Q(value__isnull=False)) | (Q(missing__in=["x", "z"]) & Q(value__isnull=True)),
            name=f"{prefix}_value_or_missing",
        ),
    ]


class Observation(StoredFigure):
    """One approved value for (metric, area, quarter, breakdown category).

    ``category`` empty is the total. ``unit`` is kept in step by the services that change a metric's unit.
    """

    # No index of its own: obs_metric_period, obs_metric_area_period and the unique keys lead with the metric; with many
    # partnerships' observations in one table a metric-only index tempted PostgreSQL into reading every area's
    # rows of each metric (bench_partnerships: 61 ms against 11 ms for the overview's observations).
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="observations", db_index=False)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="observations")
    period = models.DateField(help_text="Quarter end date.")
    category = models.ForeignKey(
        BreakdownCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    source = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    source_row = models.PositiveIntegerField(null=True, blank=True, help_text="Row of the source file.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "area", "period"]
        indexes = [
            models.Index(fields=["metric", "area", "period"], name="obs_metric_area_period"),
            # The newest quarter of each metric in one step (FigureSource.latest_period): with many
            # partnerships in one table, "the newest quarter of my measures" reads 60 index entries, not the
            # table (bench_partnerships).
            models.Index(fields=["metric", "period"], name="obs_metric_period"),
            models.Index(fields=["area", "period"], name="obs_area_period"),
        ]
        constraints = [
            *figure_key_constraints("observation", "metric", "area", "period"),
            *figure_constraints("observation"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.area_id}/{self.period}: {self.value}"

    @property
    def label(self) -> str:
        return period_label(self.period)


# --- collection rounds and returns ------------------------------------------------------------------
class CollectionRound(MadeInCurrentPartnership, models.Model):
    """A quarter's returns and their due date."""

    partnership = models.ForeignKey("accounts.Partnership", on_delete=models.PROTECT, related_name="rounds")
    period = models.DateField(help_text="Quarter end date.")
    due_date = models.DateField()
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CollectionRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["partnership", "period"], name="round_per_partnership")]

    def __str__(self) -> str:
        return f"Round {period_label(self.period)}"

    @property
    def label(self) -> str:
        return period_label(self.period)


class ReturnState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned for correction"


# The legal moves from each state (``accounts.workflow.change_state`` checks every change against it).
RETURN_TRANSITIONS: dict[ReturnState, frozenset[ReturnState]] = {
    ReturnState.DRAFT: frozenset({ReturnState.SUBMITTED}),
    # Back to draft when the agency saves corrections; submitted again when they are done.
    ReturnState.RETURNED: frozenset({ReturnState.SUBMITTED, ReturnState.DRAFT}),
    ReturnState.SUBMITTED: frozenset({ReturnState.APPROVED, ReturnState.RETURNED}),
    ReturnState.APPROVED: frozenset({ReturnState.DRAFT}),  # reopened by a performance manager
}
# States in which the agency may change values.
EDITABLE_STATES = {ReturnState.DRAFT, ReturnState.RETURNED}


class Return(models.Model):
    """One agency's data for one quarter."""

    round = models.ForeignKey(CollectionRound, on_delete=models.PROTECT, related_name="returns")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="returns")
    state = models.CharField(max_length=12, choices=ReturnState.choices, default=ReturnState.DRAFT)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change; guards against lost updates.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why it was returned for correction or reopened.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["round", "agency__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "agency"], name="return_unique"),
            models.CheckConstraint(condition=Q(state__in=[s.value for s in ReturnState]), name="return_state_valid"),
            models.CheckConstraint(
                condition=~Q(state__in=[ReturnState.SUBMITTED, ReturnState.APPROVED]) | Q(submitted_at__isnull=False),
                name="return_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.round.label}"

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES


class ReturnValue(StoredFigure):
    """A value in a return, before approval: what the agency entered or uploaded, with its comment."""

    return_obj = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="values")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(BreakdownCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True, help_text="The analyst's explanation of a warning, shown to the approver.")
    source = models.CharField(max_length=300, blank=True, help_text="Web form, or the uploaded file's name.")
    source_row = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReturnValueQuerySet.as_manager()

    class Meta:
        ordering = ["metric__code", "area__code", "category__order"]
        constraints = [
            *figure_key_constraints("return_value", "return_obj", "metric", "area"),
            *figure_constraints("return_value"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}/{self.area_id}/{self.category_id}: {self.value}"

    @property
    def key(self) -> tuple[int, int, int | None]:
        return (self.metric_id, self.area_id, self.category_id)


class UploadState(models.TextChoices):
    CHECKING = "checking", "Checking"
    READY = "ready", "Ready to confirm"
    REJECTED = "rejected", "Rejected"
    WRITING = "writing", "Writing"
    COMMITTED = "committed", "Written to the return"
    SUPERSEDED = "superseded", "Superseded"
    FAILED = "failed", "Stopped"


# A small file is created checked (ready) and written at once; a large one is checked and written in the
# background (checking → ready → writing → committed). Another file written first supersedes a ready one.
# Background work that stops (its worker died, or an unexpected error) is failed, with nothing written, and
# may be checked again from the start.
UPLOAD_TRANSITIONS: dict[UploadState, frozenset[UploadState]] = {
    UploadState.CHECKING: frozenset({UploadState.READY, UploadState.REJECTED, UploadState.FAILED}),
    UploadState.READY: frozenset({UploadState.WRITING, UploadState.COMMITTED, UploadState.SUPERSEDED}),
    UploadState.WRITING: frozenset({UploadState.COMMITTED, UploadState.REJECTED, UploadState.FAILED}),
    UploadState.REJECTED: frozenset(),
    UploadState.COMMITTED: frozenset(),
    UploadState.SUPERSEDED: frozenset(),
    UploadState.FAILED: frozenset({UploadState.CHECKING}),
}


class ReturnUpload(models.Model):
    """An uploaded file awaiting the analyst's confirmation, with the preview of what it would change."""

    return_obj = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="uploads")
    filename = models.CharField(max_length=300)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=UploadState.choices, default=UploadState.CHECKING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    return_version = models.PositiveIntegerField(help_text="The return's version the preview was made against.")
    checked = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The preview's checked rows (compressed), keyed by the file's hash and the return's version: "
        "the commit writes them without reading the file again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The worker checking or writing the file: its task, and when it last said it was alive.
    task_id = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = ReturnUploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in UploadState]), name="returnupload_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(self.rows_done / self.rows_total * 100))


class Notification(models.Model):
    """An e-mail sent about a return, so reminders go out once."""

    kind = models.CharField(max_length=20)
    return_obj = models.ForeignKey(
        Return, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    round = models.ForeignKey(
        CollectionRound, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "return_obj"],
                condition=Q(kind__in=["due_soon", "late"]),
                name="notification_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sent_at:%Y-%m-%d}"
