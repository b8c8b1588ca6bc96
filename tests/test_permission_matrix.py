"""The permission matrix of issue 18: every URL of the project × every role × both partnerships, GET and POST.

Two partnerships (the default one, "DEF", and West Mercia, "WM") each own a framework, measures (``LOC01`` in
both, one of their own), observations, a collection round with returns and an upload, published snapshots, a
published and a draft report, a board pack, notes, rebases, agency contacts, audit events and an API key
(``tests/partnership_world.py``). Users of every role in each, and an anonymous visitor.

Each cell asks one URL as one role, with the path filled with the OTHER partnership's ids and codes, and checks:

- the response never contains the other partnership's markers: its unpublished rows (``WM-SECRET``) nowhere,
  its published but unshared ones (``WM-PUBLISHED``) nowhere but the public pages; an anonymous visitor sees
  no ``…-SECRET`` of either;
- a URL naming the other's object answers 404 (or 403, 405, or a redirect to log in), never the object;
- after a POST, everything the other partnership owns (and the shared official statistic both frameworks
  place) is unchanged, row for row.

A URL pattern missing from ``URLS`` below fails ``test_every_url_pattern_is_in_the_matrix``: a new page must
say here how its path is filled and what it may answer. The admin (performance managers only) is checked
pattern by pattern in ``test_the_admin_keeps_to_the_partnership``, its objects' pages asked with the other
partnership's ids (``ADMIN_OBJECTS``).

Also here: the API with each partnership's key, the CSV/XLSX downloads, ``?partnership=`` naming a partnership
the user has no role in, the same measure code in both partnerships, and the page cache.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ApiToken, AuditEvent
from metrics.models import ImportBatch, Observation

from .partnership_world import HOME, OTHER, PUBLISHED, QUARTERS, SECRET, World, build_world, fingerprint

ROLES = ["anonymous", "def-analyst", "def-manager", "def-board", "wm-analyst", "wm-manager", "wm-board"]
LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")


# --- every URL pattern of the project -------------------------------------------------------------------------
def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern), p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (f"{namespace}:" if namespace else "") + (p.name or "")


def all_patterns() -> list[tuple[str, str]]:
    """(route, name) of every URL pattern, the admin's included."""
    return list(_walk(get_resolver()))


def key_of(route: str, name: str) -> str:
    """How the matrix names a pattern: its URL name, or its route when it has none."""
    return name or route


# --- how each URL is asked: the path filled with the other partnership's ids -------------------------------
Fill = Callable[[World, str, str], Any]  # (world, own tag, other tag) -> value


@dataclass(frozen=True)
class U:
    """How the matrix asks one URL pattern.

    ``path``: the URL (from the world, the asking user's partnership tag and the other's); ``post``: the form
    to POST; ``theirs``: the path names the other partnership's object, so the answer must be a refusal
    (404, 403, 405 or a redirect to log in)."""

    path: Fill
    post: Fill | None = None
    theirs: bool = False


def _q(period: Any) -> str:
    return period.isoformat()


FRAMEWORK_FOR_WM = """
framework: {code: lcjb, name: Taken over by the matrix, home_area: west-mercia, partnership: west-mercia}
agencies:
  - {code: police, name: Police}
areas:
  - {code: west-mercia, name: West Mercia, type: police_force_area}
priorities:
  - code: wm-priority
    name: Taken over
    metrics:
      - {code: LOC01, name: Taken over, agency: police, unit: count, direction: lower_is_better, source_type: management_information}
"""


def _framework_post(w: World, me: str, them: str) -> dict[str, str]:
    from metrics.catalogue.views import _digest, _normal

    text = _normal(FRAMEWORK_FOR_WM)
    return {"confirm": "1", "text": text, "digest": _digest(text)}


def _upload_post(w: World, me: str, them: str) -> dict[str, Any]:
    f = io.BytesIO(b"metric,area,period,value\nLOC01,west-mercia,2024-09-30,1\n")
    f.name = "matrix.csv"
    return {"file": f}


