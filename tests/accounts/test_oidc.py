"""Sign-in with the organisation's identity provider, tested against a real OpenID provider run in the test
(django-oidc-provider, on its own host name ``idp.testserver``) through the whole authorisation-code flow:
the redirect to the provider, the person logging in there, the provider's redirect back, the token exchange,
the signature check against the provider's keys and the userinfo call. The app's back-channel calls go through
a stand-in for ``requests`` that hands them to the provider's views in-process: no network.

Each host has its own cookies, as in a browser: the provider's session is not the app's."""

from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.models import AuditEvent, Role
from pcc_perf.oidc import BACKEND, oidc_settings

from ..factories import UserFactory

IDP = "idp.testserver"
APP = "testserver"
ENV = {
    "OIDC_RP_CLIENT_ID": "pcc-perf",
    "OIDC_RP_CLIENT_SECRET": "a-secret-only-for-tests",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": f"http://{IDP}/openid/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": f"http://{IDP}/openid/token",
    "OIDC_OP_USER_ENDPOINT": f"http://{IDP}/openid/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": f"http://{IDP}/openid/jwks",
    "PCC_PERF_OIDC_PROVIDER_NAME": "Staffordshire Police Entra ID",
}
PASSWORD = "idp-pass-word-123"
# The provider's directory: who each of its accounts is (the e-mail claim it vouches for).
DIRECTORY: dict[str, str] = {}


def userinfo(claims, user):
    """django-oidc-provider's OIDC_USERINFO hook: the claims of the provider's account ``user``."""
    claims["email"] = DIRECTORY.get(user.username, "")
    claims["email_verified"] = True
    claims["given_name"] = user.first_name
    return claims


@pytest.fixture(scope="module")
def provider_tables(django_db_setup, django_db_blocker):
    """django-oidc-provider installed for this module, its tables made (and dropped after)."""
    with (
        django_db_blocker.unblock(),
        override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, "oidc_provider"]),
    ):
        models = list(apps.get_app_config("oidc_provider").get_models())
        with connection.schema_editor() as editor:
            for model in models:
                editor.create_model(model)
        try:
            yield
        finally:
            with connection.schema_editor() as editor:
                for model in reversed(models):
                    editor.delete_model(model)


class Routed:
    """Stands in for ``requests`` in mozilla-django-oidc: a call to the provider's host goes to its views
    through a Django test client (the provider's server side); any other host is refused."""

    def __init__(self):
        self.client = Client(HTTP_HOST=IDP)
        self.calls = []

    def _path(self, url):
        parts = urlparse(url)
        if parts.netloc != IDP:
            raise requests.ConnectionError(f"no network in tests: {url}")
        self.calls.append(parts.path)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @staticmethod
    def _response(django_response, url):
        response = requests.Response()
        response.status_code = django_response.status_code
        response._content = django_response.content
        response.headers.update(dict(django_response.items()))
        response.url = url
        return response

    def post(self, url, data=None, auth=None, **kwargs):
        return self._response(self.client.post(self._path(url), data or {}), url)

    def get(self, url, headers=None, **kwargs):
        return self._response(self.client.get(self._path(url), headers=headers or {}), url)


@pytest.fixture
def idp(provider_tables, db, settings, monkeypatch):
    from oidc_provider.models import Client as OidcClient  # type: ignore[import-untyped]
    from oidc_provider.models import ResponseType, RSAKey

    settings.ROOT_URLCONF = "tests.accounts.oidc_urls"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, IDP]
    for key, value in oidc_settings(ENV).items():
        setattr(settings, key, value)
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]
    # The provider's side: its log-in page is on its own host; its claims come from its directory.
    settings.OIDC_USERINFO = "tests.accounts.test_oidc.userinfo"
    settings.OIDC_LOGIN_URL = "/accounts/login/"
    settings.SITE_URL = f"http://{IDP}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    RSAKey.objects.create(
        key=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()
    )
    code, _ = ResponseType.objects.get_or_create(
        value="code", defaults={"description": "code (Authorization Code Flow)"}
    )
    client = OidcClient.objects.create(
        name="pcc_perf",
        client_type="confidential",
        client_id=ENV["OIDC_RP_CLIENT_ID"],
        client_secret=ENV["OIDC_RP_CLIENT_SECRET"],
        jwt_alg="RS256",
        require_consent=False,
        _redirect_uris=f"http://{APP}/oidc/callback/",
        _scope="openid email profile",
    )
    client.response_types.add(code)
    routed = Routed()
    monkeypatch.setattr("mozilla_django_oidc.auth.requests", routed)
    DIRECTORY.clear()
    return routed


