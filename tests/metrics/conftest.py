import textwrap

import pytest

from accounts.models import Agency
from metrics.catalogue.load import framework_load

FRAMEWORK = textwrap.dedent(
    """
    framework: {code: imports, name: Import tests, home_area: staffordshire}
    agencies:
      - {code: police, name: Staffordshire Police}
      - {code: cps, name: CPS}
    areas:
      - {code: staffordshire, name: Staffordshire, type: police_force_area, ons_code: E23000015}
      - {code: derbyshire, name: Derbyshire, type: police_force_area, ons_code: E23000018}
    breakdowns:
      - {code: ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian, mixed, other]}
      - {code: offence-group, name: Offence group, categories: [violence-against-the-person, robbery]}
    priorities:
      - code: all
        name: All
        metrics:
          - {code: OFF01, name: Recorded crime, agency: police, unit: count, direction: lower_is_better, source_type: official_statistics, breakdowns: [offence-group]}
          - {code: FAIR01, name: Stop and search rate, agency: police, unit: rate_per_1000, direction: neutral, source_type: management_information, breakdowns: [ethnicity]}
          - {code: EFF05, name: CPS conviction rate, agency: cps, unit: percentage, direction: higher_is_better, source_type: management_information}
    """
)


@pytest.fixture
def framework(db):
    return framework_load(text=FRAMEWORK).framework


@pytest.fixture
def police_agency(framework):
    return Agency.objects.get(code="police")


@pytest.fixture
def cps_agency(framework):
    return Agency.objects.get(code="cps")
