"""Dashboards and the public local pages in two partnerships on one installation (issue 18).

The default partnership (A) and West Mercia (B) share Staffordshire and a shared official statistic (SHR01,
in both frameworks); each has its own local measure (LOCA, LOCB) and both have a local measure coded LOC01
(codes are unique within a partnership, not across them). Each partnership's readers see their framework's
measures only; the other's measure codes and priorities are not found (404); the page cache never serves one
partnership's page to another; the public local pages name their partnership in the path and link within it.
"""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Partnership, Role
from accounts.partnerships import default_partnership
from accounts.tenancy import partnership_scope
from frameworks.models import AreaType, Framework
from metrics.models import Direction, Metric, Rebase, SourceType, Unit
from metrics.quarters import Quarter
from reports.dashboards.cache import cached_part, page_key
from reports.models import Annotation
from reports.snapshots.services import snapshot_publish

from ..factories import AreaFactory, ObservationFactory, PlacementFactory, PriorityFactory, UserFactory

START = Quarter(2022, 1)
QUARTERS = 8
LAST = START.shift(QUARTERS - 1).end_date


def _metric(code: str, name: str, partnership: Partnership | None, *, local_areas: bool = False) -> Metric:
    from accounts.models import Agency

    return Metric.objects.create(
        code=code,
        name=name,
        partnership=partnership,
        agency=Agency.objects.get_or_create(code="police", defaults={"name": "Police"})[0],
        unit=Unit.COUNT,
        direction=Direction.LOWER_IS_BETTER,
        source_type=SourceType.OFFICIAL_STATISTICS,
        local_areas=local_areas,
    )


def build_two():
    """Two partnerships sharing Staffordshire (with a local area under it) and SHR01; each with its own
    measures, priority, framework and users."""
    a = default_partnership()
    b = Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    home = AreaFactory(code="staffordshire", name="Staffordshire")
    AreaFactory(code="england-wales", name="England and Wales", type=AreaType.NATIONAL)
    AreaFactory(code="county", name="County Council area", type=AreaType.LOCAL_AUTHORITY, parent=home)
    fw_a = Framework.objects.create(code="fw-a", name="Framework A", home_area=home, partnership=a)
    fw_b = Framework.objects.create(code="fw-b", name="Framework B", home_area=home, partnership=b)
    pa = PriorityFactory(framework=fw_a, code="pa", name="Priority of A", order=0)
    pb = PriorityFactory(framework=fw_b, code="pb", name="Priority of B", order=0)
    shared = _metric("SHR01", "Shared official statistic", None)
    metrics = {
        "SHR01": shared,
        "LOCA": _metric("LOCA", "A-only local measure", a),
        "LOCB": _metric("LOCB", "B-only local measure", b),
        "LOC01-A": _metric("LOC01", "A's own LOC01", a, local_areas=True),
        "LOC01-B": _metric("LOC01", "B's own LOC01", b, local_areas=True),
    }
    for order, key in enumerate(["SHR01", "LOCA", "LOC01-A"]):
        PlacementFactory(framework=fw_a, priority=pa, metric=metrics[key], order=order)
    for order, key in enumerate(["SHR01", "LOCB", "LOC01-B"]):
        PlacementFactory(framework=fw_b, priority=pb, metric=metrics[key], order=order)
    base = {"SHR01": 500, "LOCA": 100, "LOCB": 900, "LOC01-A": 1111, "LOC01-B": 7777}
    for key, metric in metrics.items():
        for q in range(QUARTERS):
            ObservationFactory(metric=metric, area=home, period=START.shift(q).end_date, value=base[key] + q)
    board_a = UserFactory(username="board-a", role=Role.BOARD_MEMBER)
    manager_a = UserFactory(username="manager-a", role=Role.PERFORMANCE_MANAGER)
    board_b = UserFactory(username="board-b", role="")
    manager_b = UserFactory(username="manager-b", role="")
    Membership.objects.create(partnership=b, user=board_b, role=Role.BOARD_MEMBER)
    Membership.objects.create(partnership=b, user=manager_b, role=Role.PERFORMANCE_MANAGER)
    # Each partnership's rebase of the shared statistic, and a note of A's.
    rebase_a = Rebase.objects.create(partnership=a, metric=shared, period=START.shift(4).end_date, reason="A's break")
    rebase_b = Rebase.objects.create(partnership=b, metric=shared, period=START.shift(3).end_date, reason="B's break")
    note_a = Annotation.objects.create(
        partnership=a, metric=shared, period=START.shift(2).end_date, text="A's private note"
    )
    return {
        "a": a,
        "b": b,
        "fw_a": fw_a,
        "fw_b": fw_b,
        "metrics": metrics,
        "board_a": board_a,
        "manager_a": manager_a,
        "board_b": board_b,
        "manager_b": manager_b,
        "rebase_a": rebase_a,
        "rebase_b": rebase_b,
        "note_a": note_a,
    }


