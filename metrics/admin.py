from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, RoleAdminMixin
from frameworks.admin import FrameworkAdmin
from frameworks.models import Framework

from .models import FIGURE_FIELDS, FrameworkMetric, ImportBatch, Metric, Observation, Rebase


class PlacementInline(admin.TabularInline):
    model = FrameworkMetric
    extra = 0


# A framework's page lists its metrics' places too; the model lives here, so the inline is added here.
admin.site.unregister(Framework)


@admin.register(Framework)
class FrameworkWithPlacementsAdmin(FrameworkAdmin):
    inlines = [*FrameworkAdmin.inlines, PlacementInline]


class RebaseInline(admin.TabularInline):
    model = Rebase
    extra = 0


@admin.register(Metric)
class MetricAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "agency", "unit", "direction", "source_type", "basis")
    list_filter = ("agency", "unit", "direction", "source_type")
    search_fields = ("code", "name")
    inlines = [RebaseInline]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Observations change only through imports and returns, so every change is audited."""

    list_display = ("metric", "area", "period", "category", "value", "missing", "status", "source", "source_row")
    # The figure fields come from StoredFigure, which would put them first; the page keeps its order.
    fields = ("metric", "area", "period", "category", *FIGURE_FIELDS, "source", "source_row")
    list_filter = ("metric", "status")
    list_select_related = ("metric", "area", "category", "source")
    search_fields = ("metric__code", "area__code")
    show_full_result_count = False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("filename", "agency", "created_at", "uploaded_by", "rows_read", "created", "updated", "unchanged")
