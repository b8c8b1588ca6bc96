"""The forms of the returns pages: the grid reads what the browser sent and puts each problem on its cell."""

import re

import pytest
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from metrics.imports.summary import Issue
from metrics.models import ReturnValue
from metrics.returns.forms import CommentsForm, ReturnGridForm, RoundOpenForm, posted_version
from metrics.returns.selectors import history_for, owed_lines
from metrics.returns.values import return_save_grid

from .returns_setup import PERIOD, approved_history, police_return

# The police return owes, in this order: OFF01 total, OFF01 violence, OFF01 robbery, FAIR03 total.


@pytest.fixture
def grid_setup(setup):
    r = police_return(setup)
    lines = owed_lines(framework=setup["framework"], agency=setup["police"])
    return {"return": r, "lines": lines, **setup}


def cell(html, name):
    """The <td> holding the input called ``name``."""
    match = re.search(rf'<td[ >](?:(?!</td>).)*name="{re.escape(name)}"(?:(?!</td>).)*</td>', html, re.S)
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
    assert 'aria-invalid="true"' in bad and 'aria-describedby="id_l2-value_1_error"' in bad
    assert 'id="id_l2-value_1_error"' in bad and "&#x27;lots&#x27; is not a number" in bad
    assert 'value="lots"' in bad
    good = cell(html, "l0-value")
    assert "aria-invalid" not in good and 'value="5300"' in good  # the rest of the input is kept
    assert (
        '<label class="govuk-label govuk-visually-hidden" for="id_l2-value">OFF01 Staffordshire Robbery: value</label>'
        in bad
    )
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


def error_summary(html):
    """The GOV.UK error summary's links: (target id, text)."""
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert match, "no error summary"
    return re.findall(r'<li><a href="#([^"]+)">([^<]*)</a></li>', match.group(0))


def test_abc_in_fair03_total_is_reported_on_fair03_total_not_on_a_line_above(client, grid_setup):
    """Issue 17: with blank lines above it, 'abc' in FAIR03 total named an earlier line (rows were counted
    over filled lines only but looked up by grid position)."""
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    response = client.post(url, {"action": "save", "version": "0", "l0-value": "5300", "l3-value": "abc"})
    assert response.status_code == 400
    html = response.content.decode()
    assert error_summary(html) == [("id_l3-value", "FAIR03 total, value: &#x27;abc&#x27; is not a number")]
    assert 'aria-invalid="true"' in cell(html, "l3-value")
    for other in ("l0-value", "l1-value", "l2-value", "l3-numerator"):
        assert "aria-invalid" not in cell(html, other) and "govuk-error-message" not in cell(html, other)
    assert html.count('aria-invalid="true"') == 1


