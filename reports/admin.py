from django.contrib import admin

from frameworks.admin import ReadOnlyAdminMixin

from .models import Snapshot


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published snapshots are immutable: the admin can look, not change."""

    list_display = ("__str__", "published_at", "published_by", "observation_count", "framework_version")
