"""The JSON API in one partnership per call (issue 18): the API key's partnership, else ``?partnership=``
where the caller has a role, else the caller's only one (several and none named: 400 listing them). The
world of ``test_dashboards_partnerships``: A (the default partnership) and West Mercia (B) share Staffordshire
and SHR01 (each with its own rebase of it); each has its own local measures, both one coded LOC01."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ApiToken, Membership, Role
from accounts.tokens import api_token_create

from ..factories import UserFactory
from .test_api import api_data  # noqa: F401  (the fixture)
from .test_dashboards_partnerships import build_two


@pytest.fixture
def two(db):
    world = build_two()
    # A regional analyst who reads both partnerships (a board member in each).
    both = UserFactory(username="regional", role=Role.BOARD_MEMBER)
    Membership.objects.create(partnership=world["b"], user=both, role=Role.BOARD_MEMBER)
    world["both"] = both
    return world


def call(name: str, key: str | None = None, client: Client | None = None, **params: str):
    headers = {"Authorization": f"Token {key}"} if key else {}
    response = (client or Client()).get(reverse(name), params, headers=headers)
    return response.status_code, response.json()


def values(payload: dict) -> list[float]:
    return [p["value"] for p in payload["points"]]


def test_a_key_of_one_partnership_reads_its_measures_only(two):
    _, key_a = api_token_create(user=two["board_a"])
    _, key_b = api_token_create(user=two["board_b"])
    status, listing = call("api-metrics", key_a)
    assert status == 200 and listing["framework"]["code"] == "fw-a"
    assert {m["code"] for m in listing["metrics"]} == {"SHR01", "LOCA", "LOC01"}
    status, listing = call("api-metrics", key_b)
    assert status == 200 and listing["framework"]["code"] == "fw-b"
    assert {m["code"] for m in listing["metrics"]} == {"SHR01", "LOCB", "LOC01"}
    # B's local measure is unknown to A's key (and A's to B's): 404, never its figures.
    status, error = call("api-series", key_a, metric="LOCB", area="staffordshire")
    assert status == 404 and error == {"error": "unknown metric 'LOCB'"}
    assert call("api-series", key_b, metric="LOCA", area="staffordshire")[0] == 404
    # The same code reads each partnership's own measure.
    assert values(call("api-series", key_a, metric="LOC01", area="staffordshire")[1])[0] == 1111.0
    assert values(call("api-series", key_b, metric="LOC01", area="staffordshire")[1])[0] == 7777.0
    # The shared statistic is read by both, its limits with each partnership's own rebase.
    for key, mine, theirs in [(key_a, "A's break", "B's break"), (key_b, "B's break", "A's break")]:
        status, series = call("api-series", key, metric="SHR01", area="staffordshire")
        reasons = [s["reason"] for s in series["spc"]["segments"]]
        assert status == 200 and mine in reasons and theirs not in reasons
        shared = next(m for m in call("api-metrics", key)[1]["metrics"] if m["code"] == "SHR01")
        assert [r["reason"] for r in shared["spc"]["rebases"]] == [mine]


def test_a_key_made_for_a_partnership_reads_that_one(two):
    token, key = api_token_create(user=two["both"], partnership=two["b"])
    assert ApiToken.objects.get(pk=token.pk).partnership == two["b"]
    status, listing = call("api-metrics", key)
    assert status == 200 and listing["framework"]["code"] == "fw-b"
    assert call("api-metrics", key, partnership="west-mercia")[0] == 200
    status, error = call("api-metrics", key, partnership="default")
    assert status == 400 and error["error"] == "this API key reads partnership 'west-mercia' only"


def test_a_key_of_a_user_in_several_partnerships_names_one(two):
    _, key = api_token_create(user=two["both"])
    status, error = call("api-metrics", key)
    assert status == 400
    assert error["partnerships"] == ["default", "west-mercia"]
    assert "?partnership=CODE" in error["error"] and "default, west-mercia" in error["error"]
    status, listing = call("api-metrics", key, partnership="west-mercia")
    assert status == 200 and listing["framework"]["code"] == "fw-b"
    status, listing = call("api-metrics", key, partnership="default")
    assert status == 200 and listing["framework"]["code"] == "fw-a"
    assert values(call("api-series", key, metric="LOC01", area="staffordshire", partnership="west-mercia")[1])[0] == (
        7777.0
    )
    assert call("api-series", key, metric="LOCB", area="staffordshire", partnership="default")[0] == 404


def test_a_partnership_the_caller_has_no_role_in_is_not_found(two):
    _, key_a = api_token_create(user=two["board_a"])
    for asked in ("west-mercia", "nowhere"):
        status, error = call("api-metrics", key_a, partnership=asked)
        assert status == 404 and error == {"error": f"unknown partnership '{asked}' (or you have no role in it)"}
    # A key made for a partnership its user has no role in (any more) reads nothing there.
    _, key = api_token_create(user=two["board_a"], partnership=two["b"])
    assert call("api-metrics", key)[0] == 403


def test_a_signed_in_user_reads_the_partnership_the_pages_work_in(two):
    client = Client()
    client.force_login(two["board_b"])
    status, listing = call("api-metrics", client=client)
    assert status == 200 and listing["framework"]["code"] == "fw-b"
    assert call("api-series", client=client, metric="LOCA", area="staffordshire")[0] == 404
    status, error = call("api-metrics", client=client, partnership="default")
    assert status == 404 and "unknown partnership 'default'" in error["error"]
    regional = Client()
    regional.force_login(two["both"])
    assert call("api-metrics", client=regional)[1]["framework"]["code"] == "fw-a"  # the default one first
    assert call("api-metrics", client=regional, partnership="west-mercia")[1]["framework"]["code"] == "fw-b"


def test_a_snapshot_of_another_partnership_is_unknown(two):
    from accounts.tenancy import partnership_scope
    from reports.snapshots.services import snapshot_publish

    from .test_dashboards_partnerships import LAST

    with partnership_scope(two["b"]):
        snapshot = snapshot_publish(actor=two["manager_b"], framework=two["fw_b"], period=LAST, reason="tests")
    _, key_a = api_token_create(user=two["board_a"])
    _, key_b = api_token_create(user=two["board_b"])
    params = {"metric": "SHR01", "area": "staffordshire", "snapshot": str(snapshot.pk)}
    assert call("api-series", key_a, **params) == (404, {"error": f"unknown snapshot '{snapshot.pk}'"})
    status, series = call("api-series", key_b, **params)
    assert status == 200 and series["snapshot"]["id"] == snapshot.pk


def test_the_query_count_is_the_same_in_either_partnership(two):
    _, key_a = api_token_create(user=two["board_a"])
    _, key_b = api_token_create(user=two["board_b"], partnership=two["b"])
    counts = []
    for key in (key_a, key_b):
        call("api-series", key, metric="SHR01", area="staffordshire")  # the key's last use noted
        with CaptureQueriesContext(connection) as ctx:
            assert call("api-series", key, metric="SHR01", area="staffordshire")[0] == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] <= counts[1] + 1 and counts[1] <= counts[0], counts


@pytest.mark.parametrize(
    ("name", "params", "with_partnership", "without"),
    [("api-metrics", {}, 6, 7), ("api-series", {"metric": "REF", "area": "derbyshire"}, 11, 12)],
)
@pytest.mark.usefixtures("api_data")
def test_query_counts_of_keys_are_pinned(django_assert_num_queries, name, params, with_partnership, without):
    """A key made for a partnership costs what a key did before partnerships; a key without one reads the
    user's partnerships first (one query, which the role check then reuses)."""
    from accounts.partnerships import default_partnership

    user = UserFactory(username="api-key-user", role=Role.BOARD_MEMBER)
    _, scoped = api_token_create(user=user, partnership=default_partnership())
    _, unscoped = api_token_create(user=user)
    for key, queries in ((scoped, with_partnership), (unscoped, without)):
        call(name, key, **params)  # the key's first use noted
        with django_assert_num_queries(queries):
            assert call(name, key, **params)[0] == 200


def test_create_api_token_for_a_partnership(two):
    out = io.StringIO()
    call_command("create_api_token", "regional", "--partnership", "west-mercia", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert call("api-metrics", key)[1]["framework"]["code"] == "fw-b"
    assert ApiToken.objects.get(user=two["both"]).partnership == two["b"]
    with pytest.raises(CommandError, match="board-a has no role in partnership 'west-mercia'"):
        call_command("create_api_token", "board-a", "--partnership", "west-mercia", stderr=io.StringIO())
    with pytest.raises(CommandError, match="unknown partnership 'nowhere'"):
        call_command("create_api_token", "board-a", "--partnership", "nowhere", stderr=io.StringIO())
    out = io.StringIO()
    call_command("create_api_token", "board-a", stdout=out, stderr=io.StringIO())  # none named: as before
    assert call("api-metrics", out.getvalue().strip())[1]["framework"]["code"] == "fw-a"
