"""The demo extract copes with each trap of the published files, checked on real rows.

Each test reads the real file in ``../shared/data/published``, runs the script's function and asserts the
figure a reader would check by hand against the source.
"""

import datetime as dt
import importlib.util
import sys

import pytest

from ..conftest import FIXTURES

SHARED = FIXTURES.parent.parent / "shared" / "data" / "published"
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/published beside the project")


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "extract_demo_data", FIXTURES.parent / "scripts" / "extract_demo_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("extract_demo_data", module)
    spec.loader.exec_module(module)
    return module


extract = _load_script()


@pytest.fixture(scope="module")
def areas():
    return extract.AreaCodes(FIXTURES / "demo_framework.yaml")


@pytest.fixture(scope="module")
def outcomes(areas):
    return extract.police_outcomes(SHARED, areas)


@pytest.fixture(scope="module")
def outcome_cells(areas):
    return extract.outcome_counts(SHARED, areas)


def _find(rows, metric, area, period, category=None):
    found = [
        r
        for r in rows
        if r["metric"] == metric
        and r["area"] == area
        and r["period"] == period
        and (r.get("category") or None) == category
    ]
    assert len(found) == 1, (metric, area, period, category, found)
    return found[0]


Q1_2017 = dt.date(2017, 6, 30)
Q1_2018 = dt.date(2018, 6, 30)


# --- crime outcomes --------------------------------------------------------------------------------------
def test_an_outcome_the_2018_19_file_has_no_row_for_counts_as_zero(outcome_cells, outcomes):
    # Avon and Somerset, drug offences recorded in 2018/19 Q1: 743 offences, and the file has no row with
    # outcome 16 (it drops rows whose counts are all zero), so none were closed that way.
    cell = outcome_cells[("avon-and-somerset", Q1_2018, "drug-offences")]
    assert 16 not in cell
    assert sum(cell.values()) == 743
    row = _find(outcomes, "VW06", "avon-and-somerset", Q1_2018, "drug-offences")
    assert (row["numerator"], row["denominator"]) == ("0", "743")
    assert "drops all-zero rows" in row["note"]
    # The 2017/18 file keeps its zero rows: the same outcome has rows there, some of them 0.
    assert outcome_cells[("bedfordshire", Q1_2017, "drug-offences")][16] == 0.0
    assert _find(outcomes, "VW06", "bedfordshire", Q1_2017, "drug-offences").get("note", "") == ""


def test_both_years_count_column_is_read_whatever_its_name(outcome_cells, outcomes):
    # 2018/19 ('force_outcomes_for_offences_recorded_in_quarter'): SOURCE.txt's orientation check for
    # Avon and Somerset 2018/19 Q1: charged/summonsed 3,369, victim does not support 7,510, no suspect 14,927.
    avon = [
        cells for (area, period, _), cells in outcome_cells.items() if (area, period) == ("avon-and-somerset", Q1_2018)
    ]
    assert sum(c.get(1, 0) for c in avon) == 3369
    assert sum(c.get(16, 0) for c in avon) == 7510
    assert sum(c.get(18, 0) for c in avon) == 14927
    assert _find(outcomes, "EFF09", "avon-and-somerset", Q1_2018)["numerator"] == "3369"
    # 2017/18 ('offences'): Staffordshire's offences recorded in 2017/18 Q1 are the outcomes of every type,
    # 'not yet assigned' included (police recorded crime has 21,179 for the quarter, fraud excluded).
    staffs = _find(outcomes, "EFF09", "staffordshire", Q1_2017)
    assert staffs["denominator"] == "21175"
    assert int(staffs["numerator"]) / int(staffs["denominator"]) == pytest.approx(0.1274, abs=0.0001)


def test_forces_named_in_the_outcomes_files_are_mapped_to_the_framework_areas(outcomes, areas):
    q4 = dt.date(2019, 3, 31)
    totals = {r["area"] for r in outcomes if r["metric"] == "EFF09" and r["period"] == q4 and not r.get("category")}
    # 'London, City of', 'Metropolitan Police', 'West Midlands' (the force) are named, not coded.
    assert {"city-of-london", "metropolitan", "west-midlands-police", "staffordshire"} <= totals
    assert totals == set(areas.forces) | {"england-wales"}  # British Transport Police left out
    national = _find(outcomes, "EFF09", "england-wales", q4)
    forces = [_find(outcomes, "EFF09", a, q4) for a in areas.forces]
    assert int(national["denominator"]) == sum(int(r["denominator"]) for r in forces)