def test_every_error_summary_link_points_at_an_element_of_the_page(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    data = {"action": "save", "version": "0", "l1-value": "many", "l1-status": "guess", "l3-numerator": "x"}
    html = client.post(url, data).content.decode()
    links = error_summary(html)
    assert [target for target, _ in links] == ["id_l1-status"]  # the form's own check comes first, alone
    data["l1-status"] = "final"
    html = client.post(url, data).content.decode()
    links = error_summary(html)
    assert {"id_l1-value", "id_l3-numerator"} <= {target for target, _ in links}
    for target, _ in links:
        assert f'id="{target}"' in html
        assert 'aria-invalid="true"' in cell(html, target.removeprefix("id_"))


def test_boxes_have_labels_decimal_keyboards_and_read_in_row_order(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    html = client.get(reverse("return-detail", args=[grid_setup["return"].pk])).content.decode()
    names = re.findall(r'<(?:input|select)[^>]*name="(l\d-\w+)"', html)
    assert names[:5] == ["l0-value", "l0-status", "l0-note", "l1-value", "l1-status"]  # a count has no ratio boxes
    assert names[-5:] == ["l3-value", "l3-numerator", "l3-denominator", "l3-status", "l3-note"]
    for name in names:
        assert f'for="id_{name}"' in html  # a real <label> for every box
    assert 'inputmode="decimal"' in cell(html, "l3-numerator")
    assert "tabindex" not in "".join(re.findall(r"<input[^>]*>", html))  # document order is the tab order


def test_a_figure_is_shown_with_every_stored_digit_and_saving_it_back_changes_nothing(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    assert client.post(url, {"action": "save", "version": "0", "l3-value": "1.2869093989339806"}).status_code == 302
    html = client.get(url).content.decode()
    assert 'value="1.2869093989339806"' in cell(html, "l3-value")  # not 1.286909399
    boxes = dict(re.findall(r'<input[^>]*name="(l\d-\w+)"[^>]*value="([^"]*)"', html))
    statuses = dict.fromkeys((f"l{i}-status" for i in range(4)), "provisional")
    before = AuditEvent.objects.filter(action=AuditAction.RETURN_VALUE_CHANGED).count()
    response = client.post(url, {"action": "save", "version": "1", **boxes, **statuses})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.RETURN_VALUE_CHANGED).count() == before
    assert ReturnValue.objects.get(metric__code="FAIR03").value == 1.2869093989339806


def test_the_previous_four_quarters_and_last_years_figure_sit_beside_each_line(
    client, grid_setup, django_assert_num_queries
):
    approved_history(grid_setup)
    with django_assert_num_queries(1):
        history = history_for(lines=grid_setup["lines"], period=PERIOD)
    assert [o.value if o else None for o in history[grid_setup["lines"][0].key]] == [4950, 5020, 4980, 5010, 5000][1:]
    assert history[grid_setup["lines"][3].key] == [None] * 4
    client.force_login(grid_setup["analyst"])
    html = client.get(reverse("return-detail", args=[grid_setup["return"].pk])).content.decode()
    assert '2023/24 Q1<span class="hint"> (same quarter last year)</span>' in html
    row = re.search(r'<th scope="row" id="line-0".*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num history[^"]*">([^<]*)</td>', row) == ["5,020", "4,980", "5,010", "5,000"]


def test_a_warnings_comment_box_is_the_analysts_and_the_approver_reads_the_comment_as_text(client, grid_setup):
    client.force_login(grid_setup["analyst"])
    url = reverse("return-detail", args=[grid_setup["return"].pk])
    full = {"l0-value": "5300", "l1-value": "5100", "l2-value": "200", "l3-value": "27.5"}  # FAIR03 below 50
    assert client.post(url, {"action": "save", "version": "0", **full}).status_code == 302
    value = ReturnValue.objects.get(metric__code="FAIR03")
    html = client.get(url).content.decode()
    assert f'<label for="id_comment-{value.pk}" class="govuk-label">' in html
    assert '<div class="scroll">' in html  # editable: the grid's boxes take focus, not its scroll box
    assert html.count(f'name="comment-{value.pk}"') == 1 and 'class="govuk-textarea"' in html
    data = {"action": "comments", "version": "1", f"comment-{value.pk}": "A new system left the field blank."}
    assert client.post(url, data).status_code == 302
    submit = reverse("return-action", args=[grid_setup["return"].pk, "submit"])
    assert client.post(submit, {"version": "2"}).status_code == 302
    assert "govuk-textarea" not in client.get(url).content.decode()  # submitted: the analyst waits
    client.force_login(grid_setup["manager"])
    html = client.get(url).content.decode()
    assert "<textarea" not in html.split('id="values"')[0]  # nothing that looks editable
    assert "The analyst's comment:</strong> A new system left the field blank." in html
    # Read-only, the grid has nothing focusable: its scroll box takes focus so a keyboard can scroll it at
    # 390 px (axe's scrollable-region-focusable); while editable, its boxes do.
    assert '<div class="scroll" tabindex="0">' in html.split('id="values"')[1]
