"""Admin for frameworks, areas, peer groups and breakdowns (users and the audit trail: accounts.admin)."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, RoleAdminMixin

from .models import (
    Area,
    Breakdown,
    BreakdownCategory,
    Framework,
    FrameworkVersion,
    PeerGroup,
    PeerGroupMembership,
    Priority,
)


@admin.register(Area)
class AreaAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "type", "ons_code", "parent")
    list_filter = ("type",)
    search_fields = ("code", "name", "ons_code")


class MembershipInline(admin.TabularInline):
    model = PeerGroupMembership
    extra = 0


@admin.register(PeerGroup)
class PeerGroupAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name")
    inlines = [MembershipInline]


class CategoryInline(admin.TabularInline):
    model = BreakdownCategory
    extra = 0


@admin.register(Breakdown)
class BreakdownAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "reference")
    inlines = [CategoryInline]


class PriorityInline(admin.TabularInline):
    model = Priority
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Priorities inline; ``metrics.admin`` adds each metric's place (metrics point at frameworks, not back)."""

    list_display = ("code", "name", "version", "home_area", "is_current")
    readonly_fields = ("version",)
    inlines = [PriorityInline]


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("framework", "version", "created_at", "created_by")
