"""The page evidence cache: a dashboard page's content is rendered once per approved-data version and shared
by its readers; every change to approved data, snapshots, the framework or rebases moves the version on, so
no reader is ever served a page from before it (in any process: the version is read from the database)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.versions import data_changed, data_version
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.models import Metric
from metrics.rebases import rebase_record
from metrics.returns.services import return_approve, return_submit
from metrics.returns.uploads import upload_confirm, upload_create
from reports.dashboards.cache import page_key
from reports.snapshots.services import snapshot_publish

from ..factories import MetricFactory, PlacementFactory
from ..metrics.returns_setup import FRAMEWORK, GOOD, HEADER, PERIOD, approved_history, police_return
from .test_dashboards import build

STALE = "<p>STALE PAGE FROM BEFORE THE CHANGE</p>"
# The police return for 2024/25 Q1, in line with the approved history (no warning to comment on).
RETURN = GOOD.replace(",5300,", ",5030,").replace(",5100,", ",4830,")


@pytest.fixture(autouse=True)
def page_cache(settings):
    """A real (local-memory) cache for these tests only: other tests run with none."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"}}
    settings.PAGE_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def reader(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def overview_html(client) -> str:
    response = client.get(reverse("dashboard"), {"area": "staffordshire"})
    assert response.status_code == 200
    return response.content.decode()


def poison(client) -> None:
    """Replace the cached overview with a marker: a later request that shows it was served from the cache."""
    request = client.get(reverse("dashboard"), {"area": "staffordshire"}).wsgi_request
    from frameworks.selectors import current_framework

    framework = current_framework()
    assert framework is not None
    key = page_key(request, page="overview", framework=framework)
    assert cache.get(key) is not None, "the overview was not cached"
    cache.set(key, {"body": STALE})
    assert STALE in overview_html(client)


def submit(s, text):
    r = police_return(s)
    up = upload_create(actor=s["analyst"], return_obj=r, filename="return.csv", content=text.encode())
    upload_confirm(actor=s["analyst"], upload=up)
    r.refresh_from_db()
    return return_submit(actor=s["analyst"], return_obj=r, version=r.version)


# --- what is cached, and for whom -------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_second_reader_of_a_page_gets_it_from_the_cache_in_a_few_queries(users, django_assert_max_num_queries):
    build(30)
    first, second = reader(users["board_member"]), reader(users["performance_manager"])
    html = first.get(reverse("dashboard")).content
    # session, user, the partnership, the framework, the area, the version; the navigation's count and whether
    # the admin is the manager's (it is the host's once there are several partnerships)
    with django_assert_max_num_queries(8):
        again = second.get(reverse("dashboard"))
    assert again.status_code == 200
    body = html.decode().split("<main", 1)[1].split("</main>", 1)[0]
    assert body.split(">", 1)[1].strip()[:2000] in again.content.decode()


def queries_of(client, url) -> int:
    seen: list[str] = []

    def count(execute, sql, *args):
        seen.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200
    return len(seen)


@pytest.mark.django_db
def test_a_hit_costs_the_same_queries_whatever_the_number_of_metrics(users):
    client = reader(users["board_member"])
    framework, _, _ = build(3, prefix="A")
    url = reverse("dashboard")
    client.get(url)  # the session's first request
    data_changed()
    miss_small = queries_of(client, url)
    hit_small = queries_of(client, url)
    assert hit_small < miss_small
    for m in range(3, 40):
        metric = MetricFactory(code=f"A{m:03d}", name=f"Metric {m}")
        PlacementFactory(priority=framework.priorities.first(), framework=framework, metric=metric, order=m)
    data_changed()
    assert queries_of(client, url) == miss_small  # rebuilt: the pinned count, whatever the number of metrics
    assert queries_of(client, url) == hit_small


@pytest.mark.django_db
def test_pages_differ_by_query_string_and_a_managers_rebase_form_is_never_cached(users):
    build(3)
    board = reader(users["board_member"])
    board.get(reverse("dashboard"))
    board.get(reverse("dashboard"), {"priority": "p1"})
    assert len({k for k in cache._cache if ":page:overview:" in k}) == 2
    manager = reader(users["performance_manager"])
    manager.get(reverse("dashboard-metric", args=["M000"]))
    assert not [k for k in cache._cache if ":page:metric:" in k]
    board.get(reverse("dashboard-metric", args=["M000"]))
    assert [k for k in cache._cache if ":page:metric:" in k]


@pytest.mark.django_db
def test_the_data_version_moves_on_with_each_change_and_keeps_its_epoch():
    before = data_version()
    data_changed()
    after = data_version()
    assert before.split(":")[0] == after.split(":")[0]
    assert int(after.split(":")[1]) == int(before.split(":")[1]) + 1


# --- invalidation: each change, a page from before it is never served again ---------------------------------
@pytest.mark.django_db
def test_approval_shows_the_approved_figure_at_once(setup):
    approved_history(setup)
    board = reader(setup["board"])
    assert "5,000" in overview_html(board)  # 2023/24 Q4, the latest approved figure
    r = submit(setup, RETURN)
    assert "5,030" not in overview_html(board)  # submitted, not approved: never shown to the board
    return_approve(actor=setup["manager"], return_obj=r)
    html = overview_html(board)
    assert "5,030" in html
    assert "2024/25 Q1" in html


@pytest.mark.django_db
def test_a_revision_shows_the_revised_figure_at_once(setup):
    approved_history(setup)
    board = reader(setup["board"])
    assert "5,000" in overview_html(board)
    text = HEADER + "OFF01,staffordshire,2023/24 Q4,,,5123,,,final,\n"
    summary = import_file(content=text.encode(), filename="revised.csv", agency=setup["police"])
    assert summary.accepted and summary.updated == 1
    html = overview_html(board)
    assert "5,123 [r]" in html


@pytest.mark.parametrize(
    "change",
    ["approval", "revision", "snapshot publication", "framework load", "rebase"],
)
@pytest.mark.django_db
def test_no_page_from_before_a_change_is_served_after_it(setup, change):
    approved_history(setup)
    r = submit(setup, RETURN) if change == "approval" else None
    board = reader(setup["board"])
    poison(board)
    if change == "approval":
        return_approve(actor=setup["manager"], return_obj=r)
    elif change == "revision":
        text = HEADER + "OFF01,staffordshire,2023/24 Q4,,,5123,,,final,\n"
        assert import_file(content=text.encode(), filename="r.csv", agency=setup["police"]).updated == 1
    elif change == "snapshot publication":
        snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="Test")
    elif change == "framework load":
        framework_load(text=FRAMEWORK.replace("Police recorded crime", "Recorded crime"))
    else:
        metric = Metric.objects.get(code="OFF01")
        rebase_record(
            actor=setup["manager"],
            framework=setup["framework"],
            metric=metric,
            period=dt.date(2023, 6, 30),
            reason="A break.",
        )
    assert STALE not in overview_html(board)


