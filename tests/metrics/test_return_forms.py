"""The forms of the returns pages: the grid reads what the browser sent and puts each problem on its cell."""

import re

import pytest
from django.urls import reverse

from metrics.imports.summary import Issue
from metrics.models import ReturnValue
from metrics.returns.forms import CommentsForm, ReturnGridForm, RoundOpenForm, posted_version
from metrics.returns.selectors import owed_lines
from metrics.returns.values import return_save_grid

from .returns_setup import PERIOD, police_return

# The police return owes, in this order: OFF01 total, OFF01 violence, OFF01 robbery, FAIR03 total.


@pytest.fixture
def grid_setup(setup):
    r = police_return(setup)
    lines = owed_lines(framework=setup["framework"], agency=setup["police"])
    return {"return": r, "lines": lines, **setup}


def cell(html, name):
    """The <td> holding the input called ``name``."""
    match = re.search(rf'<td>(?:(?!</td>).)*name="{re.escape(name)}"(?:(?!</td>).)*</td>', html, re.S)
    assert match, f"no cell for {name}"
    return match.group(0)


def test_a_valid_grid_gives_one_entry_per_owed_line_in_the_import_cores_shape(grid_setup):
    data = {"l0-value": " 5,300 ", "l2-value": "[x]", "l3-numerator": "1400", "l3-denominator": "1455"}
    grid = ReturnGridForm(lines=grid_setup["lines"], period=PERIOD, data=data)
    assert grid.is_valid()
    entries = grid.entries()
    assert [(e["metric"], e["category"]) for e in entries] == [
        ("OFF01", ""),
        ("OFF01", "violence-against-the-person"),
        ("OFF01", "robbery"),
        ("FAIR03", ""),
    ]
    assert entries[0] == {
        "metric": "OFF01",
        "area": "staffordshire",
        "period": "2024-06-30",
        "breakdown": "",
        "category": "",
        "value": "5,300",
        "numerator": "",
        "denominator": "",
        "status": "provisional",  # a line without a status is provisional
        "note": "",
    }
    assert entries[2]["breakdown"] == "offence-group" and entries[2]["value"] == "[x]"
    assert (entries[3]["numerator"], entries[3]["denominator"]) == ("1400", "1455")


def test_an_unknown_status_is_an_error_on_its_cell(grid_setup):
    grid = ReturnGridForm(lines=grid_setup["lines"], period=PERIOD, data={"l1-value": "5100", "l1-status": "guess"})
    assert not grid.is_valid()
    assert grid.forms[1].errors == {"status": ["status 'guess' is not provisional or final"]}
    assert [str(p) for p in grid.problems] == [
        "OFF01 violence-against-the-person, status: status 'guess' is not provisional or final"
    ]


def test_a_problem_from_the_checks_lands_on_its_line_and_column(grid_setup):
    grid = ReturnGridForm(lines=grid_setup["lines"], period=PERIOD, data={"l2-value": "lots"})
    assert grid.is_valid()
    grid.add_issues([Issue(3, "value", "bad_number", "'lots' is not a number"), Issue(4, "period", "bad_period", "x")])
    assert grid.forms[2].errors == {"value": ["'lots' is not a number"]}
    assert grid.forms[3].non_field_errors() == ["x"]  # a column the grid has no box for: the whole line
    assert not grid.forms[0].errors and not grid.forms[1].errors


def test_the_checks_number_grid_rows_by_line_counting_blank_lines(grid_setup):
    entries = ReturnGridForm(lines=grid_setup["lines"], period=PERIOD, data={"l2-value": "lots"})
    assert entries.is_valid()
    check = return_save_grid(
        actor=grid_setup["analyst"], return_obj=grid_setup["return"], version=0, entries=entries.entries()
    )
    assert [(e.row, e.column, e.kind) for e in check.summary.errors] == [(3, "value", "bad_number")]


def test_an_invalid_number_on_the_page_is_shown_next_to_its_cell(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    response = client.post(url, {"action": "save", "version": "0", "l0-value": "5300", "l2-value": "lots"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "OFF01 robbery, value: &#x27;lots&#x27; is not a number" in html  # in the messages at the top
    bad = cell(html, "l2-value")
    assert 'aria-invalid="true"' in bad and 'aria-describedby="id_l2-value_error"' in bad
    assert 'id="id_l2-value_error"' in bad and "&#x27;lots&#x27; is not a number" in bad
    assert 'value="lots"' in bad
    good = cell(html, "l0-value")
    assert "aria-invalid" not in good and 'value="5300"' in good  # the rest of the input is kept
    assert 'aria-label="OFF01 Staffordshire Robbery: value"' in bad
    assert not ReturnValue.objects.exists()


def test_a_saved_grid_shows_the_saved_figures(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    data = {"action": "save", "version": "0", "l0-value": "5300", "l2-value": "[x]", "l2-status": "final"}
    assert client.post(url, data).status_code == 302
    html = client.get(url).content.decode()
    assert 'value="5300"' in cell(html, "l0-value")
    assert 'value="[x]"' in cell(html, "l2-value")
    assert '<option value="final" selected>' in cell(html, "l2-status")


def test_comments_form_keeps_only_the_comments_that_were_sent():
    form = CommentsForm({"comment-7": " Known drop ", "comment-99": "not ours"}, value_ids=[7, 8])
    assert form.comments() == {7: " Known drop "}  # 8 was not on the page: its comment stays as it is


def test_posted_version_is_minus_one_when_missing_or_not_a_number():
    assert posted_version({"version": "3"}) == 3
    assert posted_version({"version": "three"}) == -1
    assert posted_version({}) == -1


def test_round_form_reads_a_quarter_label_and_says_what_is_wrong():
    form = RoundOpenForm({"period": "2024/25 Q1", "due_date": "2024-07-31"})
    assert form.is_valid()
    assert str(form.cleaned_data["period"]) == "2024-06-30"
    bad = RoundOpenForm({"period": "sometime", "due_date": "2024-07-31"})
    assert not bad.is_valid() and list(bad.errors) == ["period"]