def idp_account(username, email):
    """An account at the identity provider (its own user, not the app's) vouching for ``email``."""
    UserFactory(username=username, role="", password=PASSWORD)
    DIRECTORY[username] = email


class Browser:
    """One browser: a cookie jar per host (the app's and the provider's), following redirects across them."""

    def __init__(self):
        self.clients = {APP: Client(), IDP: Client(HTTP_HOST=IDP)}
        self.url = f"http://{APP}/"

    def _go(self, method, url, data=None):
        url = urljoin(self.url, url)
        parts = urlparse(url)
        client = self.clients[parts.netloc]
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, data) if method == "post" else client.get(path)
        self.url = url
        while response.status_code in (301, 302):
            url = urljoin(self.url, response["Location"])
            parts = urlparse(url)
            response = self.clients[parts.netloc].get(parts.path + (f"?{parts.query}" if parts.query else ""))
            self.url = url
        return response

    def get(self, url):
        return self._go("get", url)

    def post(self, url, data):
        return self._go("post", url, data)

    def app_user(self):
        """Who the app's session is logged in as (None: nobody)."""
        from accounts.models import User

        user_id = self.clients[APP].session.get("_auth_user_id")
        return User.objects.get(pk=user_id).username if user_id else None


def sign_in(browser, idp_username):
    """From the app's log-in page, through the provider's log-in, back to the app."""
    page = browser.get(f"http://{APP}/accounts/login/")
    assert "Sign in with Staffordshire Police Entra ID" in page.content.decode()
    provider_login = browser.get(reverse("oidc_authentication_init"))
    assert urlparse(browser.url).netloc == IDP and urlparse(browser.url).path == "/accounts/login/"
    assert provider_login.status_code == 200
    next_url = parse_qs(urlparse(browser.url).query)["next"][0]
    return browser.post(
        f"http://{IDP}/accounts/login/", {"username": idp_username, "password": PASSWORD, "next": next_url}
    )


def test_a_known_email_signs_in_whatever_its_case(idp, police):
    UserFactory(username="analyst", role=Role.ANALYST, agency=police, email="alice.analyst@police.example")
    idp_account("idp-alice", "Alice.Analyst@POLICE.example")
    browser = Browser()
    page = sign_in(browser, "idp-alice")
    assert browser.url == f"http://{APP}/" and page.status_code == 200
    assert browser.app_user() == "analyst"
    # The whole code flow really ran: token, the provider's keys, userinfo (all in-process).
    assert idp.calls == ["/openid/token", "/openid/jwks", "/openid/userinfo"]
    signed_in = AuditEvent.objects.get(action=AuditAction.LOGIN_OIDC)
    assert signed_in.actor_username == "analyst" and "Staffordshire Police Entra ID" in signed_in.summary


def test_an_unknown_email_is_refused_with_a_page_that_says_why(idp):
    idp_account("idp-stranger", "stranger@elsewhere.example")
    browser = Browser()
    page = sign_in(browser, "idp-stranger")
    assert browser.url == f"http://{APP}/accounts/login/refused/"
    html = page.content.decode()
    assert "No account here uses the e-mail address <strong>stranger@elsewhere.example</strong>" in html
    assert browser.app_user() is None
    from accounts.models import User

    assert not User.objects.filter(email__iexact="stranger@elsewhere.example").exists()  # never auto-created
    refused = AuditEvent.objects.get(action=AuditAction.LOGIN_OIDC_REFUSED)
    assert refused.summary == "stranger@elsewhere.example: no account here uses this e-mail address"


def test_an_unknown_email_gets_an_account_with_no_role_only_when_allowed(idp, settings):
    settings.OIDC_CREATE_USER = True
    idp_account("idp-new", "New.Person@opcc.example")
    browser = Browser()
    sign_in(browser, "idp-new")
    assert browser.app_user() == "new.person@opcc.example"
    from accounts.models import User

    user = User.objects.get(username="new.person@opcc.example")
    assert user.role == "" and not user.has_usable_password()
    assert browser.clients[APP].get(reverse("dashboard")).status_code == 403  # nothing until given a role
    assert AuditEvent.objects.filter(action=AuditAction.USER_CREATED_BY_OIDC).count() == 1


