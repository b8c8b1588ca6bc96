"""The priority page's data-table rows, built without format_html's per-call overhead, are the HTML
format_html_join made: every cell escaped the same way, safe HTML kept as it is."""

from types import SimpleNamespace

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from hypothesis import given
from hypothesis import strategies as st

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


_FAIRNESS_GROUP_LOOP = (
    '{% load pcc %}{% for g in s.groups %}<tr><th scope="row">{{ s.labels|get:g.category }}</th>'
    '<td class="num">{{ g.numerator|floatformat:"0g" }}</td><td class="num">{{ g.denominator|floatformat:"0g" }}</td>'
    '<td class="num">{{ g.rate|floatformat:2 }}</td>\n      <td class="num">{% if g.ratio is not None %}'
    '{{ g.ratio|floatformat:2 }}{% if g.small_numbers %} <span class="hint">(small numbers)</span>{% endif %}'
    '{% else %}—{% endif %}</td>\n      <td class="num">{% if g.ratio is not None %}{{ g.ci_lower|floatformat:2 }} to '
    "{{ g.ci_upper|floatformat:2 }}{% elif s.fair.withheld %}withheld{% else %}{{ g.note }}{% endif %}</td>\n"
    "      <td>{% if g.significant %}Yes{% elif g.significant is False %}No{% else %}—{% endif %}</td></tr>"
    "{% endfor %}"
)
_FAIRNESS_TREND_LOOP = (
    '{% for label, share, withheld, ratios in s.fair.trend_rows %}<tr><th scope="row">{{ label }}</th>'
    '{% if s.fair.recorded_share is not None %}<td class="num">{% if share is not None %}{% widthratio share 1 100 %}%'
    '{% else %}—{% endif %}</td>{% endif %}{% if withheld %}<td colspan="{{ s.fair.trend_groups|length }}">'
    'withheld: {{ withheld }}</td>{% else %}{% for r in ratios %}<td class="num">{% if r is not None %}'
    "{{ r|floatformat:2 }}{% else %}—{% endif %}</td>{% endfor %}{% endif %}</tr>{% endfor %}"
)


def _group(category, numerator, denominator, rate, ratio=None, **extra):
    fields = {"ci_lower": None, "ci_upper": None, "small_numbers": False, "significant": None, "note": ""}
    fields.update(extra)
    return SimpleNamespace(
        category=category, numerator=numerator, denominator=denominator, rate=rate, ratio=ratio, **fields
    )


def _fairness_sections():
    labels = {"W": "White", "B": "Black <or> Black British", "A": 'Asian & "other"'}
    groups = [
        _group("W", 1234.0, 848489.0, 1.4543, None, note="reference group"),
        _group("B", 512.0, 40113.0, 12.764, 8.7765, ci_lower=8.005, ci_upper=9.625, significant=True),
        _group("A", 3, 1200, 2.5, 1.7190, ci_lower=0.355, ci_upper=5.0249999, small_numbers=True, significant=False),
        _group("X", None, 0.0, None, None, note="<no people> & none recorded"),
        _group("B", 1234567.5, 2.5, 0.0049999, 0.0, ci_lower=-0.001, ci_upper=1e-05, significant=None),
        _group("W", float("nan"), float("inf"), 2.675, 1.005, ci_lower=1e16, ci_upper=-1234.565),
    ]
    trend = [
        ("2023/24 Q4", 0.94, "", [1.0, 8.7765, None]),
        ("<Q3>", 0.125, "", [0.005, 2.675, 1e-05]),
        ("2023/24 Q2", 0.4, "only 40% of records say who", [None, None, None]),
        ("2023/24 Q1", None, "", [12345.678, -0.004, 0]),
        ("2022/23 Q4", float("nan"), "", []),
    ]
    for withheld in ("", "only 3% of records say who"):
        for recorded in (0.94, None):
            fair = SimpleNamespace(
                groups=groups,
                labels=labels,
                withheld=withheld,
                recorded_share=recorded,
                trend_groups=["W", "B", "A"],
                trend_rows=lambda: trend,
            )
            yield {"groups": groups, "labels": labels, "fair": fair}
    empty = SimpleNamespace(
        groups=[], labels=None, withheld=None, recorded_share=None, trend_groups=[], trend_rows=list
    )
    yield {"groups": [], "labels": None, "fair": empty}


def test_fairness_rows_are_the_html_the_template_loops_made():
    from django.template import Context, Template

    from reports.templatetags.pcc import fairness_group_rows, fairness_trend_rows

    groups, trend = Template(_FAIRNESS_GROUP_LOOP), Template(_FAIRNESS_TREND_LOOP)
    for section in _fairness_sections():
        fair = section["fair"]
        assert fairness_group_rows(fair) == groups.render(Context({"s": section}))
        assert fairness_trend_rows(fair) == trend.render(Context({"s": section}))
        assert hasattr(fairness_group_rows(fair), "__html__")


@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-1e6, max_value=1e6),
        st.integers(min_value=-(10**18), max_value=10**18),
        st.decimals(places=3, min_value=-1000, max_value=1000).map(float),
        st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: n / 1000),  # halves and thirds of a cent
        st.integers(min_value=0, max_value=10**6).map(lambda n: n + 0.5),
        st.sampled_from([None, "", "1.005", True, "abc"]),
    ),
)
def test_the_direct_number_format_is_floatformats(value):
    from django.template.defaultfilters import floatformat

    from reports.templatetags.pcc import _number_formatter

    number = _number_formatter()
    assert number(value, 2, False) == floatformat(value, 2)
    assert number(value, 0, True) == floatformat(value, "0g")


def test_the_number_format_goes_through_floatformat_where_the_locale_differs(settings):
    from django.template.defaultfilters import floatformat

    from reports.templatetags.pcc import _number_formatter

    settings.USE_THOUSAND_SEPARATOR = True
    number = _number_formatter()
    assert number(1234.5, 2, False) == floatformat(1234.5, 2) == "1,234.50"
