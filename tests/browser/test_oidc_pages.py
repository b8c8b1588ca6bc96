"""With sign-in through the organisation's identity provider configured, the log-in page offers it beside the
password, and the refusal page says why; both fit 390 px and axe-core finds no serious or critical violation."""

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore

from .test_audit_trail import no_sideways_scroll
from .test_dashboards import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_login_and_refusal_pages_with_an_identity_provider(new_page, live_server, settings):
    settings.OIDC_ENABLED = True
    settings.PCC_PERF_OIDC_PROVIDER_NAME = "Staffordshire Police Entra ID"
    page = new_page()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/accounts/login/")
        link = page.get_by_role("link", name="Sign in with Staffordshire Police Entra ID")
        assert link.get_attribute("href") == "/oidc/authenticate/"
        assert page.get_by_label("Password").is_visible()
        assert no_sideways_scroll(page) and serious_violations(page) == []

    session = SessionStore()
    session["oidc_refusal"] = {"reason": "unknown", "email": "someone.with.a.long.address@staffordshire.police.uk"}
    session.create()
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )
    page.goto("/accounts/login/refused/")
    alert = page.get_by_role("alert").inner_text()
    assert "No account here uses the e-mail address someone.with.a.long.address@staffordshire.police.uk" in alert
    assert no_sideways_scroll(page) and serious_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    assert serious_violations(page) == []
