"""The JSON API (CONTRACT §3): reference values end to end, role rules, errors and query counts."""

import datetime as dt
import textwrap

import pytest
from django.urls import reverse

from accounts.models import Agency, Role
from accounts.tokens import api_token_create, api_token_revoke
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.quarters import Quarter

from ..factories import UserFactory
from ..metrics.stats.test_spc import REFERENCE, sig6

FRAMEWORK = textwrap.dedent(
    """
    framework: {code: api, name: API tests, home_area: staffordshire, peer_group: peers}
    agencies: [{code: police, name: Police}]
    areas:
      - {code: england-wales, name: England and Wales, type: national}
      - {code: staffordshire, name: Staffordshire, type: police_force_area}
      - {code: derbyshire, name: Derbyshire, type: police_force_area}
      - {code: kent, name: Kent, type: police_force_area}
      - {code: essex, name: Essex, type: police_force_area}
    peer_groups:
      - {code: peers, name: Illustrative peers, members: [staffordshire, derbyshire, kent, {area: essex, from: 2030-01-01}]}
    breakdowns:
      - {code: ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian, mixed, other]}
    priorities:
      - code: all
        name: All
        metrics:
          - {code: REF, name: Reference series, agency: police, unit: score, direction: higher_is_better, source_type: local_return}
          - {code: REFRAW, name: Reference unscreened, agency: police, unit: score, direction: neutral, source_type: local_return, spc: {screen_outliers: false}}
          - {code: RATE, name: Stop and search rate, agency: police, unit: rate_per_1000, direction: lower_is_better, source_type: management_information, breakdowns: [ethnicity]}
    """
)
START = Quarter(2019, 1)


def import_rows(lines):
    content = "metric,area,period,breakdown,category,value,numerator,denominator\n" + "\n".join(lines) + "\n"
    summary = import_file(content=content.encode(), filename="api.csv", agency=Agency.objects.get(code="police"))
    assert summary.accepted, summary.as_text()


@pytest.fixture
def api_data(db):
    framework_load(text=FRAMEWORK)
    outlier = list(REFERENCE)
    outlier[14] = 10
    lines = [f"REF,staffordshire,{START.shift(i).label},,,{v}" for i, v in enumerate(REFERENCE)]
    lines += [f"REFRAW,staffordshire,{START.shift(i).label},,,{v}" for i, v in enumerate(outlier)]
    lines += [f"REF,derbyshire,{START.shift(i).label},,,{v}" for i, v in enumerate(outlier)]
    last = START.shift(len(REFERENCE) - 1).label
    lines += [f"REF,kent,{last},,,2.5", f"REF,england-wales,{last},,,0.25"]
    # Stop and search, 2024/25 Q3, real Staffordshire-scale counts with Census 2021 denominators.
    for category, n, pop in [
        ("white", 25, 1004000),
        ("black", 2, 17000),
        ("asian", 30, 45000),
        ("mixed", 0, 25000),
        ("other", 7, 9000),
    ]:
        lines.append(f"RATE,staffordshire,2024-12-31,ethnicity,{category},,{n},{pop}")
    lines.append("RATE,staffordshire,2024-12-31,,,,1455,1134501")
    import_rows(lines)
    return last


@pytest.fixture
def board_client(client, api_data):
    client.force_login(UserFactory(username="board-api", role=Role.BOARD_MEMBER))
    return client


def get(client, name, **params):
    return client.get(reverse(name), params)


def test_reference_values_through_the_api(board_client):
    data = get(board_client, "api-series", metric="REF", area="staffordshire").json()
    assert data["metric"] == "REF"
    assert data["breakdown"] is None
    assert data["unit"] == "score"
    assert len(data["points"]) == 20
    assert data["spc"]["mean"] == sig6(0.1416238)
    assert data["spc"]["lower_limit"] == sig6(-3.01138)
    assert data["spc"]["upper_limit"] == sig6(3.294627)
    assert data["spc"]["variation"] == "common_cause"
    assert data["spc"]["trial_limits"] is False
    assert all(p["special_cause"] is None and p["rules"] == [] for p in data["points"])
    first = data["points"][0]
    assert first == {
        "period": "2019-06-30",
        "label": "2019/20 Q1",
        "value": -0.56047565,
        "numerator": None,
        "denominator": None,
        "status": "provisional",
        "missing": None,
        "special_cause": None,
        "rules": [],
        "after_gap": False,
        "illustrative": False,
    }
    assert data["latest_period"] == "2024-03-31" and data["stale"] is False
    assert data["suggested_rebases"] == []  # the NHS reference series is a stable process