def test_a_deactivated_account_is_refused(idp):
    UserFactory(username="leaver", role=Role.BOARD_MEMBER, email="leaver@opcc.example", is_active=False)
    idp_account("idp-leaver", "leaver@opcc.example")
    browser = Browser()
    page = sign_in(browser, "idp-leaver")
    assert "The account for <strong>leaver@opcc.example</strong> has been deactivated." in page.content.decode()
    assert browser.app_user() is None
    assert AuditEvent.objects.get(action=AuditAction.LOGIN_OIDC_REFUSED).object_id != ""


def test_a_state_that_does_not_match_this_browsers_sign_in_is_refused(idp):
    UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, email="pm@opcc.example")
    idp_account("idp-pm", "pm@opcc.example")
    # The person starts a sign-in and logs in at the provider; the provider's answer carries a code and state.
    victim = Browser()
    victim.get(reverse("oidc_authentication_init"))
    next_url = parse_qs(urlparse(victim.url).query)["next"][0]
    idp_browser = victim.clients[IDP]
    response = idp_browser.post("/accounts/login/", {"username": "idp-pm", "password": PASSWORD, "next": next_url})
    response = idp_browser.get(response["Location"])
    callback = urlparse(response["Location"])
    params = parse_qs(callback.query)
    assert callback.path == "/oidc/callback/" and "code" in params
    # A forged callback: the right code with another state, in the same browser.
    forged = victim.get(
        f"http://{APP}/oidc/callback/?{urlencode({'code': params['code'][0], 'state': 'not-the-state'})}"
    )
    assert victim.url == f"http://{APP}/accounts/login/refused/"
    assert "did not match one started in this browser" in forged.content.decode()
    assert victim.app_user() is None
    # The same callback in another browser (no sign-in started there) is refused too.
    attacker = Browser()
    attacker.get(f"http://{APP}/oidc/callback/?{callback.query}")
    assert attacker.url == f"http://{APP}/accounts/login/refused/" and attacker.app_user() is None
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_OIDC_REFUSED).count() == 2
    assert idp.calls == []  # no code was exchanged for a refused state


def test_local_passwords_still_work_beside_it(idp):
    UserFactory(username="board", role=Role.BOARD_MEMBER, email="board@opcc.example")
    browser = Browser()
    page = browser.get("/accounts/login/")
    html = page.content.decode()
    assert "Sign in with Staffordshire Police Entra ID" in html and 'name="password"' in html
    browser.post("/accounts/login/", {"username": "board", "password": "pass-word-123"})
    assert browser.app_user() == "board"


def test_settings_come_from_the_environment_only_when_configured():
    assert oidc_settings({}) == {"OIDC_ENABLED": False}
    values = oidc_settings(ENV)
    assert values["OIDC_ENABLED"] and values["OIDC_RP_SIGN_ALGO"] == "RS256" and values["OIDC_CREATE_USER"] is False
    assert oidc_settings({**ENV, "PCC_PERF_OIDC_CREATE_USERS": "1"})["OIDC_CREATE_USER"] is True
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_JWKS_ENDPOINT"):
        oidc_settings({**ENV, "OIDC_OP_TOKEN_ENDPOINT": "", "OIDC_OP_JWKS_ENDPOINT": ""})


@pytest.mark.django_db
def test_without_configuration_the_login_page_offers_passwords_only(client):
    html = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in html and 'name="password"' in html
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_login_throttling_keeps_working_beside_it(idp, settings, police):
    """django-axes stays first among the backends: passwords are still locked after the failure limit; refused
    sign-ins through the provider lock nobody out; the provider's sign-in (its own checks) still lets a person
    in whose password is locked."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="analyst", role=Role.ANALYST, agency=police, email="alice.analyst@police.example")
    idp_account("idp-alice", "alice.analyst@police.example")
    idp_account("idp-stranger", "stranger@elsewhere.example")
    for _ in range(6):
        sign_in(Browser(), "idp-stranger")
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_OIDC_REFUSED).count() == 6
    browser = Browser()
    for _ in range(6):
        response = browser.clients[APP].post(reverse("login"), {"username": "analyst", "password": "wrong"})
    assert response.status_code == 429 and "This account is locked" in response.content.decode()
    assert "Sign in with Staffordshire Police Entra ID" in response.content.decode()  # still offered
    assert (
        browser.clients[APP].post(reverse("login"), {"username": "analyst", "password": "pass-word-123"}).status_code
        == 429
    )
    sign_in(browser, "idp-alice")
    assert browser.app_user() == "analyst"
