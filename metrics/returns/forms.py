"""The forms of the returns pages: the grid of values (one form per owed line), comments on warnings, the
state-change buttons, uploads and opening a round.

The forms read and shape what the browser sent; the checks on the figures themselves (numbers, [x]/[z],
percentages, numerators above denominators, rules) stay in one place, the import core, and the grid puts
each problem it finds back on the cell it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crispy_forms.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms.layout import Field, Layout  # type: ignore[import-untyped]
from django import forms

from accounts.crispy import gds_helper
from metrics.imports.summary import Issue
from metrics.models import ObservationStatus, ReturnValue
from metrics.quarters import Quarter, QuarterError

from .selectors import OwedLine
from .validation import Key

STATUS_CHOICES = [(ObservationStatus.PROVISIONAL.value, "Provisional"), (ObservationStatus.FINAL.value, "Final")]


class VersionForm(forms.Form):
    """The version of the return the page showed (a stale one is a conflict, never a silent overwrite)."""

    version = forms.IntegerField()


def posted_version(data: Mapping[str, Any]) -> int:
    """The posted version, or -1 (which matches no return) when it is missing or not a number."""
    form = VersionForm(data)
    return form.cleaned_data["version"] if form.is_valid() else -1


# --- the grid -------------------------------------------------------------------------------------------
def _show(number: float | None) -> str:
    """A stored figure as the box shows it: every digit that is stored (the shortest text that reads back as
    the same float), so saving a page unchanged posts back exactly the stored number, never a rounded one."""
    if number is None:
        return ""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def initial(saved: ReturnValue | None) -> dict[str, Any]:
    if saved is None:
        return {"status": ObservationStatus.PROVISIONAL.value}
    return {
        "value": f"[{saved.missing}]" if saved.missing else _show(saved.value),
        "numerator": _show(saved.numerator),
        "denominator": _show(saved.denominator),
        "status": saved.status,
        "note": saved.note,
    }


_NUMBER = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}
GRID_CELL = "metrics/grid_cell.html"
NO_CELL = "metrics/grid_no_cell.html"
RATIO_FIELDS = ("numerator", "denominator")


class GridLineForm(forms.Form):
    """One owed line of the grid (metric × area × category). Its fields are named ``l<index>-value`` etc."""

    value = forms.CharField(required=False, widget=forms.TextInput(attrs={**_NUMBER, "size": 9}))
    numerator = forms.CharField(required=False, widget=forms.TextInput(attrs={**_NUMBER, "size": 8}))
    denominator = forms.CharField(required=False, widget=forms.TextInput(attrs={**_NUMBER, "size": 9}))
    status = forms.ChoiceField(
        required=False,
        choices=STATUS_CHOICES,
        error_messages={"invalid_choice": "status '%(value)s' is not provisional or final"},
    )
    note = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 14}))

    def __init__(self, data: Mapping[str, Any] | None = None, *, line: OwedLine, index: int, **kwargs: Any):
        super().__init__(data, prefix=f"l{index}", **kwargs)
        self.line, self.index = line, index
        code = line.metric.code
        category = line.category.name if line.category else "total"
        # Each box has its own <label> (visually hidden: the row and column headers say it on screen).
        self.fields["value"].label = f"{code} {line.area.name} {category}: value"
        for name in ("numerator", "denominator", "status", "note"):
            self.fields[name].label = f"{code} {category}: {name}"
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # One <td> per box, in reading order; numerator and denominator only where the unit has them.
        ratio = line.metric.has_ratio
        self.helper.layout = Layout(
            *(
                Field(name, template=GRID_CELL if ratio or name not in RATIO_FIELDS else NO_CELL)
                for name in ("value", "numerator", "denominator", "status", "note")
            )
        )

    def cell_id(self, column: str) -> str:
        """The id the error summary links to: the box for ``column``, or the line's header for the line."""
        return self[column].auto_id if column in self.fields else f"line-{self.index}"

    @property
    def where(self) -> str:
        """How a message names the line: ``OFF01 robbery``, ``OFF01 total``."""
        return f"{self.line.metric.code} {self.line.category.code if self.line.category else 'total'}"

    def entry(self, period: dt.date) -> dict[str, Any]:
        """The line as the import core reads a file row (codes and the cells as typed)."""
        line, data = self.line, self.cleaned_data
        return {
            "metric": line.metric.code,
            "area": line.area.code,
            "period": period.isoformat(),
            "breakdown": line.category.breakdown.code if line.category else "",
            "category": line.category.code if line.category else "",
            "value": data["value"],
            "numerator": data["numerator"],
            "denominator": data["denominator"],
            "status": data["status"] or ObservationStatus.PROVISIONAL.value,
            "note": data["note"],
        }


@dataclass(frozen=True)
class Problem:
    """A problem with one cell (or, with ``column`` not a field of the grid, with its whole line)."""

    form: GridLineForm | None
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.form.where if self.form is not None else f"line {self.row}"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"

    @property
    def target(self) -> str:
        """The id of the element the error summary's link moves to (the cell, else the grid)."""
        return self.form.cell_id(self.column) if self.form is not None else "values"


