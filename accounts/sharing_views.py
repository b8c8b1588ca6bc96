"""The performance manager's page for the partnership's data-sharing setting (``accounts.sharing``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .access import Perm, permission_required
from .forms import gds_helper
from .tenancy import current_partnership

SHARE_CHOICES = [
    ("yes", "Yes, share our published figures with the region"),
    ("no", "No, keep them to our partnership"),
]


class SharingForm(forms.Form):
    shares = forms.ChoiceField(
        label="Share published figures with the other partnerships of the region?",
        choices=SHARE_CHOICES,
        widget=forms.RadioSelect,
        help_text="Only published snapshots are shared: never returns, approved figures not yet published, or "
        "draft reports. You can stop sharing at any time.",
        error_messages={"required": "Choose whether to share your published figures"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper("Save", form_id="sharing-form")


@permission_required(Perm.MANAGE_SHARING)
def sharing_page(request: HttpRequest) -> HttpResponse:
    """The current partnership's sharing setting, and the form to change it."""
    from .sharing import partnership_sharing_set

    partnership = current_partnership()
    initial = {"shares": "yes" if partnership.shares_published_with_region else "no"}
    form = SharingForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            shares = form.cleaned_data["shares"] == "yes"
            changed = shares != partnership.shares_published_with_region
            partnership_sharing_set(actor=request.user, partnership=partnership, shares=shares)
            if changed:
                messages.success(
                    request,
                    f"{partnership.name} now {'shares' if shares else 'no longer shares'} its published figures "
                    "with the region.",
                )
            else:
                messages.info(request, "Nothing changed.")
            return redirect("manage-sharing")
        return render(request, "accounts/manage/sharing.html", {"form": form, "partnership": partnership}, status=400)
    return render(request, "accounts/manage/sharing.html", {"form": form, "partnership": partnership})