URLS: dict[str, U] = {
    "home": U(lambda w, me, them: "/"),
    "dashboard": U(lambda w, me, them: f"/dashboard/?area={HOME[them]}"),
    "dashboard-priority": U(lambda w, me, them: f"/dashboard/priority/{w[them].priority.code}/", theirs=True),
    "dashboard-metric": U(lambda w, me, them: f"/dashboard/metric/{w[them].unique.code}/", theirs=True),
    "metric-rebase": U(
        lambda w, me, them: f"/dashboard/metric/{w[them].unique.code}/rebase/",
        post=lambda w, me, them: {"period": _q(QUARTERS[6]), "reason": "matrix rebase"},
        theirs=True,
    ),
    "metric-rebase-new": U(
        lambda w, me, them: f"/dashboard/metric/{w[them].unique.code}/rebases/new/",
        post=lambda w, me, them: {"period": _q(QUARTERS[6]), "reason": "matrix rebase"},
        theirs=True,
    ),
    "metric-rebase-remove": U(
        lambda w, me, them: f"/dashboard/rebases/{w[them].rebase_shared.pk}/remove/",
        post=lambda w, me, them: {"confirm": "1"},
        theirs=True,
    ),
    "metric-note-new": U(
        lambda w, me, them: f"/dashboard/metric/{w[them].unique.code}/notes/new/",
        post=lambda w, me, them: {"period": _q(QUARTERS[6]), "kind": "context", "text": "matrix note", "area": ""},
        theirs=True,
    ),
    "metric-note-edit": U(
        lambda w, me, them: f"/dashboard/notes/{w[them].note_shared.pk}/",
        post=lambda w, me, them: {"period": _q(QUARTERS[5]), "kind": "context", "text": "matrix edit", "area": ""},
        theirs=True,
    ),
    "metric-note-remove": U(
        lambda w, me, them: f"/dashboard/notes/{w[them].note_shared.pk}/remove/",
        post=lambda w, me, them: {"confirm": "1"},
        theirs=True,
    ),
    "dashboard-fairness": U(lambda w, me, them: "/dashboard/fairness/"),
    "snapshots": U(lambda w, me, them: "/snapshots/"),
    "snapshot-create": U(
        lambda w, me, them: "/snapshots/publish/",
        post=lambda w, me, them: {"quarter": "2024-09-30", "reason": "matrix snapshot"},
    ),
    "snapshot-detail": U(lambda w, me, them: f"/snapshots/{w[them].snapshot.pk}/", theirs=True),
    "reports": U(lambda w, me, them: "/reports/"),
    # A report on the other's snapshot: refused, and nothing made.
    "report-new": U(
        lambda w, me, them: "/reports/new/", post=lambda w, me, them: {"snapshot": str(w[them].snapshot_free.pk)}
    ),
    "report-detail": U(lambda w, me, them: f"/reports/{w[them].draft_report.pk}/", theirs=True),
    "report-edit": U(
        lambda w, me, them: f"/reports/{w[them].draft_report.pk}/edit/",
        post=lambda w, me, them: {"version": "0", "executive_summary": "matrix summary", "title": "matrix"},
        theirs=True,
    ),
    "pack-start": U(
        lambda w, me, them: f"/reports/{w[them].report.pk}/pack/",
        post=lambda w, me, them: {"edition": "board"},
        theirs=True,
    ),
    "report-public-preview": U(lambda w, me, them: f"/reports/{w[them].draft_report.pk}/public-preview/", theirs=True),
    "report-action": U(
        lambda w, me, them: f"/reports/{w[them].draft_report.pk}/publish/", post=lambda w, me, them: {}, theirs=True
    ),
    "pack-detail": U(lambda w, me, them: f"/packs/{w[them].pack.pk}/", theirs=True),
    "pack-progress": U(lambda w, me, them: f"/packs/{w[them].pack.pk}/progress/", theirs=True),
    "pack-retry": U(lambda w, me, them: f"/packs/{w[them].pack.pk}/retry/", post=lambda w, me, them: {}, theirs=True),
    "pack-download": U(lambda w, me, them: f"/packs/{w[them].pack.pk}/download/", theirs=True),
    "pack-download-docx": U(lambda w, me, them: f"/packs/{w[them].pack.pk}/download.docx", theirs=True),
    # The public edition is the partnership's: another partnership's report is not found under its name.
    # The unnamed public addresses are the default partnership's: West Mercia's report is not found there
    # (whoever asks), and the default partnership's published report is public under them by design.
    "public-pack": U(lambda w, me, them: f"/public/reports/{w['wm'].report.pk}/pack.pdf", theirs=True),
    "public-reports": U(lambda w, me, them: "/public/reports/"),
    # A partnership's public reports under its own name: its published ones only; the other partnership's
    # report under this one's name is not found.
    "partnership-public-reports": U(lambda w, me, them: f"/public/{w[them].partnership.code}/reports/"),
    "partnership-public-report": U(
        lambda w, me, them: f"/public/{w[me].partnership.code}/reports/{w[them].report.pk}/", theirs=True
    ),
    "partnership-public-pack": U(
        lambda w, me, them: f"/public/{w[me].partnership.code}/reports/{w[them].report.pk}/pack.pdf", theirs=True
    ),
    "public-report": U(lambda w, me, them: f"/public/reports/{w['wm'].report.pk}/", theirs=True),
    "public-local-index": U(lambda w, me, them: "/public/areas/"),
    "public-local-area": U(lambda w, me, them: f"/public/areas/{HOME[them]}/"),  # areas are shared
    # The other partnership's public pages, under its own name: public by design, never its unpublished rows.
    "partnership-public-local-index": U(lambda w, me, them: f"/public/{w[them].partnership.code}/areas/"),
    "partnership-public-local-area": U(lambda w, me, them: f"/public/{w[them].partnership.code}/areas/{HOME[them]}/"),
    # The region's partnerships side by side, from the snapshots they publish and share only.
    "regional": U(lambda w, me, them: "/region/"),
    # One's own partnership's data-sharing setting (the other's is never changed from here).
    "manage-sharing": U(lambda w, me, them: "/manage/sharing/", post=lambda w, me, them: {"shares": "yes"}),
    "login": U(
        lambda w, me, them: "/accounts/login/",
        post=lambda w, me, them: {"username": "somebody@example.org", "password": "not-the-password"},
    ),
    "login-refused": U(lambda w, me, them: "/accounts/login/refused/"),
    "oidc_authentication_init": U(lambda w, me, them: "/oidc/authenticate/"),
    "oidc_authentication_callback": U(lambda w, me, them: "/oidc/callback/"),
    "logout": U(lambda w, me, them: "/accounts/logout/", post=lambda w, me, them: {}),
    "api-metrics": U(lambda w, me, them: "/api/v1/metrics/"),
    "api-series": U(lambda w, me, them: f"/api/v1/series/?metric={w[them].unique.code}&area={HOME[them]}", theirs=True),
    "api-disproportionality": U(
        lambda w, me, them: (
            f"/api/v1/disproportionality/?metric={w[them].unique.code}&area={HOME[them]}"
            f"&period={_q(QUARTERS[-1])}&breakdown=ethnicity"
        ),
        theirs=True,
    ),
    "agencies": U(lambda w, me, them: "/agencies/"),
    # Agencies are shared; their contacts are each partnership's own: the page shows (and saves) one's own only.
    "agency-contacts": U(
        lambda w, me, them: "/agencies/police/contacts/",
        post=lambda w, me, them: {"users": [str(w[them].users["analyst"].pk)], "shared_mailbox": "m@police.example"},
    ),
    "returns": U(lambda w, me, them: "/returns/"),
    "round-open": U(
        lambda w, me, them: "/returns/rounds/open/",
        post=lambda w, me, them: {"period": "2024-12-31", "due_date": "2025-01-31"},
    ),
    "return-detail": U(
        lambda w, me, them: f"/returns/{w[them].submitted.pk}/",
        post=lambda w, me, them: {"action": "comments", "version": "2"},
        theirs=True,
    ),
    "return-remind": U(
        lambda w, me, them: f"/returns/{w[them].draft_return.pk}/remind/", post=lambda w, me, them: {}, theirs=True
    ),
    "return-template": U(lambda w, me, them: f"/returns/{w[them].submitted.pk}/template.xlsx", theirs=True),
    "return-upload": U(
        lambda w, me, them: f"/returns/{w[them].draft_return.pk}/upload/", post=_upload_post, theirs=True
    ),
    "return-action": U(
        lambda w, me, them: f"/returns/{w[them].submitted.pk}/approve/",
        post=lambda w, me, them: {"version": "2"},
        theirs=True,
    ),
    "upload-detail": U(lambda w, me, them: f"/returns/uploads/{w[them].upload.pk}/", theirs=True),
    "upload-progress": U(lambda w, me, them: f"/returns/uploads/{w[them].upload.pk}/progress/", theirs=True),
    "upload-retry": U(
        lambda w, me, them: f"/returns/uploads/{w[them].upload.pk}/retry/", post=lambda w, me, them: {}, theirs=True
    ),
    "audit": U(lambda w, me, them: "/audit/"),
    # A framework file naming the other partnership: never loaded into it by this partnership's manager.
    "manage-framework": U(lambda w, me, them: "/manage/framework/", post=_framework_post),
    "manage-framework-download": U(lambda w, me, them: "/manage/framework/download.yaml"),
    "manage": U(lambda w, me, them: "/manage/"),
    "manage-users": U(lambda w, me, them: "/manage/users/"),
    "manage-user-invite": U(
        lambda w, me, them: "/manage/users/invite/",
        post=lambda w, me, them: {"name": "Matrix", "email": "matrix@example.org", "role": "board_member"},
    ),
    # The other partnership's people (no role in this one) are not this partnership's to see or change.
    "manage-user-edit": U(
        lambda w, me, them: f"/manage/users/{w[them].users['analyst'].pk}/",
        post=lambda w, me, them: {"role": "performance_manager", "agency": ""},
        theirs=True,
    ),
    "manage-user-action": U(
        lambda w, me, them: f"/manage/users/{w[them].users['analyst'].pk}/deactivate/",
        post=lambda w, me, them: {},
        theirs=True,
    ),
    # A set-password link is the invitee's own (its token); a wrong one shows nothing of anybody.
    "set-password": U(
        lambda w, me, them: (
            f"/accounts/set-password/{urlsafe_base64_encode(force_bytes(w[them].users['analyst'].pk))}/not-a-token/"
        ),
        post=lambda w, me, them: {"new_password1": "x", "new_password2": "x"},
    ),
    r"^admin/frameworks/(?P<model>user|agency|auditevent|apitoken)/(?P<rest>.*)$": U(
        lambda w, me, them: f"/admin/frameworks/user/{w[them].users['analyst'].pk}/change/"
    ),
}


