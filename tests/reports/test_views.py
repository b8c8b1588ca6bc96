"""Role checks on every view, and the first page's content and query count."""

import datetime as dt

import pytest
from django.urls import get_resolver, reverse

from metrics.models import Unit

from ..factories import (
    AreaFactory,
    FrameworkFactory,
    MetricFactory,
    ObservationFactory,
    PlacementFactory,
    PriorityFactory,
)
from ..test_manage_roles import MANAGE_NAMES  # the management pages' role matrix

ROLES = ["anonymous", "analyst", "board_member", "performance_manager", "no_role"]

# Every named view and what each role gets: a status code, or "login" for a redirect to the login page.
EXPECTED = {
    "home": {"anonymous": "login", "analyst": 200, "board_member": 200, "performance_manager": 200, "no_role": 403},
    # the regional view (figures and permissions across partnerships: test_regional.py)
    "regional": {"anonymous": "login", "analyst": 200, "board_member": 200, "performance_manager": 200, "no_role": 403},
    "login": dict.fromkeys(ROLES, 200),
    "login-refused": dict.fromkeys(ROLES, 200),
    # Sign-in with an identity provider: off unless configured (tests/accounts/test_oidc.py turns it on).
    "oidc_authentication_init": dict.fromkeys(ROLES, 404),
    "oidc_authentication_callback": dict.fromkeys(ROLES, 404),
    "admin:index": {
        "anonymous": "login",
        "analyst": 403,
        "board_member": 403,
        "performance_manager": 200,
        "no_role": 403,
    },
    "admin:metrics_observation_changelist": {
        "anonymous": "login",
        "analyst": 403,
        "board_member": 403,
        "performance_manager": 200,
        "no_role": 403,
    },
    "admin:accounts_auditevent_changelist": {
        "anonymous": "login",
        "analyst": 403,
        "board_member": 403,
        "performance_manager": 200,
        "no_role": 403,
    },
}
POST_ONLY = {"logout"}
API = {"api-metrics", "api-series", "api-disproportionality"}  # role rules in test_api.py
DASHBOARDS = {
    "dashboard",
    "dashboard-priority",
    "dashboard-metric",
    "dashboard-fairness",
    "metric-rebase",
}  # test_dashboards.py
SNAPSHOTS = {"snapshots", "snapshot-create", "snapshot-detail"}  # test_snapshots.py
REPORTS = {  # test_reporting.py
    "reports",
    "report-new",
    "report-detail",
    "report-edit",
    "report-public-preview",
    "report-action",
    "public-reports",
    "public-report",
    "partnership-public-reports",  # test_reports_partnerships.py
    "partnership-public-report",
}
PACKS = {
    "pack-start",
    "pack-detail",
    "pack-progress",
    "pack-download",
    "pack-download-docx",
    "public-pack",
    "partnership-public-pack",  # test_reports_partnerships.py
    "pack-retry",
}  # test_packs.py, test_board_pack.py
LOCAL = {  # public, no login: test_local_dashboards.py, test_dashboards_partnerships.py
    "public-local-index",
    "public-local-area",
    "partnership-public-local-index",
    "partnership-public-local-area",
}
RETURNS = {  # role rules in tests/metrics/test_return_views.py
    "returns",
    "round-open",
    "return-detail",
    "return-template",
    "return-upload",
    "return-action",
    "upload-detail",
    "upload-progress",
    "upload-retry",
    "audit",
    "return-remind",  # tests/metrics/test_reminders.py
    "agencies",  # tests/accounts/test_contacts.py
    "agency-contacts",  # tests/accounts/test_contacts.py
}


def test_every_view_is_in_the_role_matrix():
    names = {name for name in get_resolver().reverse_dict if isinstance(name, str)}
    others = POST_ONLY | API | RETURNS | DASHBOARDS | SNAPSHOTS | REPORTS | PACKS | LOCAL | MANAGE_NAMES
    assert names - others <= set(EXPECTED), names - set(EXPECTED) - others


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_role_checks(client, users, name, role):
    if role != "anonymous":
        client.force_login(users[role])
    url = reverse(name)
    response = client.get(url)
    expected = EXPECTED[name][role]
    if expected == "login":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.django_db
def test_login_and_logout(client, users):
    response = client.post(reverse("login"), {"username": "board", "password": "pass-word-123"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password(client, users):
    response = client.post(reverse("login"), {"username": "board", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


@pytest.mark.django_db
def test_home_lists_priorities_and_latest_values_in_fixed_queries(client, users, django_assert_max_num_queries):
    area = AreaFactory(code="staffordshire", name="Staffordshire")
    framework = FrameworkFactory(home_area=area)
    for p in range(3):
        priority = PriorityFactory(framework=framework, code=f"p{p}", name=f"Priority {p}", order=p)
        for m in range(4):
            metric = MetricFactory(code=f"M{p}{m}", name=f"Metric {p}.{m}", unit=Unit.COUNT)
            PlacementFactory(priority=priority, framework=framework, metric=metric, order=m)
            ObservationFactory(metric=metric, area=area, period=dt.date(2023, 12, 31), value=1000 + m)
            ObservationFactory(
                metric=metric, area=area, period=dt.date(2024, 3, 31), value=2000 + m, status="provisional"
            )
    client.force_login(users["board_member"])
    with django_assert_max_num_queries(11):  # 9, the partnership, and the board's queue (no report published yet)
        response = client.get(reverse("home"))
    html = response.content.decode()
    assert "Priority 2" in html and "Metric 2.3" in html
    assert "2,003 [p]" in html and "2023/24 Q4" in html
    assert "1,003" not in html


@pytest.mark.django_db
def test_home_falls_back_to_the_national_figure_with_a_label(client, users):
    area = AreaFactory(code="staffordshire", name="Staffordshire")
    national = AreaFactory(code="england-wales", name="England and Wales", type="national")
    framework = FrameworkFactory(home_area=area)
    priority = PriorityFactory(framework=framework, name="Efficiency")
    local = MetricFactory(code="LOCAL", name="Local measure")
    backlog = MetricFactory(code="EFF01", name="Crown Court outstanding caseload")
    PlacementFactory(priority=priority, framework=framework, metric=local, order=0)
    PlacementFactory(priority=priority, framework=framework, metric=backlog, order=1)
    ObservationFactory(metric=local, area=area, value=11)
    ObservationFactory(metric=local, area=national, value=999999)
    ObservationFactory(metric=backlog, area=national, value=67573, period=dt.date(2024, 3, 31))
    client.force_login(users["board_member"])
    html = client.get(reverse("home")).content.decode()
    assert "999,999" not in html
    assert "67,573" in html
    assert html.count("(England and Wales)") == 1


@pytest.mark.django_db
def test_home_without_a_framework(client, users):
    client.force_login(users["board_member"])
    assert b"No framework yet" in client.get(reverse("home")).content
