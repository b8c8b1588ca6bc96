"""The regional view (issue 18): the region's partnerships side by side on shared measures, from each one's
latest published snapshot only, and only from partnerships that share with the region (plus the reader's own).
"""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from accounts.models import Membership, Partnership, Role
from accounts.partnerships import default_partnership
from frameworks.models import Framework, Priority
from metrics.models import FrameworkMetric, Metric, ObservationStatus, Unit
from reports.models import Snapshot, SnapshotObservation
from reports.regional.selectors import regional_view
from tests.factories import AreaFactory, MetricFactory, ObservationFactory, UserFactory

pytestmark = pytest.mark.django_db

Q3, Q4 = dt.date(2023, 12, 31), dt.date(2024, 3, 31)


def framework(partnership, code, area, metrics):
    fw = Framework.objects.create(code=code, name=f"{code} framework", home_area=area, partnership=partnership)
    priority = Priority.objects.create(framework=fw, code="all", name="All")
    for order, metric in enumerate(metrics):
        FrameworkMetric.objects.create(framework=fw, priority=priority, metric=metric, order=order)
    return fw


def publish(fw, period, figures):
    """A published snapshot of ``fw`` holding ``figures``: (metric, area, period, value)."""
    snapshot = Snapshot.objects.create(
        framework=fw, period=period, framework_version=1, framework_file="", observation_count=len(figures)
    )
    SnapshotObservation.objects.bulk_create(
        SnapshotObservation(
            snapshot=snapshot, metric=m, area=a, period=p, value=v, unit=m.unit, status=ObservationStatus.FINAL
        )
        for m, a, p, v in figures
    )
    return snapshot


@pytest.fixture
def region(db, users):
    staffs = AreaFactory(code="staffordshire", name="Staffordshire")
    wm_area = AreaFactory(code="west-mercia", name="West Mercia")
    warks = AreaFactory(code="warwickshire", name="Warwickshire")
    derbys = AreaFactory(code="derbyshire", name="Derbyshire")
    crime = MetricFactory(code="OFF01", name="Police recorded crime", unit=Unit.COUNT)
    share = MetricFactory(code="OFF03", name="Reoffending rate", unit=Unit.PERCENTAGE, decimals=1)
    national = MetricFactory(code="EFF01", name="Crown Court receipts")
    ours = default_partnership()
    ours.region = "West Midlands"
    ours.save()
    wm = Partnership.objects.create(
        code="west-mercia", name="West Mercia LCJB", region="West Midlands", shares_published_with_region=True
    )
    wk = Partnership.objects.create(code="warwickshire", name="Warwickshire LCJB", region="West Midlands")
    db_ = Partnership.objects.create(
        code="derbyshire", name="Derbyshire LCJB", region="East Midlands", shares_published_with_region=True
    )
    local = Metric.objects.create(
        code="WM01",
        name="West Mercia's own measure",
        agency=crime.agency,
        unit=Unit.COUNT,
        partnership=wm,
        direction="neutral",
        source_type="local_return",
    )
    fa = framework(ours, "lcjb-demo", staffs, [crime, share, national])
    fb = framework(wm, "lcjb-west-mercia", wm_area, [crime, share, national, local])
    fc = framework(wk, "lcjb-warwickshire", warks, [crime, share])
    fd = framework(db_, "lcjb-derbyshire", derbys, [crime, share])
    publish(fa, Q4, [(crime, staffs, Q3, 20329), (crime, staffs, Q4, 21212), (share, staffs, Q4, 24.349)])
    publish(
        fb, Q3, [(crime, wm_area, dt.date(2023, 9, 30), 4000), (crime, wm_area, Q3, 4321), (local, wm_area, Q3, 55)]
    )
    publish(fc, Q4, [(crime, warks, Q4, 9999)])
    publish(fd, Q4, [(crime, derbys, Q4, 8888)])
    # West Mercia's figure for the next quarter: approved, never published. It must never cross.
    ObservationFactory(metric=crime, area=wm_area, period=Q4, value=7777)
    ObservationFactory(metric=share, area=wm_area, period=Q4, value=66.6)
    return {"ours": ours, "wm": wm, "wk": wk, "derbyshire": db_, "crime": crime}


