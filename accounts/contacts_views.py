"""The performance manager's agencies page: each agency with its contacts, and the form to change them."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms.layout import Layout  # type: ignore[import-untyped]
from crispy_forms_gds.layout import Button, Field  # type: ignore[import-untyped]
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from .access import Perm, permission_required
from .contacts import ContactError, agency_contacts, agency_contacts_update, agency_people, contacts_of, person_name
from .downloads import csv_bytes, download
from .models import Agency, User

AGENCIES_HEADER = ["agency", "code", "contact", "e-mail address", "kind"]


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{person_name(obj)} ({obj.email or 'no e-mail address'})"


class AgencyContactsForm(forms.Form):
    """Name an agency's contacts among its users, and its shared mailbox (GOV.UK checkboxes and input)."""

    users = PersonChoice(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Named contacts",
        help_text="People of the agency to e-mail about its returns. With no one ticked, its analysts are e-mailed.",
    )
    shared_mailbox = forms.EmailField(
        required=False,
        label="Shared mailbox",
        help_text="A team address (for example performance@agency.example), e-mailed as well. Leave empty for none.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = agency_people(agency)
        self.fields["users"].queryset = people  # type: ignore[attr-defined]
        items: list[Any] = [Field.checkboxes("users", legend_size="m")]
        if not people.exists():  # no one to tick: no empty group of checkboxes
            del self.fields["users"]
            items = []
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}  # the server's messages, in the error summary, for every browser
        self.helper.layout = Layout(
            *items,
            Field.text("shared_mailbox", field_width=30),
            Button.primary("save", "Save contacts"),
        )


@permission_required(Perm.MANAGE_AGENCIES)
def agency_list(request: HttpRequest) -> HttpResponse:
    """Every agency with its contacts and shared mailbox (CSV of the same)."""
    lists = list(agency_contacts().values())
    if request.GET.get("format") == "csv":
        rows: list[list[Any]] = []
        for entry in lists:
            kind = "named contact" if entry.named else "analyst (no one named)"
            rows += [[entry.agency.name, entry.agency.code, person_name(u), u.email, kind] for u in entry.people]
            if entry.shared_mailbox:
                rows.append([entry.agency.name, entry.agency.code, "", entry.shared_mailbox, "shared mailbox"])
            if not entry.recipients:
                rows.append([entry.agency.name, entry.agency.code, "", "", "no e-mail address"])
        return download(csv_bytes(AGENCIES_HEADER, rows), f"agency-contacts-{timezone.localdate():%Y-%m-%d}.csv")
    return render(request, "accounts/agencies.html", {"lists": lists})


@permission_required(Perm.MANAGE_AGENCIES)
def agency_contacts_edit(request: HttpRequest, code: str) -> HttpResponse:
    agency = get_object_or_404(Agency, code=code)
    current = contacts_of(agency)
    initial = {
        "users": [u.pk for u in current.people] if current.named else [],
        "shared_mailbox": current.shared_mailbox,
    }
    form = AgencyContactsForm(request.POST or None, agency=agency, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                agency_contacts_update(
                    actor=request.user,
                    agency_id=agency.pk,
                    user_ids=[u.pk for u in form.cleaned_data.get("users", [])],
                    shared_mailbox=form.cleaned_data["shared_mailbox"],
                )
            except ContactError as exc:
                form.add_error("users", str(exc))
            else:
                messages.success(request, f"Contacts saved. {contacts_of(agency).told()}")
                return redirect("agencies")
        status = 400
    return render(
        request, "accounts/agency_contacts.html", {"agency": agency, "form": form, "current": current}, status=status
    )