# The admin's objects a partnership owns: their change, delete and history pages are asked with the other's id.
ADMIN_OBJECTS: dict[str, Callable[[World, str], Any]] = {
    "accounts/user": lambda w, them: w[them].users["analyst"].pk,
    "accounts/auditevent": lambda w, them: AuditEvent.objects.filter(partnership=w[them].partnership)[0].pk,
    "accounts/apitoken": lambda w, them: ApiToken.objects.filter(partnership=w[them].partnership)[0].pk,
    "accounts/partnership": lambda w, them: w[them].partnership.pk,
    "frameworks/framework": lambda w, them: w[them].framework.pk,
    "metrics/metric": lambda w, them: w[them].unique.pk,
    "metrics/observation": lambda w, them: Observation.objects.filter(metric=w[them].unique)[0].pk,
    "metrics/importbatch": lambda w, them: ImportBatch.objects.filter(partnership=w[them].partnership)[0].pk,
    "reports/snapshot": lambda w, them: w[them].snapshot.pk,
    "reports/annotation": lambda w, them: w[them].note_shared.pk,
}


def admin_path(route: str, world: World, them: str) -> tuple[str, bool]:
    """A concrete URL for an admin pattern, and whether it names the other partnership's object (other ids:
    1, shared reference data or nothing)."""
    if "(?P<app_label>" in route:
        return "/admin/accounts/", False
    if "(?P<url>" in route:
        return "/admin/no-such-page/", False
    model = "/".join(route.split("/")[1:3])
    if "<path:object_id>" in route and model in ADMIN_OBJECTS:
        pk = ADMIN_OBJECTS[model](world, them)
        return "/" + re.sub(r"<[^>]+>", "1", route.replace("<path:object_id>", str(pk))), True
    return "/" + re.sub(r"<[^>]+>", "1", route), False


