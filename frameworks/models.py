"""Frameworks, priorities, areas, peer groups and breakdowns.

Users, agencies and the audit trail live in accounts; metrics, their place in a framework and validation rules
in metrics (which points here, never the other way).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.scoping import ScopedQuerySet


# Reads scoped by partnership (``accounts.scoping``): ``Model.objects.in_scope()``.
class FrameworkQuerySet(ScopedQuerySet):
    PATH = "partnership"


class PriorityQuerySet(ScopedQuerySet):
    PATH = "framework__partnership"


class AreaType(models.TextChoices):
    NATIONAL = "national", "England & Wales"
    REGION = "region", "Region"
    POLICE_FORCE_AREA = "police_force_area", "Police force area"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    COMMUNITY_SAFETY_PARTNERSHIP = "community_safety_partnership", "Community safety partnership"


class Area(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40, choices=AreaType.choices)
    ons_code = models.CharField(max_length=9, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    population = models.PositiveIntegerField(
        null=True, blank=True, help_text="Residents (the framework file says which estimate); empty: not given."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PeerGroup(models.Model):
    """A most similar group of areas; membership is dated."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class PeerGroupMembership(models.Model):
    peer_group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="memberships")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="peer_memberships")
    valid_from = models.DateField(null=True, blank=True, help_text="Empty: since always.")
    valid_to = models.DateField(null=True, blank=True, help_text="Empty: still a member.")

    class Meta:
        ordering = ["peer_group", "area__name"]
        constraints = [
            models.UniqueConstraint(fields=["peer_group", "area", "valid_from"], name="peer_membership_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="peer_membership_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area_id} in {self.peer_group_id} from {self.valid_from or 'always'}"


class Breakdown(models.Model):
    """A dimension with categories and a reference category for disproportionality."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    reference = models.ForeignKey(
        "BreakdownCategory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    not_recorded = models.ForeignKey(
        "BreakdownCategory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text='The category meaning "not stated / unknown".',
    )
    min_recorded = models.FloatField(
        default=0.8,
        help_text="The share of records with a recorded category below which disproportionality ratios are withheld.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_recorded__gte=0) & models.Q(min_recorded__lte=1),
                name="breakdown_min_recorded_share",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BreakdownCategory(models.Model):
    breakdown = models.ForeignKey(Breakdown, on_delete=models.CASCADE, related_name="categories")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["breakdown", "order"]
        verbose_name_plural = "breakdown categories"
        constraints = [models.UniqueConstraint(fields=["breakdown", "code"], name="breakdown_category_unique")]

    def __str__(self) -> str:
        return f"{self.breakdown.code}:{self.code}"


class Framework(models.Model):
    """The priorities and metrics a board monitors for a reporting year. Each change makes a new version."""

    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    home_area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    peer_group = models.ForeignKey(PeerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True, help_text="The framework that pages and the API show.")
    updated_at = models.DateTimeField(auto_now=True)
    partnership = models.ForeignKey(
        "accounts.Partnership",
        on_delete=models.PROTECT,
        related_name="frameworks",
        help_text="The partnership (LCJB) the framework belongs to.",
    )

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            # Codes are the partnership's own; the index leads with the partnership (its current framework).
            models.UniqueConstraint(fields=["partnership", "code"], name="framework_code_per_partnership")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A framework made without a partnership belongs to the installation's default partnership."""
        if self.partnership_id is None:
            from accounts.partnerships import default_partnership

            self.partnership = default_partnership()
        super().save(*args, **kwargs)


class FrameworkVersion(models.Model):
    """The framework file as it was at each version: what changed and when can always be seen."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.TextField(help_text="The framework file (YAML) of this version.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["framework", "-version"]
        constraints = [models.UniqueConstraint(fields=["framework", "version"], name="framework_version_unique")]

    def __str__(self) -> str:
        return f"{self.framework_id} v{self.version}"


class Priority(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="priorities")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)

    objects = PriorityQuerySet.as_manager()

    class Meta:
        ordering = ["framework", "order"]
        verbose_name_plural = "priorities"
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="priority_unique")]

    def __str__(self) -> str:
        return self.name