@pytest.fixture
def two(db):
    return build_two()


def reader(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, name: str, *args: str, **params: str) -> str:
    response = client.get(reverse(name, args=list(args)), params)
    assert response.status_code == 200, (name, args, response.status_code)
    return response.content.decode()


# --- each partnership sees its own framework's measures -----------------------------------------------------
def test_the_overview_shows_the_partnerships_own_measures_and_the_shared_one(two):
    html_a = page(reader(two["board_a"]), "dashboard")
    html_b = page(reader(two["board_b"]), "dashboard")
    assert "Shared official statistic" in html_a and "Shared official statistic" in html_b
    assert "A-only local measure" in html_a and "A&#x27;s own LOC01" in html_a
    assert "B-only local measure" not in html_a and "B&#x27;s own LOC01" not in html_a
    assert "B-only local measure" in html_b and "B&#x27;s own LOC01" in html_b
    assert "A-only local measure" not in html_b and "A&#x27;s own LOC01" not in html_b


def test_another_partnerships_measure_and_priority_are_not_found(two):
    a, b = reader(two["board_a"]), reader(two["board_b"])
    assert a.get(reverse("dashboard-metric", args=["LOCB"])).status_code == 404
    assert b.get(reverse("dashboard-metric", args=["LOCA"])).status_code == 404
    assert a.get(reverse("dashboard-metric", args=["LOCB"]), {"format": "csv"}).status_code == 404
    assert a.get(reverse("dashboard-priority", args=["pb"])).status_code == 404
    assert b.get(reverse("dashboard-priority", args=["pa"])).status_code == 404
    assert "Priority of B" in page(b, "dashboard-priority", "pb")
    assert "B-only local measure" in page(b, "dashboard-metric", "LOCB")


def test_a_shared_measure_only_another_framework_places_is_not_found(two):
    only_b = _metric("SHR02", "Shared statistic only B reports", None)
    PlacementFactory(framework=two["fw_b"], priority=two["fw_b"].priorities.get(), metric=only_b, order=9)
    assert reader(two["board_a"]).get(reverse("dashboard-metric", args=["SHR02"])).status_code == 404
    assert "Shared statistic only B reports" in page(reader(two["board_b"]), "dashboard-metric", "SHR02")


def test_the_same_code_reads_each_partnerships_own_measure(two):
    html_a = page(reader(two["board_a"]), "dashboard-metric", "LOC01")
    html_b = page(reader(two["board_b"]), "dashboard-metric", "LOC01")
    assert "A&#x27;s own LOC01" in html_a and "7,777" not in html_a and "1,111" in html_a
    assert "B&#x27;s own LOC01" in html_b and "1,111" not in html_b and "7,777" in html_b
    csv_b = reader(two["board_b"]).get(reverse("dashboard-metric", args=["LOC01"]), {"format": "csv"})
    assert "B's own LOC01" in csv_b.content.decode("utf-8-sig")


def test_a_managers_rebases_and_notes_are_the_partnerships_own(two):
    html_a = page(reader(two["manager_a"]), "dashboard-metric", "SHR01")
    html_b = page(reader(two["manager_b"]), "dashboard-metric", "SHR01")
    assert "A&#x27;s break" in html_a and "B&#x27;s break" not in html_a and "A&#x27;s private note" in html_a
    assert "B&#x27;s break" in html_b and "A&#x27;s break" not in html_b  # the limits: B's rebase only
    manage_b = html_b.split('id="manage-measure"')[1]  # the manager's rebases and notes to change
    assert "B&#x27;s break" in manage_b and "A&#x27;s private note" not in manage_b
    assert f"/dashboard/notes/{two['note_a'].pk}/" not in html_b
    manager_b = reader(two["manager_b"])
    for name, pk in [
        ("metric-rebase-remove", two["rebase_a"].pk),
        ("metric-note-edit", two["note_a"].pk),
        ("metric-note-remove", two["note_a"].pk),
    ]:
        assert manager_b.get(reverse(name, args=[pk])).status_code == 404
        assert manager_b.post(reverse(name, args=[pk]), {"text": "x"}).status_code == 404
    assert Rebase.objects.filter(pk=two["rebase_a"].pk).exists()
    assert Annotation.objects.get(pk=two["note_a"].pk).text == "A's private note"
    assert manager_b.get(reverse("metric-rebase-new", args=["LOCA"])).status_code == 404
    assert manager_b.get(reverse("metric-note-new", args=["LOCA"])).status_code == 404


