"""The Making Data Count icons: one vector symbol per verdict, the same on the web and on paper."""

import re

from reports.icons import ICONS, icon_key, icon_svg


def test_every_verdict_has_its_own_legible_symbol():
    letters = [icon.letter for icon in ICONS.values()]
    assert len(set(letters)) == len(letters)  # concern is "!", never the "C" of common cause
    for key in ICONS:
        svg = icon_svg(key)
        assert svg.startswith("<svg") and f"mdc-{key}" in svg
        assert 'fill="#ffffff" stroke="' in svg  # a coloured ring on white…
        letter_fill = re.search(r'<text[^>]*fill="([^"]+)"', svg).group(1)
        assert letter_fill.lower() not in ("#fff", "#ffffff", "white")  # …and a dark letter: never white on white
        assert "style=" not in svg  # presentation attributes only (no WeasyPrint CSS warnings)


def test_evidence_verdicts_and_api_variations_map_to_icons():
    assert icon_key("special_cause_concern") == icon_key("concern") == "concern"
    assert icon_key("common_cause") == "common_cause"
    assert icon_key("stale") == "stale"
    assert icon_key(None) == icon_key("unknown") == "none"


def test_the_dashboard_draws_the_same_symbols(client, db):
    from django.template import Context, Template

    html = Template('{% load pcc %}{{ "special_cause_concern"|variation_icon }}').render(Context())
    assert html == str(icon_svg("concern"))