# --- arrests by ethnicity --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def arrests(areas):
    return extract.arrest_rates(SHARED, areas)


def test_lancashire_arrests_in_2017_18_are_missing_not_zero(arrests):
    year = dt.date(2018, 3, 31)
    lancashire = [r for r in arrests if r["area"] == "lancashire" and r["period"] == year]
    assert len(lancashire) == 6  # the total and five groups
    assert all(r["value"] == "[x]" and "missing, not zero" in r["note"] for r in lancashire)
    assert "numerator" not in _find(arrests, "FAIR05", "lancashire", year)
    # England and Wales that year leaves Lancashire out: 698,737 arrests (SOURCE.txt), over the other forces' people.
    national = _find(arrests, "FAIR05", "england-wales", year)
    assert national["numerator"] == "698737"
    assert "Lancashire" in national["note"]
    earlier = _find(arrests, "FAIR05", "england-wales", dt.date(2017, 3, 31))
    assert int(national["denominator"]) < int(earlier["denominator"])
    assert _find(arrests, "FAIR05", "lancashire", dt.date(2017, 3, 31)).get("numerator")


def test_arrest_rates_have_counts_and_census_2011_populations_by_group(arrests):
    year = dt.date(2018, 3, 31)
    black = _find(arrests, "FAIR05", "staffordshire", year, "black")
    white = _find(arrests, "FAIR05", "staffordshire", year, "white")
    # Census 2011: Staffordshire has 8,551 Black and 1,032,327 White residents.
    assert (black["numerator"], black["denominator"]) == ("496", "8551")
    assert (white["numerator"], white["denominator"]) == ("10496", "1032327")
    # 'Other' is Chinese plus Other in both the arrests and the Census (7,376 = 3,950 Chinese + 3,426 Other in Staffordshire).
    assert _find(arrests, "FAIR05", "staffordshire", year, "other")["denominator"] == "7376"
    # The City of London has more arrests than residents in some groups: no rate per resident.
    assert _find(arrests, "FAIR05", "city-of-london", year, "black")["value"] == "[z]"


# --- stop and search resultant arrests -------------------------------------------------------------------
def test_searches_resulting_in_arrest_by_group(areas):
    rows = extract.search_arrests(SHARED, areas)
    year = dt.date(2019, 3, 31)
    total = _find(rows, "FAIR06", "staffordshire", year)
    assert (total["numerator"], total["denominator"]) == ("646", "4343")
    assert _find(rows, "FAIR06", "staffordshire", year, "not-stated")["denominator"] == "793"
    # More arrests than searches for a group in the source: not a percentage, shown as not available.
    odd = _find(rows, "FAIR06", "devon-and-cornwall", dt.date(2007, 3, 31), "other")
    assert odd["value"] == "[x]" and "62" in odd["note"]
    national = _find(rows, "FAIR06", "england-wales", year)
    assert int(national["denominator"]) == sum(int(_find(rows, "FAIR06", a, year)["denominator"]) for a in areas.forces)


# --- Crime Survey workbooks ------------------------------------------------------------------------------
def test_the_merged_two_row_header_picks_the_any_asb_percentage_column():
    ending, found = extract.csew_table(
        SHARED / "ons-pfa-csew-asb-knife" / "policeforceareatablesyeendingmarch2019.xlsx",
        "Table P6",
        "Any anti-social behaviour",
    )
    assert ending == dt.date(2019, 3, 31)
    staffs = next(r for r in found if r["code"] == "E23000015")
    # Any ASB 41.4%, not drink-related behaviour (10.2%) nor groups hanging around (14.7%).
    assert staffs["value"] == pytest.approx(41.41766554, abs=1e-6)
    assert staffs["base"] == 592
    assert staffs["vs_year"] == "*↑"
    lancashire = next(r for r in found if r["code"] == "E23000003")
    assert lancashire["vs_national"] == "*"  # the header 'different from England and Wales2' found despite its marker
    assert extract.label("ENGLAND AND WALES7,8,9,10,11") == "ENGLAND AND WALES"