APP = [(route, name) for route, name in all_patterns() if not route.startswith("admin/")]
ADMIN = [(route, name) for route, name in all_patterns() if route.startswith("admin/")]
CELLS = [
    pytest.param(key_of(route, name), role, method, id=f"{key_of(route, name)}__{role}__{method}")
    for route, name in APP
    if key_of(route, name) in URLS
    for role in ROLES
    for method in ("GET", "POST")
]


def test_every_url_pattern_is_in_the_matrix():
    missing = [key_of(route, name) for route, name in APP if key_of(route, name) not in URLS]
    assert not missing, f"URL patterns the permission matrix does not cover (add them to URLS): {missing}"
    stale = set(URLS) - {key_of(route, name) for route, name in APP}
    assert not stale, f"URLS names patterns that no longer exist: {sorted(stale)}"
    assert ADMIN, "the admin's patterns were not found"


# --- the world, made once for the module; every test's changes are rolled back -------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            made = build_world()
            yield made
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _empty_caches():
    """Each cell starts with empty caches (``test_the_page_cache_is_per_partnership`` warms them on purpose)."""
    for cache in caches.all():
        cache.clear()


def tags(role: str) -> tuple[str | None, str]:
    """(the asking user's partnership tag, the other partnership's tag); an anonymous visitor asks for WM's."""
    if role == "anonymous":
        return None, "wm"
    me = role.split("-")[0]
    return me, OTHER[me]


