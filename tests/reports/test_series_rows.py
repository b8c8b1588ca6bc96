"""The priority page's data-table rows, built without format_html's per-call overhead, are the HTML
format_html_join made: every cell escaped the same way, safe HTML kept as it is."""

from types import SimpleNamespace

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from reports.templatetags.pcc import series_rows


def test_series_rows_escape_every_cell_as_format_html_does():
    table = [
        SimpleNamespace(label="2023/24 Q4", value="1,234.5", symbol="[p]", cause="Special cause (concern): run"),
        SimpleNamespace(label="<b>Q1</b>", value='5 "quoted"', symbol="it's & more", cause=None),
        SimpleNamespace(label=mark_safe("<em>safe</em>"), value=12.5, symbol="", cause=mark_safe("a &amp; b")),
    ]
    expected = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="num">{} {}</td><td>{}</td></tr>',
        ((r.label, r.value, r.symbol, r.cause) for r in table),
    )
    assert series_rows(table) == expected
    assert hasattr(series_rows(table), "__html__")
    assert series_rows([]) == ""


def test_the_overviews_format_html_escapes_as_djangos():
    from django.utils.html import format_html

    from reports.templatetags.pcc import _format_html

    template = '<p class="{}">{} {}{}</p>{}'
    args = ("a&b", '<i>"x"</i>', None, 3, mark_safe("<b>kept</b>"))
    assert _format_html(template, *args) == format_html(template, *args)
    assert hasattr(_format_html(template, *args), "__html__")
    nested = _format_html("<li>{}</li>", _format_html("{} &amp; {}", "<", "it's"))
    assert nested == format_html("<li>{}</li>", format_html("{} &amp; {}", "<", "it's"))


def test_figure_json_script_is_djangos_json_script_byte_for_byte():
    import datetime as dt
    import decimal

    from django.utils.html import json_script

    from reports.templatetags.pcc import figure_json_script

    value = {
        "data": [{"x": [dt.date(2024, 3, 31)], "y": [1.5, None], "name": "</script><script>alert(1)</script>"}],
        "layout": {"title": {"text": "Stop & search — Black <> White ‘quoted’"}, "n": decimal.Decimal("2.50")},
    }
    ours = figure_json_script(value, 'fig-1-data"x')
    assert ours == json_script(value, 'fig-1-data"x')
    assert "</script><script>" not in ours and hasattr(ours, "__html__")