def test_anti_social_behaviour_rows_for_force_areas_and_england_and_wales(areas):
    rows = extract.csew_antisocial_behaviour(SHARED, areas)
    year = dt.date(2018, 3, 31)
    assert _find(rows, "VW07", "england-wales", year)["value"] == "33.027215"
    assert "significantly below England and Wales" in _find(rows, "VW07", "lancashire", year)["note"]
    in_2019 = {r["area"] for r in rows if r["period"] == dt.date(2019, 3, 31)}
    assert len(in_2019) == 42  # 37 English and 4 Welsh force areas, and England and Wales
    assert "metropolitan" not in in_2019 and "london" not in in_2019


def test_confidence_the_cjs_is_fair_is_a_percentage_by_group():
    rows = extract.csew_confidence_fair(SHARED)
    when = dt.date(2018, 12, 31)
    assert _find(rows, "FAIR04", "england-wales", when)["value"] == "65.631722"
    black = _find(rows, "FAIR04", "england-wales", when, "black")
    assert black["value"] == "45.595413"
    assert "64 adults" in black["note"]


# --- youth justice ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def youth(areas):
    return extract.youth_justice(SHARED, areas)


def test_dfe_la_numbers_are_mapped_to_the_right_force_areas(areas):
    members = extract.youth_areas(SHARED, areas)
    assert {n: name for n, (name, _) in members["staffordshire"].items()} == {
        860: "Staffordshire",
        861: "Stoke-on-Trent",
    }
    assert set(members["leicestershire"]) == {855, 856, 857}  # Leicestershire, Leicester, Rutland
    assert set(members["cheshire"]) == {
        895,
        896,
        876,
        877,
    }  # Cheshire East, Cheshire West and Chester, Halton, Warrington
    # Census 2011: Stoke-on-Trent 249,008; Staffordshire County is the force area's districts.
    assert members["staffordshire"][861][1] == 249008
    assert members["staffordshire"][860][1] == pytest.approx(848489)


def test_staffordshire_is_the_county_and_stoke_on_trent_together(youth, areas):
    members = extract.youth_areas(SHARED, areas)
    (_, county), (_, stoke) = members["staffordshire"][860], members["staffordshire"][861]
    row = _find(youth, "OFF04", "staffordshire", dt.date(2016, 12, 31))
    # 2016 rates in the source: Staffordshire 232, Stoke-on-Trent 552 per 100,000.
    assert float(row["value"]) == pytest.approx((232 * county + 552 * stoke) / (county + stoke), abs=0.01)
    assert "Stoke-on-Trent 552" in row["note"]
    assert _find(youth, "OFF10", "staffordshire", dt.date(2024, 3, 31))["note"].endswith("Stoke-on-Trent 22.34")


def test_a_dash_is_not_published_never_zero(youth):
    assert extract._youth_value("-") is None
    assert extract._youth_value("40.630000000000003") == 40.63
    # Rutland's first-time-entrant rate is '-' every year: Leicestershire is Leicester and Leicestershire,
    # Rutland left out and said so, not counted as 0.
    row = _find(youth, "OFF04", "leicestershire", dt.date(2016, 12, 31))
    assert float(row["value"]) > 172  # between Leicestershire 172 and Leicester 340, not pulled down by a 0
    assert "Rutland not published ('-'), left out" in row["note"]
    # An authority that is more than 5% of the force area and not published: the year is not available.
    thin = extract._youth_row("OFF10", "essex", dt.date(2018, 3, 31), [("Essex", 0.8, 41.43), ("Thurrock", 0.2, None)])
    assert thin["value"] == "[x]" and "Thurrock" in thin["note"]


def test_the_england_first_time_entrant_row_is_not_used(youth):
    row = _find(youth, "OFF04", "england", dt.date(2016, 12, 31))
    # The source's England row (3,071 for 2016) is the sum of the nine regional rates (307 to 417).
    assert float(row["value"]) != 3071
    assert 237 < float(row["value"]) < 417
    assert "not used" in row["note"]
    assert _find(youth, "OFF10", "england", dt.date(2024, 3, 31))["value"] not in ("-", "0")