def client_for(world: World, role: str) -> Client:
    client = Client(raise_request_exception=False)  # a server error is a failed cell, not a crashed test
    if role != "anonymous":
        tag, name = role.split("-")
        client.force_login(world[tag].users[name])
    return client


def body(response: Any) -> str:
    """The response's text: a streamed file read whole; a zip (XLSX, DOCX) unpacked."""
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            raw = b"\n".join(z.read(n) for n in z.namelist())
    return raw.decode("utf-8", errors="replace")


def forbidden(role: str, path: str) -> list[str]:
    """The markers the response to ``role`` must not contain."""
    me, them = tags(role)
    public = path.startswith("/public/")
    if me is None:
        return [SECRET["def"], SECRET["wm"]] + ([] if public else [PUBLISHED["def"], PUBLISHED["wm"]])
    return [SECRET[them]] + ([] if public else [PUBLISHED[them]])


def leaked(text: str, markers: list[str]) -> list[str]:
    low = text.lower()
    return [m for m in markers if m.lower() in low]


def refused(response: Any, path: str) -> bool:
    """Not found, forbidden, not allowed, or sign in first; the API may also call a code it does not know a
    bad request (as it does for a code that exists nowhere)."""
    if response.status_code in (401, 403, 404, 405) or (response.status_code == 400 and path.startswith("/api/")):
        return True
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PREFIXES)


def both_fingerprints(world: World, role: str) -> dict[str, dict[str, str]]:
    me, them = tags(role)
    return {tag: fingerprint(world, tag) for tag in ([them] if me else ["def", "wm"])}


@pytest.mark.parametrize(("key", "role", "method"), CELLS)
def test_matrix(world, db, key, role, method, mailoutbox):
    spec = URLS[key]
    me, them = tags(role)
    path = spec.path(world, me or "def", them)
    client = client_for(world, role)
    if method == "GET":
        response = client.get(path)
    else:
        before = both_fingerprints(world, role)
        data = spec.post(world, me or "def", them) if spec.post else {}
        response = client.post(path, data)
    problems = []
    found = leaked(body(response), forbidden(role, path))
    if found:
        problems.append(f"shows {found}")
    if response.status_code >= 500:
        problems.append(f"server error {response.status_code}")
    elif spec.theirs and not refused(response, path):
        where = f" → {response['Location']}" if response.status_code in (301, 302) else ""
        problems.append(f"answers {response.status_code}{where} for the other partnership's object")
    if method == "POST":
        after = both_fingerprints(world, role)
        changed = {
            tag: [name for name in before[tag] if before[tag][name] != after[tag][name]]
            for tag in before
            if before[tag] != after[tag]
        }
        if changed:
            problems.append(f"changed the other partnership's rows: {changed}")
        leaks = [m for m in mailoutbox if leaked(f"{m.subject}\n{m.body}", forbidden(role, ""))]
        if leaks:
            problems.append("e-mailed the other partnership's data")
    assert not problems, f"{method} {path} as {role}: " + "; ".join(problems)


