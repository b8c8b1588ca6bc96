"""The performance manager's management pages for users (no Django admin needed), the manage hub, and the
invitee's set-password page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from .access import Perm, is_system_actor, permission_required
from .downloads import csv_bytes, download
from .forms import ChoosePasswordForm, InviteForm, UserChangeForm
from .models import Role
from .partnerships import several_partnerships
from .users import (
    UserError,
    membership_remove,
    user_change,
    user_invite,
    user_invite_again,
    user_password_set,
    user_set_active,
    users_in_scope,
    users_list,
)


@permission_required(Perm.MANAGE_FRAMEWORK)
def manage_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/manage/home.html", {})


def _invitation_message(request: HttpRequest, invitation: Any, verb: str) -> None:
    user = invitation.user
    if not invitation.link:  # an existing account given a role here: it signs in as it always has
        messages.success(request, f"{verb} {user.email}: they already have an account and now have a role here.")
    elif invitation.sent:
        messages.success(request, f"{verb} {user.email}: the e-mail with the set-password link was sent.")
    else:
        messages.warning(
            request,
            f"{verb} {user.email}, but the e-mail could not be sent. Pass on this one-time link another way: "
            f"{invitation.link}",
        )


@permission_required(Perm.MANAGE_USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    users = list(users_list())
    header = ["username", "name", "e-mail", "role", "agency", "active", "password chosen", "last sign-in"]
    rows = [
        [
            u.username,
            u.get_full_name(),
            u.email,
            getattr(u, "role_here_label", ""),
            getattr(getattr(u, "agency_here", None), "name", ""),
            "yes" if u.is_active else "no",
            "yes" if u.has_usable_password() else "no",
            u.last_login.isoformat(timespec="minutes") if u.last_login else "",
        ]
        for u in users
    ]
    if request.GET.get("format") == "csv":
        return download(csv_bytes(header, rows), "users.csv")
    return render(request, "accounts/manage/users.html", {"users": users, "several": several_partnerships()})


@permission_required(Perm.MANAGE_USERS)
def user_invite_page(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = user_invite(
                actor=request.user, email=data["email"], name=data["name"], role=data["role"], agency=data["agency"]
            )
        except UserError as exc:
            form.add_error("email", str(exc))
        else:
            _invitation_message(request, invitation, "Invited")
            return redirect("manage-users")
    return render(request, "accounts/manage/invite.html", {"form": form})


@permission_required(Perm.MANAGE_USERS)
def user_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(users_in_scope().select_related("agency"), pk=pk)
    if is_system_actor(subject):
        return redirect("manage-users")
    here = next(u for u in users_list() if u.pk == subject.pk)
    form = UserChangeForm(
        request.POST or None,
        initial={"role": here.role_here or subject.role, "agency": here.agency_here or subject.agency},  # type: ignore[attr-defined]
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_change(
                actor=request.user,
                user_id=subject.pk,
                role=form.cleaned_data["role"],
                agency=form.cleaned_data["agency"],
            )
        except UserError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Saved: {subject.username} is now {Role(form.cleaned_data['role']).label.lower()}.",
            )
            return redirect("manage-users")
    return render(
        request,
        "accounts/manage/user_edit.html",
        {"form": form, "subject": subject, "is_self": subject.pk == request.user.pk},
    )


@require_POST
@permission_required(Perm.MANAGE_USERS)
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    subject = get_object_or_404(users_in_scope(), pk=pk)
    try:
        if action == "remove":
            membership_remove(actor=request.user, user_id=subject.pk)
            messages.success(request, f"{subject.username} no longer has a role in this partnership.")
        elif action == "deactivate":
            user_set_active(actor=request.user, user_id=subject.pk, active=False)
            messages.success(request, f"{subject.username} is deactivated: they can no longer sign in.")
        elif action == "reactivate":
            user_set_active(actor=request.user, user_id=subject.pk, active=True)
            messages.success(request, f"{subject.username} is active again.")
        elif action == "invite-again":
            _invitation_message(request, user_invite_again(actor=request.user, user_id=subject.pk), "A new link for")
        else:
            return HttpResponse(status=404)
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("manage-users")


class SetPasswordView(PasswordResetConfirmView):
    """The invitee's one-time link: choose a password (Django's reset token checks), then sign in."""

    template_name = "accounts/manage/set_password.html"
    form_class = ChoosePasswordForm
    success_url = reverse_lazy("login")
    post_reset_login = False

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active and not is_system_actor(user) else None

    def form_valid(self, form: Any) -> HttpResponse:
        user_password_set(user=form.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        messages.success(self.request, "Your password is set. Sign in with your e-mail address and the new password.")
        return redirect(reverse("login"))