@pytest.mark.django_db
def test_a_rejected_import_leaves_the_version_as_it_was(setup):
    approved_history(setup)
    before = data_version()
    bad = HEADER + "OFF01,staffordshire,2023/24 Q4,,,not a number,,,final,\n"
    assert not import_file(content=bad.encode(), filename="bad.csv", agency=setup["police"]).accepted
    assert data_version() == before


@pytest.mark.django_db
def test_a_cache_server_that_is_down_costs_the_cache_not_the_page(users, caplog):
    build(3)
    client = reader(users["board_member"])
    down = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=down):
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert "Metric 1" in response.content.decode()
    assert "page cache unavailable" in caplog.text


@pytest.mark.django_db
def test_the_fairness_page_is_cached_until_the_data_changes_and_its_downloads_never_are(setup):
    """The fairness page (ten rate-ratio charts) was built on every request; it is shared like the others."""
    approved_history(setup)
    board = reader(setup["board"])
    url = reverse("dashboard-fairness")
    first = board.get(url, {"area": "staffordshire"})
    assert first.status_code == 200
    keys = [k for k in cache._cache if ":page:fairness:" in k]
    assert len(keys) == 1
    cache.set(keys[0].split(":", 2)[2], {"body": STALE})  # the key without the cache's prefix and version
    assert STALE in board.get(url, {"area": "staffordshire"}).content.decode()
    csv = board.get(url, {"area": "staffordshire", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and STALE not in csv.content.decode()
    data_changed()
    assert STALE not in board.get(url, {"area": "staffordshire"}).content.decode()