def test_reference_with_outlier_screening_off(board_client):
    data = get(board_client, "api-series", metric="REFRAW", area="staffordshire").json()
    assert data["spc"]["mean"] == sig6(0.6694159)
    assert data["spc"]["lower_limit"] == sig6(-4.596625)
    assert data["spc"]["upper_limit"] == sig6(5.935457)
    assert data["points"][14]["special_cause"] == "neutral"
    assert data["points"][14]["rules"] == ["outside_limits"]


def test_screened_outlier_and_peer_comparison(board_client, api_data):
    data = get(board_client, "api-series", metric="REF", area="derbyshire").json()
    assert data["spc"]["lower_limit"] == sig6(-2.383666)
    assert data["spc"]["upper_limit"] == sig6(3.722497)
    assert data["points"][14]["special_cause"] == "improvement"
    comparison = data["comparison"]
    # Peers on the last quarter: Staffordshire −0.47279141, Derbyshire −0.47279141, Kent 2.5; Essex joins later.
    assert comparison["period"] == Quarter.parse(api_data).end_date.isoformat()
    assert comparison["of"] == 3
    assert comparison["rank"] == 2
    assert comparison["peer_max"] == 2.5
    assert comparison["national"] == 0.25
    assert comparison["peer_mean"] == pytest.approx((2.5 - 2 * 0.47279141) / 3)


def test_breakdown_series_and_no_comparison_without_peers(board_client):
    data = get(
        board_client, "api-series", metric="RATE", area="staffordshire", breakdown="ethnicity", category="black"
    ).json()
    assert (data["breakdown"], data["category"]) == ("ethnicity", "black")
    (point,) = data["points"]
    assert point["value"] == pytest.approx(2 / 17000 * 1000)
    assert (point["numerator"], point["denominator"]) == (2, 17000)
    assert data["comparison"] is None
    assert data["spc"]["trial_limits"] is True


def test_disproportionality(board_client):
    response = get(
        board_client,
        "api-disproportionality",
        metric="RATE",
        area="staffordshire",
        period="2024/25 Q3",
        breakdown="ethnicity",
    )
    data = response.json()
    assert response.status_code == 200
    assert data["reference"] == "white"
    assert data["period"] == "2024-12-31"
    groups = {g["category"]: g for g in data["groups"]}
    assert list(groups) == ["black", "asian", "mixed", "other"]
    asian = groups["asian"]
    assert asian["rate"] == pytest.approx(30 / 45000 * 1000)
    assert asian["ratio"] == pytest.approx((30 / 45000) / (25 / 1004000))
    assert asian["ci_lower"] < asian["ratio"] < asian["ci_upper"]
    assert asian["significant"] is True
    assert groups["mixed"]["ratio"] is None  # zero count
    assert groups["mixed"]["ci_lower"] is None
    # 2 is a small number: logged-in users still get the ratio, flagged (public outputs suppress it)
    assert groups["black"]["ratio"] is not None and groups["black"]["small_numbers"] is True
    assert groups["asian"]["small_numbers"] is False
    assert data["recorded_share"] is None and data["withheld"] is None  # no not-recorded category declared
    assert groups["other"]["ratio"] == pytest.approx((7 / 9000) / (25 / 1004000))


def test_metrics_list(board_client):
    data = get(board_client, "api-metrics").json()
    assert data["framework"]["code"] == "api"
    codes = [m["code"] for m in data["metrics"]]
    assert codes == ["REF", "REFRAW", "RATE"]
    rate = data["metrics"][2]
    assert rate["breakdowns"] == ["ethnicity"]
    assert rate["spc"] == {"screen_outliers": True, "run_length": 7, "trend_length": 7, "rebases": []}