# --- the admin: performance managers only, and each sees their own partnership's rows only ----------------
@pytest.mark.parametrize("role", ROLES)
def test_the_admin_keeps_to_the_partnership(world, db, role):
    """Every admin pattern: refused to all but performance managers; a manager's admin pages show nothing of
    the other partnership, its objects' pages are refused (or not found: the admin's redirect to its index),
    and a POST (deleting, changing) leaves the other's rows as they were. The failure lists the URLs."""
    _, them = tags(role)
    client = client_for(world, role)
    before = both_fingerprints(world, role)
    wrong = []
    for route, _ in ADMIN:
        path, theirs = admin_path(route, world, them)
        posting = path.endswith(("/add/", "/change/", "/delete/"))
        for method in ("get", "post") if posting else ("get",):
            data = {"post": "yes"} if method == "post" and path.endswith("/delete/") else {}
            response = getattr(client, method)(path, data)
            status = response.status_code
            to = response["Location"] if status in (301, 302) else ""
            problems = []
            if status >= 500:
                problems.append("server error")
            if leaked(body(response) if not to else "", forbidden(role, path)):
                problems.append("shows the other partnership's rows")
            # Not found in the admin: a redirect to its index; the bare object URL redirects to its change page
            # (Django's old-URL redirect, which reads nothing).
            harmless = status == 302 and to.split("?")[0] in ("/admin/", f"{path}change/")
            if theirs and not (refused(response, path) or harmless):
                problems.append("answers for the other partnership's object")
            if not role.endswith("manager") and not refused(response, path):
                problems.append("not refused to a role that is not a performance manager")
            if problems:
                wrong.append(f"{method.upper()} {path}: {status} {to} {', '.join(problems)}")
    after = both_fingerprints(world, role)
    changed = {tag: [n for n in before[tag] if before[tag][n] != after[tag][n]] for tag in before}
    if any(changed.values()):
        wrong.append(f"changed the other partnership's rows: {changed}")
    assert not wrong, "\n".join(wrong)


# --- ?partnership= naming a partnership the user has no role in ---------------------------------------------
@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("path", ["/", "/dashboard/", "/snapshots/", "/reports/", "/returns/", "/manage/", "/audit/"])
def test_asking_for_another_partnership_is_not_found(world, db, role, path):
    _, them = tags(role)
    client = client_for(world, role)
    response = client.get(f"{path}?partnership={world[them].partnership.code}")
    assert response.status_code == 404, f"{path} as {role}: {response.status_code}"
    assert not leaked(body(response), forbidden(role, path))
    assert client.get(f"{path}?partnership=no-such-partnership").status_code == 404


@pytest.mark.parametrize("role", ["def-board", "def-manager", "wm-board", "wm-manager"])
def test_a_user_works_in_their_own_partnership(world, db, role):
    """The control for the matrix: the same pages show the user's own partnership's rows."""
    me, _ = tags(role)
    client = client_for(world, role)
    html = body(client.get("/dashboard/"))
    assert f"{SECRET[me]} framework".lower() in html.lower() or f"{SECRET[me]} local measure".lower() in html.lower()
    report = world[me].draft_report if role.endswith("manager") else world[me].report  # a board reads published
    response = client.get(f"/reports/{report.pk}/")
    assert response.status_code == 200
    assert report.executive_summary in body(response)


# --- the same measure code in both partnerships ---------------------------------------------------------------
@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_the_same_measure_code_shows_ones_own_measure(world, db, role):
    me, them = tags(role)
    client = client_for(world, role)
    for path in [
        "/dashboard/metric/LOC01/",
        f"/dashboard/metric/LOC01/?area={HOME[me]}",
        f"/dashboard/metric/LOC01/?area={HOME[them]}",
        "/dashboard/metric/LOC01/?format=csv",
        f"/api/v1/series/?metric=LOC01&area={HOME[me]}",
        f"/api/v1/series/?metric=LOC01&area={HOME[them]}",
        "/dashboard/metric/OFF01/",
        f"/dashboard/metric/OFF01/?area={HOME[them]}",
    ]:
        response = client.get(path)
        assert response.status_code < 500, f"{path} as {role}: server error"
        text = body(response)
        assert not leaked(text, forbidden(role, path)), f"{path} as {role}"
        other_values = str(900000 if them == "wm" else 700000)[:5]
        if "format=csv" in path or path.startswith("/api/"):
            assert other_values not in text, f"{path} as {role} shows the other partnership's figures"
    if role.endswith(("board", "manager")):
        response = client.get("/dashboard/metric/LOC01/")
        assert response.status_code == 200
        assert f"{SECRET[me]} local measure" in body(response)


