"""Pieces the demo's coherent quarter rests on: illustrative figures, annual series, the next round."""

import datetime as dt

import pandas as pd

from metrics.imports.commit import import_file
from metrics.models import Metric, Observation
from metrics.returns.selectors import next_round, owed_lines, owing_agencies
from metrics.stats.spc import xmr

from .returns_setup import HEADER, approved_history, open_round, police_return, upload


def test_an_annual_series_has_no_missing_quarters_and_its_gaps_are_missing_years():
    # Youth first-time entrants style: one figure a year, at the quarter the year ends.
    years = [dt.date(y, 3, 31) for y in (2017, 2018, 2019, 2021, 2022)]
    series = pd.Series([330.0, 290.0, 250.0, 180.0, 170.0], index=years)
    annual = xmr(series, step=4)
    assert annual.missing_quarters == [dt.date(2020, 3, 31)]
    assert [p.after_gap for p in annual.points] == [False, False, False, True, False]
    quarterly = xmr(series)  # read as quarterly, three quarters are missing between each year
    assert len(quarterly.missing_quarters) == 4 * 5 - 4


def test_illustrative_column_is_read_kept_and_revisions_notice_it(setup):
    content = (
        HEADER.strip() + ",illustrative\n"
        "FAIR03,staffordshire,2024-03-31,,,,1400,1455,final,,yes\n"
        "OFF01,staffordshire,2024-03-31,,,5300,,,final,,no\n"
    )
    summary = import_file(content=content.encode(), filename="local.csv", agency=setup["police"])
    assert summary.accepted, summary.as_text()
    flags = dict(Observation.objects.values_list("metric__code", "illustrative"))
    assert flags == {"FAIR03": True, "OFF01": False}
    again = import_file(content=content.replace(",yes\n", ",no\n").encode(), filename="x.csv", agency=setup["police"])
    assert again.updated == 1  # the same number is no longer illustrative: a change
    bad = import_file(content=content.replace(",yes\n", ",maybe\n").encode(), filename="x.csv", agency=setup["police"])
    assert not bad.accepted and "illustrative 'maybe' is not yes or no" in bad.as_text()


def test_approving_a_return_keeps_illustrative_flags(setup, django_capture_on_commit_callbacks):
    from metrics.returns.services import return_approve, return_submit
    from metrics.returns.uploads import upload_confirm

    ret = police_return(setup)
    text = (
        HEADER.strip() + ",illustrative\n"
        "OFF01,staffordshire,2024-06-30,,,5300,,,provisional,,yes\n"
        "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,5100,,,provisional,,yes\n"
        "OFF01,staffordshire,2024-06-30,offence-group,robbery,200,,,provisional,,yes\n"
        "FAIR03,staffordshire,2024-06-30,,,,1400,1455,provisional,,yes\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload_confirm(actor=setup["analyst"], upload=upload(setup, ret, text))
    ret.refresh_from_db()
    return_submit(actor=setup["analyst"], return_obj=ret)
    return_approve(actor=setup["manager"], return_obj=ret)
    assert Observation.objects.filter(period=dt.date(2024, 6, 30)).count() == 4
    assert all(Observation.objects.filter(period=dt.date(2024, 6, 30)).values_list("illustrative", flat=True))


def test_annual_measures_are_not_owed_in_quarterly_returns(setup):
    Metric.objects.filter(code="FAIR03").update(basis="annual")
    Metric.objects.filter(code__in=["OFF05", "OFF06"]).update(basis="annual")
    codes = {line.metric.code for line in owed_lines(framework=setup["framework"], agency=setup["police"])}
    assert codes == {"OFF01"}
    assert [a.code for a in owing_agencies(framework=setup["framework"])] == ["police"]


def test_the_next_round_follows_the_data_not_the_calendar(setup):
    today = dt.date(2026, 11, 24)
    # no data, no round: the last whole quarter
    assert next_round(today=today)[0].label == "2026/27 Q2"
    approved_history(setup)  # approved figures to 2024/25 Q1 at the latest
    latest = Observation.objects.order_by("-period").first()
    assert latest is not None
    quarter, due = next_round(today=today)
    assert quarter.end_date > latest.period and quarter.shift(-1).end_date == latest.period
    assert due == today + dt.timedelta(days=14)  # the quarter's own due date is long past
    open_round(setup, period=dt.date(2024, 9, 30), due=dt.date(2024, 10, 31))
    assert next_round(today=today)[0].label == "2024/25 Q3"
    assert next_round(today=dt.date(2024, 10, 1))[1] == dt.date(2025, 1, 30)  # 30 days after 31 December


def test_a_rate_saved_back_at_ten_digits_is_not_a_revision(setup):
    """Issue 17's false revisions: 1.2869093989339806 shown as 1.286909399 and saved back stays [p]/final,
    never [r]; a real change still is a revision."""
    exact = HEADER + "FAIR03,staffordshire,2024-03-31,,,1.2869093989339806,,,final,\n"
    assert import_file(content=exact.encode(), filename="a.csv", agency=setup["police"]).accepted
    shown = HEADER + "FAIR03,staffordshire,2024-03-31,,,1.286909399,,,final,\n"
    again = import_file(content=shown.encode(), filename="b.csv", agency=setup["police"])
    assert again.unchanged == 1 and again.updated == 0
    assert Observation.objects.get(metric__code="FAIR03").status == "final"
    changed = HEADER + "FAIR03,staffordshire,2024-03-31,,,1.2869,,,final,\n"
    assert import_file(content=changed.encode(), filename="c.csv", agency=setup["police"]).updated == 1
    assert Observation.objects.get(metric__code="FAIR03").status == "revised"