@pytest.mark.parametrize(
    ("name", "params", "status", "message"),
    [
        ("api-series", {"area": "staffordshire"}, 400, "'metric' parameter is required"),
        ("api-series", {"metric": "NOPE", "area": "staffordshire"}, 404, "unknown metric 'NOPE'"),
        ("api-series", {"metric": "REF", "area": "mars"}, 404, "unknown area 'mars'"),
        ("api-series", {"metric": "REF", "area": "staffordshire", "breakdown": "ethnicity"}, 400, "go together"),
        (
            "api-series",
            {"metric": "REF", "area": "staffordshire", "breakdown": "ethnicity", "category": "white"},
            400,
            "not broken down",
        ),
        (
            "api-series",
            {"metric": "RATE", "area": "staffordshire", "breakdown": "ethnicity", "category": "green"},
            404,
            "unknown category",
        ),
        ("api-series", {"metric": "REF", "area": "staffordshire", "snapshot": "7"}, 404, "unknown snapshot"),
        ("api-series", {"metric": "REF", "area": "staffordshire", "snapshot": "x"}, 404, "unknown snapshot"),
        (
            "api-disproportionality",
            {"metric": "RATE", "area": "staffordshire", "period": "2024-12-30", "breakdown": "ethnicity"},
            400,
            "period:",
        ),
        (
            "api-disproportionality",
            {"metric": "RATE", "area": "staffordshire", "period": "2024-12-31", "breakdown": "age"},
            404,
            "unknown breakdown",
        ),
        (
            "api-disproportionality",
            {"metric": "REF", "area": "staffordshire", "period": "2024-12-31", "breakdown": "ethnicity"},
            400,
            "not broken down",
        ),
        (
            "api-disproportionality",
            {"metric": "RATE", "area": "staffordshire", "breakdown": "ethnicity"},
            400,
            "'period' parameter",
        ),
    ],
)
def test_errors_are_json_with_4xx(board_client, name, params, status, message):
    response = get(board_client, name, **params)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_only_get(board_client):
    assert board_client.post(reverse("api-series")).status_code == 405


ROLE_STATUS = {"anonymous": 401, "no_role": 403, "analyst": 200, "board_member": 200, "performance_manager": 200}


@pytest.mark.parametrize("role", sorted(ROLE_STATUS))
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("api-metrics", {}),
        ("api-series", {"metric": "REF", "area": "staffordshire"}),
        (
            "api-disproportionality",
            {"metric": "RATE", "area": "staffordshire", "period": "2024-12-31", "breakdown": "ethnicity"},
        ),
    ],
)
def test_role_rules_with_session_and_token(client, users, api_data, role, name, params):
    if role != "anonymous":
        client.force_login(users[role])
    assert client.get(reverse(name), params).status_code == ROLE_STATUS[role]
    if role != "anonymous":
        client.logout()
        _, key = api_token_create(user=users[role])
        response = client.get(reverse(name), params, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == ROLE_STATUS[role]
        response = client.get(reverse(name), params, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == ROLE_STATUS[role]


def test_bad_revoked_and_inactive_keys(client, users, api_data):
    url = reverse("api-metrics")
    assert client.get(url, HTTP_AUTHORIZATION="Token nope").status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Basic abc").status_code == 401
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    token, key = api_token_create(user=users["board_member"], name="Power BI")
    assert key not in str(token.key_hash)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    api_token_revoke(token=token)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    _, key = api_token_create(user=users["analyst"])
    users["analyst"].is_active = False
    users["analyst"].save()
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


@pytest.mark.parametrize(
    ("name", "params", "queries"),
    [
        ("api-metrics", {}, 7),
        ("api-series", {"metric": "REF", "area": "derbyshire"}, 12),
        ("api-series", {"metric": "RATE", "area": "staffordshire", "breakdown": "ethnicity", "category": "black"}, 14),
        (
            "api-disproportionality",
            {"metric": "RATE", "area": "staffordshire", "period": "2024-12-31", "breakdown": "ethnicity"},
            10,
        ),
    ],
)
def test_query_counts_are_pinned(board_client, django_assert_max_num_queries, name, params, queries):
    with django_assert_max_num_queries(queries):
        assert get(board_client, name, **params).status_code == 200


def test_series_query_count_does_not_grow_with_the_series(board_client, django_assert_num_queries):
    with django_assert_num_queries(12) as captured:
        get(board_client, "api-series", metric="REF", area="derbyshire")
    import_rows([f"REF,derbyshire,{START.shift(20 + i).label},,,{i}" for i in range(30)])
    with django_assert_num_queries(len(captured)):
        get(board_client, "api-series", metric="REF", area="derbyshire")


def test_missing_values_are_points_without_a_value(board_client):
    import_rows([f"REF,kent,{START.label},,,[x]"])
    data = get(board_client, "api-series", metric="REF", area="kent").json()
    first = data["points"][0]
    assert first["value"] is None
    assert first["missing"] == "x"
    assert data["spc"]["segments"][0]["points"] == 1
    assert dt.date.fromisoformat(data["points"][-1]["period"]) > dt.date.fromisoformat(first["period"])
