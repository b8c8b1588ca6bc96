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


def test_metric_rows_are_the_html_the_template_loop_made():
    from django.template import Context, Template

    from reports.templatetags.pcc import metric_rows

    loop = Template(
        '{% for r in table %}<tr><th scope="row">{{ r.label }}</th><td class="num">{{ r.value }} {{ r.symbol }}</td>'
        '<td class="num">{{ r.obs.numerator|floatformat:"-2g"|default:"" }}</td>'
        '<td class="num">{{ r.obs.denominator|floatformat:"-2g"|default:"" }}</td><td>{{ r.cause }}</td>'
        '<td class="num">{{ r.mean_text }}</td><td class="num">{{ r.lower_text }}</td>'
        '<td class="num">{{ r.upper_text }}</td></tr>{% endfor %}'
    )
    table = [
        SimpleNamespace(
            label="2023/24 Q4",
            value="1,234.5",
            symbol="[p]",
            obs=SimpleNamespace(numerator=1234.5, denominator=848489.0),
            cause="Special cause (concern): run",
            mean_text="1,100.2",
            lower_text="900.1",
            upper_text="1,300.3",
        ),
        SimpleNamespace(
            label="<Q1>",
            value="[x]",
            symbol="",
            obs=SimpleNamespace(numerator=None, denominator=0.0),
            cause='missing & "gone"',
            mean_text="",
            lower_text="",
            upper_text="",
        ),
        SimpleNamespace(
            label="Q2",
            value="0.123",
            symbol="[r]",
            obs=SimpleNamespace(numerator=12.3456, denominator=100000.0),
            cause="Common cause variation",
            mean_text="0.1",
            lower_text="0.05",
            upper_text="0.2",
        ),
    ]
    assert metric_rows(table) == loop.render(Context({"table": table}))


def test_area_options_are_the_html_the_template_loop_made():
    from django.template import Context, Template

    from reports.templatetags.pcc import area_options

    loop = Template(
        '{% for a in areas %}<option value="{{ a.code }}"{% if a.pk == area.pk %} selected{% endif %}>'
        "{{ a.name }}</option>{% endfor %}"
    )
    areas = [
        SimpleNamespace(pk=1, code="E92000001", name="England & Wales"),
        SimpleNamespace(pk=2, code='x"<y>', name="<Staffordshire>"),
        SimpleNamespace(pk=3, code="E23000015", name="West Mercia"),
    ]
    for shown in (areas[1], areas[2], SimpleNamespace(pk=99)):
        expected = loop.render(Context({"areas": areas, "area": shown}))
        assert area_options(areas, shown) == expected
    assert area_options(areas, areas[1]).count(" selected") == 1


def test_metric_rows_format_counts_as_floatformat_does():
    from django.template.defaultfilters import floatformat

    from reports.templatetags.pcc import metric_rows

    counts = [0, 0.0, -0.0, 1.0, 7, 1234.0, 848489.0, 1234567.0, 1e16, 12.5, 0.125, 1234.005, -2.0, None, 99.999]
    for value in counts:
        row = SimpleNamespace(
            label="Q", value="", symbol="", obs=SimpleNamespace(numerator=value, denominator=None), cause="",
            mean_text="", lower_text="", upper_text="",
        )  # fmt: skip
        cell = str(metric_rows([row])).split('<td class="num">')[2].split("</td>")[0]
        assert cell == (floatformat(value, "-2g") or ""), value