def test_published_figures_of_sharing_partnerships_side_by_side(client, users, region):
    client.force_login(users["board_member"])
    response = client.get(reverse("regional"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "West Midlands" in html and "West Mercia LCJB" in html and "Default partnership (yours)" in html
    assert "21,212" in html and "2023/24 Q4" in html  # ours: the latest quarter of our snapshot
    assert "4,321" in html and "2023/24 Q3" in html  # theirs: the latest quarter of their published snapshot
    assert "24.3%" in html  # at the metric's precision
    assert "7,777" not in html and "66.6" not in html  # approved but unpublished: never
    assert "9,999" not in html and "Warwickshire" not in html  # does not share
    assert "8,888" not in html and "Derbyshire" not in html  # shares, but with another region
    assert "West Mercia&#x27;s own measure" not in html and "WM01" not in html  # not a shared measure
    assert "1 other partnership of the region does not share" in html
    assert "1 quarter behind the newest here (2023/24 Q4)" in html  # West Mercia's snapshot is older
    assert "Crown Court receipts (EFF01)" in html  # shared but no area has a figure: named, left out


def test_the_view_reads_only_snapshots_and_in_fixed_queries(region, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        view = regional_view(partnership=region["ours"])
    assert [m.partnership.code for m in view.members] == ["default", "west-mercia"]
    crime, reoffending = view.rows
    assert crime.code == "OFF01"
    assert [(c.text, c.period) for c in crime.cells] == [("21,212", Q4), ("4,321", Q3)]
    assert [(c.text, c.period, c.note) for c in reoffending.cells] == [
        ("24.3%", Q4, ""),
        ("[x]", None, "no figure for West Mercia"),  # not the approved, unpublished 66.6
    ]


def test_the_csv_has_what_the_page_shows(client, users, region):
    client.force_login(users["board_member"])
    response = client.get(reverse("regional"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text[text.index("measure_code,") :])))
    assert rows[0] == ["measure_code", "measure", "partnership", "area", "value", "quarter", "snapshot", "note"]
    figures = {(r[0], r[2]): (r[4], r[5]) for r in rows[1:] if r[0]}
    assert figures == {
        ("OFF01", "Default partnership"): ("21,212", "2023/24 Q4"),
        ("OFF01", "West Mercia LCJB"): ("4,321", "2023/24 Q3"),
        ("OFF03", "Default partnership"): ("24.3%", "2023/24 Q4"),
        ("OFF03", "West Mercia LCJB"): ("[x]", ""),
    }
    assert "7,777" not in text and "9,999" not in text and "8,888" not in text
    assert "1 quarter behind" in text


def test_an_empty_state_when_no_neighbour_shares(client, users, region):
    Partnership.objects.filter(pk=region["wm"].pk).update(shares_published_with_region=False)
    client.force_login(users["board_member"])
    html = client.get(reverse("regional")).content.decode()
    assert "No other partnership of West Midlands shares its published figures yet" in html
    assert "4,321" not in html and "21,212" not in html


def test_the_other_side_sees_only_what_is_shared_with_it(client, region):
    """A West Mercia board member: our partnership does not share, so West Mercia sees nothing of ours."""
    theirs = UserFactory(username="wm-board", role="")
    Membership.objects.create(partnership=region["wm"], user=theirs, role=Role.BOARD_MEMBER)
    client.force_login(theirs)
    html = client.get(reverse("regional")).content.decode()
    assert "No other partnership of West Midlands shares" in html and "21,212" not in html
    Partnership.objects.filter(pk=region["ours"].pk).update(shares_published_with_region=True)
    html = client.get(reverse("regional")).content.decode()
    assert "21,212" in html and "4,321" in html and "7,777" not in html
    assert "West Mercia LCJB (yours)" in html


def test_a_partnership_with_nothing_published_says_so(region):
    wm_fw = Framework.objects.get(code="lcjb-west-mercia")
    fresh = Partnership.objects.create(
        code="herefordshire", name="Herefordshire LCJB", region="West Midlands", shares_published_with_region=True
    )
    framework(fresh, "lcjb-herefordshire", wm_fw.home_area, [region["crime"]])
    view = regional_view(partnership=region["ours"])
    member = next(m for m in view.members if m.partnership == fresh)
    assert member.snapshot is None and "has not published a snapshot yet" in member.note
    assert view.rows[0].cells[-1].note == "nothing published" or any(
        c.note == "nothing published" for c in view.rows[0].cells
    )


def test_no_region_set(client, users):
    client.force_login(users["board_member"])
    html = client.get(reverse("regional")).content.decode()
    assert "has no region set" in html


def test_who_may_see_it(client, users, region):
    url = reverse("regional")
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(users["no_role"])
    assert client.get(url).status_code == 403
    for who in ("analyst", "performance_manager", "board_member"):
        client.force_login(users[who])
        assert client.get(url).status_code == 200
    outsider = UserFactory(username="derbyshire-board", role="")
    Membership.objects.create(partnership=region["derbyshire"], user=outsider, role=Role.BOARD_MEMBER)
    client.force_login(outsider)
    assert client.get(url, {"partnership": "default"}).status_code == 404  # no role there
    html = client.get(url).content.decode()  # their own region: nothing of the West Midlands
    assert "21,212" not in html and "4,321" not in html
