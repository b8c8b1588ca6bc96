from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, RoleAdminMixin
from reports.models import Annotation, Snapshot


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published snapshots are immutable: the admin can look, not change."""

    list_display = ("__str__", "published_at", "published_by", "observation_count", "framework_version")


@admin.register(Annotation)
class AnnotationAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("metric", "area", "period", "kind", "text", "created_by")
    list_filter = ("kind", "metric")
    autocomplete_fields = ()

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
