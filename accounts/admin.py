"""Admin for performance managers. Permissions come from the role table, not Django's model permissions."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .access import Perm, has_perm
from .audit import AuditAction, record
from .models import Agency, ApiToken, AuditEvent, Partnership, User, UserHasActed, refuse_if_acted
from .versions import data_changed


class RoleAdminMixin:
    """Performance managers may use every admin page; nobody else may use any."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        old = {name: str(form.initial.get(name, "")) for name in form.changed_data} if change else None
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        new = {name: str(form.cleaned_data.get(name, "")) for name in form.changed_data}
        record(
            AuditAction.ADMIN_CHANGED if change else AuditAction.ADMIN_CREATED,
            actor=request.user,
            obj=obj,
            summary=str(obj),
            old=old,
            new=new,
        )
        data_changed()  # an admin edit (annotations, areas, peer groups …) may change what pages show

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record(AuditAction.ADMIN_DELETED, actor=request.user, obj=obj, summary=str(obj))
        super().delete_model(request, obj)  # type: ignore[misc]
        data_changed()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        data_changed()


class ReadOnlyAdminMixin(RoleAdminMixin):
    """Records that change only through services (so that they are audited)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class PccUserAdmin(RoleAdminMixin, UserAdmin):
    list_display = ("username", "email", "role", "agency", "is_active")
    list_filter = ("role", "agency", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("pcc_perf", {"fields": ("role", "agency")}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("pcc_perf", {"fields": ("role", "agency")}))

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        """A user the audit trail names is deactivated, not deleted: the page says so instead of deleting."""
        user = self.get_object(request, unquote(object_id))
        if user is not None:
            try:
                refuse_if_acted(User.objects.filter(pk=user.pk))
            except UserHasActed as refusal:
                messages.error(request, str(refusal))
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)


@admin.register(Agency)
class AgencyAdmin(RoleAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor_username", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("summary", "object_id")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Keys are made with ``manage.py create_api_token``; here they can be seen and revoked."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from .tokens import api_token_revoke

        for token in queryset:
            api_token_revoke(token=token, actor=request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The revoke action needs change permission; the form itself shows no editable field.
        return has_perm(request.user, Perm.USE_ADMIN)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]


@admin.register(Partnership)
class PartnershipAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Partnerships are made here (audited); users join them with ``manage.py add_user``. Memberships have no
    admin page: they follow the user's role (the default partnership) or ``add_user`` (the others), and a user
    deleted here takes their memberships along."""

    list_display = ("code", "name", "shares_published_with_region", "created_at")
    search_fields = ("code", "name")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