def test_another_partnerships_note_is_not_on_the_page(two):
    assert "A&#x27;s private note" not in page(reader(two["board_b"]), "dashboard-metric", "SHR01")
    assert "A&#x27;s private note" not in page(reader(two["board_b"]), "dashboard-priority", "pb")


def test_a_snapshot_of_another_partnership_is_not_found(two):
    with partnership_scope(two["b"]):
        snapshot = snapshot_publish(actor=two["manager_b"], framework=two["fw_b"], period=LAST, reason="tests")
    a, b = reader(two["board_a"]), reader(two["board_b"])
    assert a.get(reverse("dashboard"), {"snapshot": snapshot.pk}).status_code == 404
    assert a.get(reverse("dashboard-metric", args=["SHR01"]), {"snapshot": snapshot.pk}).status_code == 404
    assert b.get(reverse("dashboard"), {"snapshot": snapshot.pk}).status_code == 200


# --- the page cache -----------------------------------------------------------------------------------------
@pytest.fixture
def page_cache(settings):
    """A real (local-memory) cache, as in production's single process."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "two"}}
    settings.PAGE_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


STALE = "<p>A PAGE CACHED FOR ANOTHER PARTNERSHIP</p>"


def body(client: Client, name: str, args: list[str]) -> str:
    """The page without what changes with every request (script nonces, CSRF tokens)."""
    html = page(client, name, *args, area="staffordshire")
    return re.sub(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', "", html)


def test_the_cache_never_serves_one_partnerships_page_to_another(two, page_cache):
    a, b = reader(two["board_a"]), reader(two["board_b"])
    for name, args in [("dashboard", []), ("dashboard-metric", ["SHR01"]), ("dashboard-metric", ["LOC01"])]:
        first_a = body(a, name, args)
        first_b = body(b, name, args)
        assert "A-only local measure" in first_a or "A&#x27;s" in first_a or "A&#x27;s break" in first_a
        assert "A&#x27;s own LOC01" not in first_b and "A-only local measure" not in first_b
        assert "A&#x27;s break" not in first_b
        # Served again from the cache, each still gets their own.
        assert body(b, name, args) == first_b
        assert body(a, name, args) == first_a
    # The same path and query string make a different key in each partnership.
    request = RequestFactory().get(reverse("dashboard"), {"area": "staffordshire"})
    with partnership_scope(two["a"]):
        key_a = page_key(request, page="overview", framework=two["fw_a"])
    with partnership_scope(two["b"]):
        key_b = page_key(request, page="overview", framework=two["fw_b"])
    assert key_a != key_b and f"p{two['a'].pk}:" in key_a and f"p{two['b'].pk}:" in key_b
    # A's cached page replaced by a marker: A is served the marker (from the cache), B never.
    assert cache.get(key_a) is not None
    cache.set(key_a, {"body": STALE})
    assert STALE in a.get(reverse("dashboard"), {"area": "staffordshire"}).content.decode()
    assert STALE not in b.get(reverse("dashboard"), {"area": "staffordshire"}).content.decode()


def test_a_framework_of_another_partnership_is_never_cached(two: dict, page_cache: None) -> None:
    """Defence in depth: a page built from a framework that is not the current partnership's is rendered each
    time and never kept (so it can never be served from the cache to anyone)."""
    request = RequestFactory().get(reverse("dashboard"))
    calls: list[int] = []

    def render() -> dict[str, str]:
        calls.append(1)
        return {"body": "<p>B</p>"}

    with partnership_scope(two["a"]):
        cached_part(request, page="overview", framework=two["fw_b"], render=render)
        cached_part(request, page="overview", framework=two["fw_b"], render=render)
        assert cache.get(page_key(request, page="overview", framework=two["fw_b"])) is None
    assert len(calls) == 2
    with partnership_scope(two["b"]):
        cached_part(request, page="overview", framework=two["fw_b"], render=render)
        cached_part(request, page="overview", framework=two["fw_b"], render=render)
    assert len(calls) == 3


# --- public local pages per partnership -------------------------------------------------------------------
def test_public_local_pages_name_their_partnership_and_link_within_it(two):
    with partnership_scope(two["b"]):
        snapshot_publish(actor=two["manager_b"], framework=two["fw_b"], period=LAST, reason="tests")
    visitor = Client()
    index_b = page(visitor, "partnership-public-local-index", "west-mercia")
    area_b = reverse("partnership-public-local-area", args=["west-mercia", "county"])
    assert f'href="{area_b}"' in index_b
    html = page(visitor, "partnership-public-local-area", "west-mercia", "county")
    assert f'href="{reverse("partnership-public-local-index", args=["west-mercia"])}"' in html
    assert "B&#x27;s own LOC01" in html and "A&#x27;s own LOC01" not in html
    csv = visitor.get(area_b, {"format": "csv"}).content.decode("utf-8-sig")
    assert "B's own LOC01" in csv and "A's own LOC01" not in csv
    # The default partnership published nothing: its pages (either address) say so, nothing of B's.
    index_a = page(visitor, "public-local-index")
    assert 'href="/public/' not in index_a.split("Choose your area")[1].split("</ul>")[0]
    assert visitor.get(reverse("public-local-area", args=["county"])).status_code == 404
    assert visitor.get(reverse("partnership-public-local-area", args=["default", "county"])).status_code == 404
    assert "Choose your area" in page(visitor, "partnership-public-local-index", "default")
    # An unknown partnership, or an area not under the partnership's home area, is not found.
    assert visitor.get(reverse("partnership-public-local-index", args=["nowhere"])).status_code == 404
    assert (
        visitor.get(reverse("partnership-public-local-area", args=["west-mercia", "england-wales"])).status_code == 404
    )


def test_the_installations_public_local_addresses_still_work_for_the_default_partnership(two):
    snapshot_publish(actor=two["manager_a"], framework=two["fw_a"], period=LAST, reason="tests")
    visitor = Client()
    index = page(visitor, "public-local-index")
    assert f'href="{reverse("public-local-area", args=["county"])}"' in index
    html = page(visitor, "public-local-area", "county")
    assert "A&#x27;s own LOC01" in html and "B&#x27;s own LOC01" not in html
    assert f'href="{reverse("public-local-index")}"' in html
    # B published nothing: its index lists the areas without links.
    assert 'href="/public/west-mercia/areas/county/"' not in page(
        visitor, "partnership-public-local-index", "west-mercia"
    )


@pytest.mark.parametrize(
    ("name", "args"), [("dashboard", []), ("dashboard-metric", ["LOC01"]), ("dashboard-priority", [])]
)
def test_query_counts_do_not_depend_on_the_partnership(two, name, args):
    counts = {}
    for who, priority in (("board_a", "pa"), ("board_b", "pb")):
        client = reader(two[who])
        with CaptureQueriesContext(connection) as ctx:
            page(client, name, *(args or ([priority] if name == "dashboard-priority" else [])))
        counts[who] = len(ctx.captured_queries)
    assert counts["board_a"] == counts["board_b"], counts


def test_each_partnerships_rebases_are_attached_in_one_query_and_read_without_one(two):
    from reports.evidence.build import attach_rebases, live_spc_settings, metric_rebases

    metrics = [Metric.objects.get(pk=two["metrics"][key].pk) for key in ("SHR01", "LOCA", "LOCB")]
    with partnership_scope(two["b"]):
        with CaptureQueriesContext(connection) as queries:
            attach_rebases(metrics)
            reasons = [[r.reason for r in metric_rebases(m)] for m in metrics]
            settings_ = live_spc_settings(metrics[0])
        assert len(queries) == 1
        assert reasons == [["B's break"], [], []]
        assert settings_["rebases"] == [(START.shift(3).end_date, "B's break")]
        # Not attached: fetched, and still only the partnership's own.
        fresh = Metric.objects.get(pk=two["metrics"]["SHR01"].pk)
        assert [r.reason for r in metric_rebases(fresh)] == ["B's break"]
    with partnership_scope(two["a"]):
        attach_rebases(metrics)
        assert [r.reason for r in metric_rebases(metrics[0])] == ["A's break"]
    with partnership_scope(two["b"]):  # attached in A's work, read in B's: B's own, fetched
        assert [r.reason for r in metric_rebases(metrics[0])] == ["B's break"]


def test_the_live_rows_kept_per_partnership_read_each_partnerships_own(two):
    from reports.evidence.sources import LIVE

    def codes() -> set[str]:
        return set(LIVE.rows.values_list("metric__code", flat=True).distinct())

    for _ in range(2):  # kept after the first read: the same answer, partnership by partnership
        with partnership_scope(two["a"]):
            assert codes() == {"SHR01", "LOCA", "LOC01"}
            assert not LIVE.rows.filter(metric__code="LOCB").exists()
        with partnership_scope(two["b"]):
            assert codes() == {"SHR01", "LOCB", "LOC01"}
            assert not LIVE.rows.filter(metric__code="LOCA").exists()
