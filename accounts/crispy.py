"""Forms through django-crispy-forms with the GOV.UK Design System pack (crispy-forms-gds): one helper so every
form posts the same way, with GOV.UK labels, hints, error messages and buttons."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms.layout import HTML, Layout  # type: ignore[import-untyped]
from crispy_forms_gds.layout import Button  # type: ignore[import-untyped]
from django.utils.html import format_html
from django.utils.text import slugify


def gds_helper(
    *,
    action: str = "",
    submit: str | None = None,
    hidden: dict[str, Any] | None = None,
    fields: tuple[str, ...] = (),
    secondary: bool = False,
    warning: bool = False,
    css_class: str = "",
    submit_name: str = "",
) -> FormHelper:
    """A POST form's helper: ``fields`` in order, ``hidden`` inputs, one button called ``submit``."""
    helper = FormHelper()
    helper.form_method = "post"
    helper.form_action = action
    if css_class:
        helper.form_class = css_class
    items: list[Any] = [*fields]
    items += [
        HTML(format_html('<input type="hidden" name="{}" value="{}">', name, value))
        for name, value in (hidden or {}).items()
    ]
    if submit:
        kind = Button.warning if warning else Button.secondary if secondary else Button.primary
        name = submit_name or slugify(submit)
        items.append(kind(name, submit, css_id=f"button-{name}"))
    helper.layout = Layout(*items)
    return helper