# --- local areas (issue 14) ---------------------------------------------------------------------------------
def test_local_areas_are_the_areas_under_staffordshire(areas):
    assert [a["code"] for a in areas.lowest_local] == [
        "stoke-on-trent",
        "cannock-chase",
        "east-staffordshire",
        "lichfield",
        "newcastle-under-lyme",
        "south-staffordshire",
        "stafford",
        "staffordshire-moorlands",
        "tamworth",
    ]
    assert {a["code"] for a in areas.local} - {a["code"] for a in areas.lowest_local} == {"staffordshire-county"}
    # the nine populations (Census 2011) add up to the county and Stoke-on-Trent
    assert sum(a["population"] for a in areas.lowest_local) == 848489 + 249008


def test_crime_severity_traps_on_the_real_rows():
    scores = extract.crime_severity_scores(SHARED)
    assert scores["E07000192"] == (13.1821, "")  # Cannock Chase, 13.18210… in the source
    assert scores["E06000021"][0] == pytest.approx(24.8456)  # Stoke-on-Trent
    # ':' is not published (City of London; Devon and Cornwall 2022/23): missing, never 0
    assert scores["E09000001"] == (None, "not published (':')")
    assert scores["E06000026"][0] is None
    # a council merged from old districts has one row per old partnership: not available, not one picked
    value, note = scores["E06000058"]  # Bournemouth, Christchurch and Poole: 3 rows
    assert value is None and note.startswith("3 rows")
    assert scores["E06000061"][0] is None  # North Northamptonshire: 2 rows


def test_crime_severity_rows_for_the_districts_and_stoke(areas):
    rows = {r["area"]: r for r in extract.crime_severity(SHARED, areas)}
    assert len(rows) == 9 and "staffordshire" not in rows and "staffordshire-county" not in rows
    assert rows["tamworth"]["value"] == "13.5445" and rows["tamworth"]["period"] == dt.date(2023, 3, 31)


def test_youth_figures_for_the_county_and_stoke_on_trent_are_the_published_rates(youth, areas):
    assert extract.youth_local_areas(SHARED, areas) == {860: "staffordshire-county", 861: "stoke-on-trent"}
    # 2016 rates in the source: Staffordshire (county) 232, Stoke-on-Trent 552 per 100,000: not combined
    assert _find(youth, "OFF04", "staffordshire-county", dt.date(2016, 12, 31))["value"] == "232"
    assert _find(youth, "OFF04", "stoke-on-trent", dt.date(2016, 12, 31))["value"] == "552"
    assert _find(youth, "OFF10", "stoke-on-trent", dt.date(2024, 3, 31))["value"] == "22.34"
    assert not [r for r in youth if r["area"] in {"cannock-chase", "tamworth"}]  # no district figures exist


def test_illustrative_local_crime_adds_up_to_the_force_area_and_says_it_is_made_up(areas):
    police = [
        {"metric": "OFF01", "area": "staffordshire", "period": d.isoformat(), "value": "20000"}
        for d in [extract._quarter_end(i) for i in range(extract.ILLUSTRATIVE_QUARTERS - 1)]
    ]
    severity = extract.crime_severity(SHARED, areas)
    rows = extract.illustrative_local_crime(police, areas, severity)
    assert rows == extract.illustrative_local_crime(police, areas, severity)  # fixed seed: the same every run
    assert all(r["illustrative"] == "yes" and r["note"].startswith("Illustrative") for r in rows)
    first = extract._quarter_end(0).isoformat()
    counts = [int(r["value"]) for r in rows if r["metric"] == "OFF01" and r["period"] == first]
    assert len(counts) == 9 and sum(counts) == 20000
    # the open round's quarter (after the source ends) borrows the same quarter a year before
    last = extract._quarter_end(extract.ILLUSTRATIVE_QUARTERS - 1).isoformat()
    assert sum(int(r["value"]) for r in rows if r["metric"] == "OFF01" and r["period"] == last) == 20000
    stoke = next(r for r in rows if r["metric"] == "OFF02" and r["area"] == "stoke-on-trent")
    assert stoke["denominator"] == "249008" and float(stoke["value"]) == pytest.approx(
        int(stoke["numerator"]) / 249008 * 1000, abs=1e-4
    )