# --- the API with each partnership's key --------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["def", "wm"])
def test_the_api_with_a_partnerships_key_reads_that_partnership_only(world, db, tag):
    them = OTHER[tag]
    client = Client(HTTP_AUTHORIZATION=f"Token {world[tag].token_key}", raise_request_exception=False)
    response = client.get("/api/v1/metrics/")
    assert response.status_code == 200
    text = body(response)
    assert world[tag].unique.code in text and "OFF01" in text
    assert world[them].unique.code not in text
    assert not leaked(text, [SECRET[them], PUBLISHED[them]])
    wrong = []
    for path in [
        f"/api/v1/series/?metric={world[them].unique.code}&area={HOME[them]}",
        f"/api/v1/series/?metric={world[them].unique.code}&area={HOME[tag]}",
        f"/api/v1/disproportionality/?metric={world[them].unique.code}&area={HOME[them]}"
        f"&period={_q(QUARTERS[-1])}&breakdown=ethnicity",
        f"/api/v1/metrics/?partnership={world[them].partnership.code}",
        f"/api/v1/series/?metric=LOC01&area={HOME[tag]}&partnership={world[them].partnership.code}",
    ]:
        response = client.get(path)
        text = body(response)
        if response.status_code not in (400, 403, 404) or leaked(text, [SECRET[them], PUBLISHED[them]]):
            wrong.append(f"{path}: {response.status_code}")
    response = client.get(f"/api/v1/series/?metric=LOC01&area={HOME[tag]}")
    assert response.status_code == 200
    text = body(response)
    if str(900000 if them == "wm" else 700000)[:5] in text:
        wrong.append("series of LOC01 shows the other partnership's figures")
    assert not wrong, wrong


# --- downloads ------------------------------------------------------------------------------------------------
EXPORTS = [
    "/agencies/?format=csv",
    "/manage/users/?format=csv",
    "/returns/?format=csv",
    "/returns/?format=xlsx",
    "/audit/?format=csv",
    "/dashboard/?format=csv",
    "/dashboard/?format=xlsx",
    "/dashboard/fairness/?format=csv",
    "/dashboard/metric/LOC01/?format=xlsx",
    "/dashboard/metric/OFF01/?format=csv",
    "/manage/framework/download.yaml",
    "own:/dashboard/priority/{priority}/?format=csv",
    "own:/returns/{ret}/template.csv",
    "own:/returns/{ret}/template.xlsx",
]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("export", EXPORTS)
def test_downloads_hold_only_ones_own_partnership(world, db, role, export):
    me, them = tags(role)
    side = world[me]
    path = export.removeprefix("own:").format(priority=side.priority.code, ret=side.submitted.pk)
    response = client_for(world, role).get(path)
    assert response.status_code < 500, f"{path} as {role}: server error"
    text = body(response)
    assert not leaked(text, forbidden(role, path)), f"{path} as {role}"
    assert str(900000 if them == "wm" else 700000)[:5] not in text, f"{path} as {role}: the other's figures"


# --- the page cache -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", [("wm-manager", "def-manager"), ("def-board", "wm-board"), ("wm-board", "anonymous")])
def test_the_page_cache_is_per_partnership(world, db, pair):
    """A page first drawn for one partnership (caching it) is not then served to another: the second user sees
    no more of the first's partnership than they see with the caches empty (what they see then is the matrix's
    business)."""
    first, second = (client_for(world, role) for role in pair)
    wrong = []
    for path in [
        "/",
        "/dashboard/",
        "/dashboard/metric/LOC01/",
        "/dashboard/metric/OFF01/",
        "/dashboard/fairness/",
        "/snapshots/",
        "/reports/",
        "/public/reports/",
        "/public/areas/",
        f"/public/areas/{HOME['wm']}/",
        "/api/v1/metrics/",
    ]:
        for cache in caches.all():
            cache.clear()
        cold = set(leaked(body(second.get(path)), forbidden(pair[1], path)))
        for cache in caches.all():
            cache.clear()
        first.get(path)
        warm = set(leaked(body(second.get(path)), forbidden(pair[1], path)))
        if warm - cold:
            wrong.append(f"{path}: {sorted(warm - cold)}")
    assert not wrong, f"served to {pair[1]} after {pair[0]}: {wrong}"
