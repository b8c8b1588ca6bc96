"""A small framework and helpers for the returns tests."""

import datetime as dt
import textwrap

import pytest

from accounts.models import Agency, Role
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.returns.services import round_open
from metrics.returns.uploads import upload_create

from ..factories import UserFactory

FRAMEWORK = textwrap.dedent(
    """
    framework: {code: returns, name: Returns tests, home_area: staffordshire}
    agencies:
      - {code: police, name: Staffordshire Police}
      - {code: hmpps, name: HM Prison and Probation Service}
    areas:
      - {code: england-wales, name: England and Wales, type: national}
      - {code: staffordshire, name: Staffordshire, type: police_force_area}
    breakdowns:
      - {code: offence-group, name: Offence group, categories: [violence-against-the-person, robbery]}
    priorities:
      - code: offending
        name: Offending
        metrics:
          - {code: OFF01, name: Police recorded crime, agency: police, unit: count, direction: lower_is_better, source_type: official_statistics, breakdowns: [offence-group]}
          - {code: FAIR03, name: Ethnicity recorded, agency: police, unit: percentage, direction: higher_is_better, source_type: management_information}
          - {code: OFF05, name: Prison population, agency: hmpps, unit: count, direction: neutral, source_type: official_statistics, areas: [england-wales]}
          - {code: OFF06, name: Prisoners on remand, agency: hmpps, unit: count, direction: lower_is_better, source_type: official_statistics, areas: [england-wales]}
    validation_rules:
      - {code: groups-add-up, kind: breakdown_sum, metric: OFF01, breakdown: offence-group, importance: error}
      - {code: remand-within-population, kind: at_most, metric: OFF06, other: OFF05, importance: error, message: Remand cannot exceed the population.}
      - {code: recorded-plausible, kind: range, metric: FAIR03, min: 50, importance: warning}
    """
)
PERIOD = dt.date(2024, 6, 30)  # 2024/25 Q1
DUE = dt.date(2024, 7, 31)
HEADER = "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"
# Real Staffordshire figures (Home Office police recorded crime, 2023/24 Q4) scaled to the test's groups.
GOOD = (
    HEADER
    + "OFF01,staffordshire,2024-06-30,,,5300,,,provisional,\n"
    + "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,5100,,,provisional,\n"
    + "OFF01,staffordshire,2024-06-30,offence-group,robbery,200,,,provisional,\n"
    + "FAIR03,staffordshire,2024-06-30,,,,1400,1455,provisional,\n"
)


@pytest.fixture
def setup(db, mailoutbox):
    framework = framework_load(text=FRAMEWORK).framework
    police = Agency.objects.get(code="police")
    hmpps = Agency.objects.get(code="hmpps")
    people = {
        "manager": UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, email="pm@opcc.example"),
        "analyst": UserFactory(username="analyst", role=Role.ANALYST, agency=police, email="analyst@police.example"),
        "hmpps_analyst": UserFactory(username="hmpps", role=Role.ANALYST, agency=hmpps, email="a@hmpps.example"),
        "board": UserFactory(username="board", role=Role.BOARD_MEMBER),
    }
    return {"framework": framework, "police": police, "hmpps": hmpps, **people}


def open_round(s, period=PERIOD, due=DUE):
    return round_open(actor=s["manager"], framework=s["framework"], period=period, due_date=due)


def police_return(s):
    return open_round(s).returns.get(agency=s["police"])


def upload(s, return_obj, text, name="return.csv"):
    return upload_create(actor=s["analyst"], return_obj=return_obj, filename=name, content=text.encode())


def approved_history(s, metric="OFF01", values=(5000, 5100, 4900, 5050, 5000, 4950, 5020, 4980, 5010, 5000)):
    """Approved back data for Staffordshire (quarters before PERIOD)."""
    from metrics.quarters import Quarter

    start = Quarter.from_end_date(PERIOD).shift(-len(values))
    lines = [f"{metric},staffordshire,{start.shift(i).label},,,{v},,,final," for i, v in enumerate(values)]
    summary = import_file(content=(HEADER + "\n".join(lines) + "\n").encode(), filename="back.csv", agency=s["police"])
    assert summary.accepted, summary.as_text()
