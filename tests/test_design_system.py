"""GOV.UK Frontend as the design system without the GOV.UK brand: the app serves its own compiled copy, in
Arial with no @font-face (GDS Transport is licensed for GOV.UK only), no crown or GOV.UK logo, and its script
runs under the pages' Content-Security-Policy nonce."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor" / "govuk-frontend"


def test_the_vendored_stylesheet_uses_arial_and_no_gds_transport_font():
    css = (VENDOR / "govuk-frontend.min.css").read_text()
    assert "GDS Transport" not in css and "@font-face" not in css and ".woff" not in css
    assert "font-family:arial,sans-serif" in css
    assert ".govuk-error-summary" in css and ".govuk-service-navigation" in css and ".govuk-table" in css
    assert (VENDOR / "VERSION").read_text().strip() == "6.6.0"
    assert "MIT License" in (VENDOR / "LICENSE.txt").read_text()
    assert not (VENDOR / "assets").exists()  # no fonts, no crown, no GOV.UK images
    assert finders.find("vendor/govuk-frontend/govuk-frontend.min.js")


def test_the_build_script_says_how_the_stylesheet_was_made():
    script = (ROOT / "scripts" / "build_frontend.sh").read_text()
    assert "$govuk-include-default-font-face: false" in script
    assert "$govuk-font-family: (arial, sans-serif)" in script


def test_pages_load_the_design_system_without_the_gov_uk_brand(client, db):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert '<html lang="en-GB" class="govuk-template">' in html
    assert "/static/vendor/govuk-frontend/govuk-frontend.min.css" in html
    assert 'class="site-header govuk-service-navigation"' in html  # the service's own name, no GOV.UK header
    assert (
        "govuk-header__logo" not in html and "govuk-logo" not in html and "crest" not in html and "GOV.UK" not in html
    )
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert any('type="module"' in tag for tag in scripts)  # initAll from the vendored module


def test_the_vendored_stylesheet_points_at_no_missing_file():
    """collectstatic's manifest storage (``make serve``) fails on a url() to a file the app does not hold: the
    compiled stylesheet named GOV.UK's crown image, which is left out."""
    css = (VENDOR / "govuk-frontend.min.css").read_text()
    for url in re.findall(r"url\(\"?([^\")]+)\"?\)", css):
        if url.startswith("data:"):
            continue
        assert finders.find(url.removeprefix("/static/")), f"{url} is not in static/"
