"""Forms for the management pages, rendered by django-crispy-forms with the GOV.UK template pack (gds):
``{% error_summary form %}`` above the heading, ``{% crispy form %}`` for the form itself."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms_gds.layout import Submit  # type: ignore[import-untyped]
from django import forms
from django.contrib.auth.forms import SetPasswordForm

from .models import Agency, Role


def gds_helper(button: str, *, form_id: str = "") -> FormHelper:
    """A POST form with one submit button (crispy adds the multipart encoding when a form has a file)."""
    helper = FormHelper()
    helper.form_method = "post"
    helper.form_id = form_id
    helper.attrs = {"novalidate": ""}  # errors come from the server, in the GOV.UK pattern, not the browser's
    helper.add_input(Submit("submit", button))
    return helper


class AgencyChoiceMixin(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == Role.ANALYST and not data.get("agency"):
            self.add_error("agency", "Choose the analyst's agency.")
        return data


class InviteForm(AgencyChoiceMixin):
    # Each error names its field: the GOV.UK error summary lists them, and "This field is required." three
    # times does not say which field.
    name = forms.CharField(
        label="Full name", max_length=300, error_messages={"required": "Enter the person's full name"}
    )
    email = forms.EmailField(
        label="E-mail address",
        help_text="They sign in with this address; the invitation goes to it.",
        error_messages={
            "required": "Enter their e-mail address",
            "invalid": "Enter an e-mail address like name@example.org",
        },
    )
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, widget=forms.RadioSelect, error_messages={"required": "Choose a role"}
    )
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.all(),
        required=False,
        empty_label="None",
        help_text="Required for an agency analyst: they see and send that agency's returns.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper("Send the invitation", form_id="invite-form")


class UserChangeForm(AgencyChoiceMixin):
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, widget=forms.RadioSelect, error_messages={"required": "Choose a role"}
    )
    agency = forms.ModelChoiceField(label="Agency", queryset=Agency.objects.all(), required=False, empty_label="None")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper("Save changes", form_id="user-form")


class ChoosePasswordForm(SetPasswordForm):
    """Django's set-password form (its validators), rendered with the GOV.UK pack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type the password again"
        self.helper = gds_helper("Set my password", form_id="password-form")
