"""``{% button_form %}``: a small POST form (a button, hidden inputs, at most one reason box) rendered through
django-crispy-forms with the GOV.UK Design System pack, for the pages' state changes that need no view form.

    {% load gds_forms %}
    {% url 'upload-retry' upload.pk as retry_url %}
    {% button_form retry_url "Check the file again" secondary=True %}
    {% button_form publish_url "Publish the snapshot" reason="Reason for publishing" reason_id="reason-1" quarter="2024-06-30" %}
"""

from __future__ import annotations

from typing import Any

from crispy_forms.utils import render_crispy_form  # type: ignore[import-untyped]
from django import forms, template
from django.utils.safestring import SafeString

from accounts.crispy import gds_helper

register = template.Library()


class ButtonForm(forms.Form):
    """Nothing to fill in but, when ``reason`` names it, one reason box (``name="reason"``)."""

    reason = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *, reason: str = "", reason_id: str = "", hint: str = ""):
        super().__init__()
        if reason:
            self.fields["reason"].label = reason
            if reason_id:  # the box's id, where a page shows several reason boxes ("rebase-reason-2")
                self.fields["reason"].widget.attrs["id"] = reason_id
            self.fields["reason"].help_text = hint
        else:
            del self.fields["reason"]


@register.simple_tag(takes_context=True)
def button_form(
    context: Any,
    action: str,
    submit: str,
    *,
    secondary: bool = False,
    warning: bool = False,
    reason: str = "",
    reason_id: str = "",
    hint: str = "",
    css_class: str = "",
    **hidden: Any,
) -> SafeString:
    form = ButtonForm(reason=reason, reason_id=reason_id, hint=hint)
    helper = gds_helper(
        action=action,
        submit=submit,
        hidden=hidden,
        fields=("reason",) if reason else (),
        secondary=secondary,
        warning=warning,
        css_class=css_class,
    )
    return SafeString(render_crispy_form(form, helper, context.flatten()))
