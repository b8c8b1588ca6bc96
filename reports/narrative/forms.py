"""The report's edit form, through crispy-forms-gds: one box per text the report keeps (its summaries, the deep
dive, and each priority's narrative, public text, findings and partner commentary), each with its own label.

Field names are the keys ``report_edit`` takes (``summary``, ``narrative:<section id>``, ``finding:<id>`` …)."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms.layout import HTML, Layout  # type: ignore[import-untyped]
from crispy_forms_gds.layout import Button, Fieldset, Size  # type: ignore[import-untyped]
from django import forms
from django.utils.html import format_html

from reports.models import Report, ReportSection, ReportState

DRAFTED = "Drafted afresh from the evidence: check it, edit it and save (nothing is saved until you do)."
PUBLIC_SUMMARY = (
    "Printed in the public edition instead of the executive summary. Write it for the public: the board's text "
    "is never shown there, and nothing is shown when this is empty. Small numbers in the tables are suppressed "
    "for you; text is printed as written."
)


def _box(label: str, text: str, rows: int, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        initial=text,
        required=False,
        strip=False,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReportEditForm(forms.Form):
    def __init__(
        self,
        data: Any = None,
        *,
        report: Report,
        sections: list[ReportSection],
        drafted: str | None = None,
        editable: bool = True,
    ):
        super().__init__(data)
        self.fields["summary"] = _box(
            "Executive summary (Markdown)", drafted or report.executive_summary, 14, DRAFTED if drafted else ""
        )
        self.fields["public_summary"] = _box("Public summary (Markdown)", report.public_summary, 4, PUBLIC_SUMMARY)
        self.fields["deep_dive"] = forms.ChoiceField(
            label="Deep-dive priority",
            required=False,
            initial=str(report.deep_dive_id or ""),
            choices=[("", "None"), *((str(s.priority.pk), s.priority.name) for s in sections)],
        )
        self.fields["deep_dive_findings"] = _box(
            "Deep dive: the analyst's findings (Markdown)", report.deep_dive_findings, 5
        )
        self.fields["deep_dive_recommendations"] = _box(
            "Deep dive: recommendations to the board (Markdown)", report.deep_dive_recommendations, 5
        )
        layout: list[Any] = ["summary"]
        if editable:
            layout.append(
                HTML(
                    '<p class="govuk-body"><a class="govuk-link" href="?draft=summary#id_summary">Draft the summary '
                    "from the evidence</a> (what improved, what needs attention, out-of-date or missing measures, "
                    "questions for the board)</p>"
                )
            )
        layout += [
            "public_summary",
            "deep_dive",
            Fieldset("deep_dive_findings", "deep_dive_recommendations", legend="Deep dive", legend_size=Size.MEDIUM),
        ]
        for section in sections:
            name = section.priority.name
            keys = [f"narrative:{section.pk}", f"public:{section.pk}"]
            self.fields[keys[0]] = _box(f"Narrative: {name} (Markdown)", section.narrative, 5)
            self.fields[keys[1]] = _box(
                f"Public text: {name} (Markdown)",
                section.public_narrative,
                4,
                "The public edition's text for this priority; empty: none.",
            )
            for finding in section.findings.all():
                key = f"finding:{finding.pk}"
                hint = format_html("Edited; generated: {}", finding.generated) if finding.edited else ""
                self.fields[key] = _box(f"Finding: {finding.metric.name}", finding.text, 3, hint)
                keys.append(key)
            keys.append(f"commentary:{section.pk}")
            self.fields[keys[-1]] = _box(f"Partner commentary: {name} (Markdown)", section.commentary, 3)
            layout.append(Fieldset(*keys, legend=name, legend_size=Size.MEDIUM))
        if editable:
            layout.append(Button.primary("save", "Save", css_id="button-save"))
        else:
            for field in self.fields.values():
                field.disabled = True
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's <form> carries the report's version
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*layout)


class PackStartForm(forms.Form):
    """Which edition of the report to build as a PDF (the public one once the report is published)."""

    edition = forms.ChoiceField(label="PDF board pack", choices=[("board", "Board edition")])

    def __init__(self, *, report: Report, action: str):
        super().__init__()
        if report.state == ReportState.PUBLISHED:
            edition = self.fields["edition"]
            assert isinstance(edition, forms.ChoiceField)
            edition.choices = [("board", "Board edition"), ("public", "Public edition")]
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.layout = Layout("edition", Button.primary("build", "Build the PDF", css_id="button-build"))