class ReturnGridForm:
    """The grid of a return: one ``GridLineForm`` per owed line, like a formset whose lines are fixed by
    what the agency owes (so it needs no management form). Line ``i`` is row ``i + 1`` for the checks."""

    def __init__(
        self,
        *,
        lines: list[OwedLine],
        period: dt.date,
        saved: Mapping[Key, ReturnValue] | None = None,
        data: Mapping[str, Any] | None = None,
    ):
        saved = saved or {}
        self.period = period
        self.forms = [
            GridLineForm(data, line=line, index=index, initial=initial(saved.get(line.key)))
            for index, line in enumerate(lines)
        ]
        self.problems: list[Problem] = []

    def __iter__(self) -> Any:
        return iter(self.forms)

    def is_valid(self) -> bool:
        """True when every line is well formed; otherwise each field error becomes a problem."""
        for form in self.forms:  # form.errors validates the line
            for column, errors in form.errors.items():
                self.problems.extend(Problem(form, form.index + 1, column, str(message)) for message in errors)
        return not self.problems

    def entries(self) -> list[dict[str, Any]]:
        return [form.entry(self.period) for form in self.forms]

    def add_issues(self, issues: Iterable[Issue]) -> None:
        """Put each problem the checks found on its cell: row ``i + 1`` is line ``i``."""
        for issue in issues:
            index = (issue.row or 0) - 1
            form = self.forms[index] if 0 <= index < len(self.forms) else None
            if form is not None:
                form.add_error(issue.column if issue.column in form.fields else None, issue.message)
            self.problems.append(Problem(form, issue.row, issue.column, issue.message))


# --- the other forms ------------------------------------------------------------------------------------
class CommentsForm(forms.Form):
    """The analyst's comments on warnings, one ``comment-<value id>`` field per value of the return."""

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        value_ids: Iterable[int],
        initial: Mapping[int, str] | None = None,
        readonly: bool = False,
    ):
        super().__init__(data)
        for pk in value_ids:
            self.fields[f"comment-{pk}"] = forms.CharField(
                required=False,
                strip=False,
                label="Your comment",
                initial=(initial or {}).get(pk, ""),
                widget=forms.Textarea(attrs={"rows": 2, **({"readonly": "readonly"} if readonly else {})}),
            )

    def box(self, pk: int) -> Any:
        """The comment box of value ``pk`` (rendered beside its first warning, through crispy-forms-gds)."""
        return self[f"comment-{pk}"]

    def comments(self) -> dict[int, str]:
        """The comments that were sent (a value whose box was not on the page keeps its comment)."""
        if not self.is_valid():
            return {}
        return {
            int(name.removeprefix("comment-")): text for name, text in self.cleaned_data.items() if name in self.data
        }


class ReasonForm(forms.Form):
    """Why a return is sent back or reopened (the service says what is missing when it is blank)."""

    reason = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))

    SHAPES = {  # the page's two reasons: label, id prefix, button
        "send-back": ("What needs correcting", "id_%s", "Return for correction"),
        "reopen": ("Reason for reopening", "id_reopen_%s", "Reopen for changes"),
    }

    def __init__(self, data: Mapping[str, Any] | None = None, *, purpose: str = "", action: str = "", **kwargs: Any):
        label, auto_id, button = self.SHAPES.get(purpose, ("Reason", "id_%s", ""))
        super().__init__(data, auto_id=auto_id, **kwargs)
        self.fields["reason"].label = label
        self.helper = gds_helper(action=action, submit=button or None, fields=("reason",), secondary=True)


class ActionForm(forms.Form):
    """A state change with nothing to fill in (submit, approve): the version it was shown at, and a button."""

    def __init__(self, *, action: str, submit: str, version: int | None = None):
        super().__init__()
        hidden = {"version": version} if version is not None else {}
        self.helper = gds_helper(action=action, submit=submit, hidden=hidden)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        allow_empty_file=True,  # an empty file is refused by the upload checks, with their message
        error_messages={"required": "Choose a CSV or XLSX file to upload."},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def __init__(self, *args: Any, action: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(action=action, submit="Upload and check", fields=("file",))


class RoundOpenForm(forms.Form):
    # Not required: an empty box gets the same message as one that does not parse.
    period = forms.CharField(
        label="Quarter",
        required=False,
        help_text="A label such as 2024/25 Q1, or the quarter end date.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    due_date = forms.CharField(
        label="Due date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input govuk-input--width-10"}),
    )

    def __init__(self, *args: Any, action: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(action=action, submit="Open round", fields=("period", "due_date"))

    def clean_period(self) -> dt.date:
        try:
            return Quarter.parse(self.cleaned_data["period"]).end_date
        except QuarterError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_due_date(self) -> dt.date:
        try:
            return dt.date.fromisoformat(self.cleaned_data["due_date"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
