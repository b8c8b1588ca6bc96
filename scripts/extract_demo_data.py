#!/usr/bin/env python
"""Make the demo's canonical data files from the real published statistics.

    python scripts/extract_demo_data.py [--published ../shared/data/published] [--out fixtures/demo]

Reads the files in ``shared/data/published`` exactly as published (their traps included) and writes
long-format data files in the CONTRACT §2 format, one per supplying agency, which ``seed_demo`` imports
through the same pipeline as any agency's file. Run it again after the published files change and commit
the result: a fresh clone needs only ``fixtures/``. Nothing here invents a figure: where the source has
no value, there is no row, or a ``[x]`` row where a figure is known to be missing.

What it does with each source (see each folder's SOURCE.txt):
- Police recorded crime (prc-force-quarterly): 43 forces, 2012/13 Q1 onwards (current counting rules),
  nine offence groups (fraud left out: recorded by Action Fraud since 2013). The source drops zero counts,
  so a missing group in a force-quarter that has other rows is written as 0. England and Wales is the
  sum of the 43 forces. Rates per 1,000 use ONS mid-year estimates (England, 2012–2019) and Census 2021
  (England and Wales, 2021/22 on).
- Stop and search by ethnicity (stop-search-ethnicity): months summed to whole quarters only
  (2022/23 Q1 – 2024/25 Q3); rates per 1,000 over Census 2021 populations of each group.
- CPS case outcomes (cps-case-outcomes): months summed to quarters that have all three months; year from
  the folder for month-only file names; numbers with thousands separators; 'National' is England and
  Wales; 'Metropolitan and City' has no single force area and is left out.
- National CJS series (cjs-national-quarterly): court backlogs, Crown Court starts, magistrates'
  convictions, charges, prison population, remand and recalls.
- Crime outcomes (police-outcomes-force-quarterly): the charge/summons rate (EFF09, outcome type 1) and
  the share closed because the victim does not support action (VW06, outcome 16), by offence group, 2017/18
  Q1 - 2018/19 Q4. Both are shares of the offences recorded in the quarter, counted as the quarter's
  outcomes of every type ("not yet assigned" included) from the column of outcomes for offences recorded
  in the quarter, not the column of outcomes assigned in it. Traps: forces are named, not coded (mapped
  through ALIASES and the framework's names; British Transport Police left out); the count column is
  'offences' in the 2017/18 file and 'force_outcomes_for_offences_recorded_in_quarter' in 2018/19; the
  2017/18 file keeps zero rows and ends with an empty row, the 2018/19 file drops rows whose counts are
  all zero, so an outcome with no row is 0 (written with a note); fraud is left out. England and Wales
  is the sum of the 43 forces.
- Arrests (arrests-force-ethnicity), FAIR05: arrests per 1,000 residents by self-defined ethnicity,
  2006/07 - 2017/18, one figure a year at 31 March. Denominators: Census 2011 usual residents by group
  and force area (police-workforce-demographics/police-defined-demographics.csv; Chinese counted with
  Other, as the Home Office groups them); the arrests folder's own population file is national with no
  ethnicity. Traps: Lancashire 2017/18 is NA in every row: written as [x] (missing, not zero), and
  England and Wales leaves Lancashire out of both numerator and denominator that year; the City of London
  has more arrests than residents in some groups, so its rates are [z].
- Stop and search with resultant arrests (stop-search-arrests-ethnicity-annual), FAIR06: arrests as a
  share of searches (all legislation) by self-defined ethnicity, 2006/07 - 2018/19. The source's '-',
  '..' and '*' were all read as NA upstream, so NA counts as none; a group with more arrests than searches
  in the source is [x]; 'Vehicle only' counts in the total only; British Transport Police left out.
- Crime Survey anti-social behaviour (ons-pfa-csew-asb-knife), VW07: Table P6 of the ONS police force area
  workbooks, years ending March 2018 and 2019 (the year is read from the sheet title). Traps: merged
  two-row headers (the block 'Any anti-social behaviour' spans its percentage and two significance
  columns), footnote markers glued to labels ('England and Wales2'), sheet names with trailing spaces,
  symbols in the significance columns (kept in the note). Force areas by ONS code plus England and Wales;
  the Metropolitan Police and City of London share one London row and are left out.
- Crime Survey confidence in the CJS (csew-cjs-perceptions-2018), FAIR04: 'fairova1dv' (confident the CJS
  as a whole is fair), adults 16+, England and Wales, year ending December 2018, by ethnic group. The
  copy holds proportions (the author divided by 100): written as percentages, base and standard error in
  the note.
- Youth justice (youth-justice-la), OFF04 first-time entrants per 100,000 aged 10-17 (calendar years,
  at 31 December) and OFF10 proven reoffending of 15-17 year olds (labelled years, at 31 March: the data
  dictionary calls them financial years with a January-March cohort), 2016-2024, for the home force area
  and its peers. Traps: values are text, '-' is not published (never 0) and floats carry binary noise
  (rounded to 2 dp); areas are DfE three-digit LA numbers, mapped to names through la_code_list.xlsx and
  placed in force areas through the ONS LAD -> CSP -> PFA lookup (a shire county goes to the force area of
  its name); a force area (Staffordshire = Staffordshire County + Stoke-on-Trent) is its authorities' rates
  weighted by Census 2011 population, as the source has no counts or 10-17 populations; an authority with
  '-' is left out when under 5% of the population (Rutland), else the year is [x]. England is the nine
  regions' rates weighted by mid-2011 population: the source's England first-time-entrant row is the sum
  of the regional rates and is not used.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import io
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIRST_PRC_YEAR = 2012  # 2012/13: current counting rules

OFFENCE_GROUPS = {
    "Violence against the person": "violence-against-the-person",
    "Sexual offences": "sexual-offences",
    "Robbery": "robbery",
    "Theft offences": "theft-offences",
    "Criminal damage and arson": "criminal-damage-and-arson",
    "Drug offences": "drug-offences",
    "Possession of weapons offences": "possession-of-weapons-offences",
    "Public order offences": "public-order-offences",
    "Miscellaneous crimes against society": "miscellaneous-crimes-against-society",
}
CPS_CATEGORIES = {
    "Homicide": "homicide",
    "Offences Against The Person": "offences-against-the-person",
    "Sexual Offences": "sexual-offences",
    "Burglary": "burglary",
    "Robbery": "robbery",
    "Theft And Handling": "theft-and-handling",
    "Fraud And Forgery": "fraud-and-forgery",
    "Criminal Damage": "criminal-damage",
    "Drugs Offences": "drugs-offences",
    "Public Order Offences": "public-order-offences",
    "All Other Offences (excluding Motoring)": "all-other-offences",
    "Motoring Offences": "motoring-offences",
}
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
HEADER = ["metric", "area", "period", "breakdown", "category", "value", "numerator", "denominator", "status", "note"]
ILLUSTRATIVE_HEADER = [*HEADER, "illustrative"]

# Spellings of force names across publishers -> area code (the framework file's codes).
ALIASES = {
    "avon & somerset": "avon-and-somerset",
    "avon and somerset constabulary": "avon-and-somerset",
    "devon & cornwall": "devon-and-cornwall",
    "london, city of": "city-of-london",
    "city of london": "city-of-london",
    "metropolitan police": "metropolitan",
    "west midlands": "west-midlands-police",
    "greatermanchester": "greater-manchester",
    "dyfed powys": "dyfed-powys",
    "national": "england-wales",
}


def quarter_end(fy_start: int, number: int) -> dt.date:
    year = fy_start + 1 if number == 4 else fy_start
    month = {1: 6, 2: 9, 3: 12, 4: 3}[number]
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter_of_month(year: int, month: int) -> dt.date:
    end_month = ((month - 1) // 3 + 1) * 3
    return dt.date(year, end_month, calendar.monthrange(year, end_month)[1])


class AreaCodes:
    def __init__(self, framework_file: Path):
        doc = yaml.safe_load(framework_file.read_text(encoding="utf-8"))
        self.by_name = {}
        self.by_ons = {}
        self.names = {area["code"]: area["name"] for area in doc["areas"]}
        for area in doc["areas"]:
            self.by_name[self._norm(area["name"])] = area["code"]
            self.by_name[self._norm(area["code"])] = area["code"]
            if area.get("ons_code"):
                self.by_ons[area["ons_code"]] = area["code"]
        self.forces = [a["code"] for a in doc["areas"] if a["type"] == "police_force_area"]
        self.home = doc["framework"].get("home_area")
        groups = {g["code"]: g["members"] for g in doc.get("peer_groups", [])}
        self.peers = groups.get(doc["framework"].get("peer_group"), [])
        # Local areas: every area under the home area (at any depth), as the framework file lists them.
        parent = {a["code"]: a.get("parent") for a in doc["areas"]}

        def under_home(code: str) -> bool:
            seen: set[str] = set()
            while parent.get(code) and code not in seen:
                seen.add(code)
                code = parent[code]
                if code == self.home:
                    return True
            return False

        self.local = [a for a in doc["areas"] if under_home(a["code"])]
        parents = {a.get("parent") for a in self.local}
        self.lowest_local = [a for a in self.local if a["code"] not in parents]

    @staticmethod
    def _norm(name: str) -> str:
        return re.sub(r"\s+", " ", name.strip().lower())

    def code(self, name: str) -> str | None:
        norm = self._norm(name)
        return ALIASES.get(norm) or self.by_name.get(norm) or self.by_name.get(norm.replace("&", "and"))


def fmt(number: float) -> str:
    return f"{number:.10g}" if number != int(number) else str(int(number))


def write(path: Path, rows: list[dict[str, object]], header: list[str] = HEADER) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    print(f"{path}: {len(rows)} rows", file=sys.stderr)


def populations(
    published: Path, areas: AreaCodes
) -> tuple[dict[tuple[str, int], float], dict[str, float], dict[tuple[str, str], float]]:
    """Mid-year estimates by (area, year); Census 2021 totals by area; Census 2021 by (area, ethnicity)."""
    mye = pd.read_csv(published / "population-pfa-la" / "population_policeforces.csv")
    by_year: dict[tuple[str, int], float] = {}
    for column in mye.columns[1:]:
        code = areas.code(column)
        if code is None:
            raise SystemExit(f"population: unknown force '{column}'")
        for year, value in zip(mye["year"], mye[column], strict=True):
            by_year[(code, int(year))] = float(value)
    census = pd.read_csv(published / "stop-search-ethnicity" / "master_census_df.csv")
    census["area"] = census["police_force_code"].map(areas.by_ons)
    if census["area"].isna().any():
        raise SystemExit(
            "census: unknown force codes " + str(census.loc[census["area"].isna(), "police_force_code"].unique())
        )
    totals = census.groupby("area")["census_pop"].sum().astype(float).to_dict()
    by_group = census.groupby(["area", "ethnicity_simple"])["census_pop"].sum().astype(float)
    groups = {(a, e.lower()): v for (a, e), v in by_group.items()}
    return by_year, totals, groups


def police_recorded_crime(
    published: Path, areas: AreaCodes, mye: dict[tuple[str, int], float], census: dict[str, float]
) -> list[dict[str, object]]:
    prc = pd.read_csv(published / "prc-force-quarterly" / "combined_df FINAL 2023 Q4 added.converted.csv")
    prc = prc[prc["Offence Group"].isin(OFFENCE_GROUPS)]
    prc["fy_start"] = prc["Financial Year"].str[:4].astype(int)
    prc = prc[prc["fy_start"] >= FIRST_PRC_YEAR]
    prc["area"] = prc["Force Name"].map(areas.code)
    unknown = prc.loc[prc["area"].isna(), "Force Name"].unique()
    if len(unknown):
        raise SystemExit(f"recorded crime: unknown forces {list(unknown)}")
    counts: dict[tuple[str, dt.date], dict[str, float]] = defaultdict(dict)
    for area, fy, q, group, n in prc[
        ["area", "fy_start", "Financial Quarter", "Offence Group", "Number of Offences"]
    ].itertuples(index=False):
        counts[(area, quarter_end(int(fy), int(q)))][OFFENCE_GROUPS[group]] = float(n)
    rows: list[dict[str, object]] = []
    national: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    forces_in_quarter: dict[dt.date, int] = defaultdict(int)
    for (area, period), groups in sorted(counts.items()):
        forces_in_quarter[period] += 1
        total = 0.0
        for group in OFFENCE_GROUPS.values():
            n = groups.get(group, 0.0)
            note = "" if group in groups else "0: the source drops rows with no offences"
            total += n
            national[period][group] += n
            rows.append(
                {
                    "metric": "OFF01",
                    "area": area,
                    "period": period,
                    "breakdown": "offence-group",
                    "category": group,
                    "value": fmt(n),
                    "status": "final",
                    "note": note,
                }
            )
        rows.append({"metric": "OFF01", "area": area, "period": period, "value": fmt(total), "status": "final"})
        fy_start = period.year - 1 if period.month == 3 else period.year
        population = mye.get((area, fy_start)) if fy_start <= 2019 else (census.get(area) if fy_start >= 2021 else None)
        if population:
            source = "ONS mid-year estimate " + str(fy_start) if fy_start <= 2019 else "Census 2021"
            for metric, n in (
                ("OFF02", total),
                ("OFF08", groups.get("violence-against-the-person", 0.0)),
                ("OFF09", groups.get("sexual-offences", 0.0)),
            ):
                rows.append(
                    {
                        "metric": metric,
                        "area": area,
                        "period": period,
                        "numerator": fmt(n),
                        "denominator": fmt(population),
                        "status": "final",
                        "note": f"population: {source}",
                    }
                )
    for period, groups in sorted(national.items()):
        if forces_in_quarter[period] != len(areas.forces):
            continue
        for group, n in groups.items():
            rows.append(
                {
                    "metric": "OFF01",
                    "area": "england-wales",
                    "period": period,
                    "breakdown": "offence-group",
                    "category": group,
                    "value": fmt(n),
                    "status": "final",
                }
            )
        rows.append(
            {
                "metric": "OFF01",
                "area": "england-wales",
                "period": period,
                "value": fmt(sum(groups.values())),
                "status": "final",
                "note": "sum of the 43 forces",
            }
        )
    return rows


def stop_and_search(
    published: Path, areas: AreaCodes, census: dict[str, float], census_groups: dict[tuple[str, str], float]
) -> list[dict[str, object]]:
    sns = pd.read_csv(published / "stop-search-ethnicity" / "master_sns_df.csv", parse_dates=["year_month"])
    sns["area"] = sns["police_force_code"].map(areas.by_ons)
    sns["period"] = [quarter_of_month(d.year, d.month) for d in sns["year_month"]]
    months = sns.groupby("period")["year_month"].nunique()
    whole = set(months[months == 3].index)
    sns = sns[sns["period"].isin(whole)]
    by_group = sns.groupby(["area", "period", "ethnicity_simple"])["sns_count"].sum()
    rows: list[dict[str, object]] = []
    for (area, period), block in by_group.groupby(level=[0, 1]):
        counts = {eth.lower(): float(n) for (_, _, eth), n in block.items()}
        total = sum(counts.values())
        for group in ("white", "black", "asian", "mixed", "other"):
            n = counts.get(group, 0.0)
            rows.append(
                {
                    "metric": "FAIR02",
                    "area": area,
                    "period": period,
                    "breakdown": "ethnicity",
                    "category": group,
                    "value": fmt(n),
                    "status": "final",
                }
            )
            rows.append(
                {
                    "metric": "FAIR01",
                    "area": area,
                    "period": period,
                    "breakdown": "ethnicity",
                    "category": group,
                    "numerator": fmt(n),
                    "denominator": fmt(census_groups[(area, group)]),
                    "status": "final",
                }
            )
        rows.append({"metric": "FAIR02", "area": area, "period": period, "value": fmt(total), "status": "final"})
        rows.append(
            {
                "metric": "FAIR01",
                "area": area,
                "period": period,
                "numerator": fmt(total),
                "denominator": fmt(census[area]),
                "status": "final",
            }
        )
        known = total - counts.get("unknown", 0.0)
        if total:
            rows.append(
                {
                    "metric": "FAIR03",
                    "area": area,
                    "period": period,
                    "numerator": fmt(known),
                    "denominator": fmt(total),
                    "status": "final",
                }
            )
    return rows


def _int(text: object) -> float:
    return float(str(text).replace(",", ""))


def cps_outcomes(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    monthly: dict[tuple[str, dt.date], dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    months_seen: dict[dt.date, set[int]] = defaultdict(set)
    skipped: set[str] = set()
    for path in sorted((published / "cps-case-outcomes").glob("*/*.csv")):
        stem = path.stem.removeprefix("principal_offence_category_")
        month_name = stem.split("_")[0].lower()
        year = int(path.parent.name)  # month-only names take the year from their folder
        month = MONTHS[month_name]
        period = quarter_of_month(year, month)
        months_seen[period].add(month)
        table = pd.read_csv(path, dtype=str)
        for _, line in table.iterrows():
            area = areas.code(str(line.iloc[0]))
            if area is None:
                skipped.add(str(line.iloc[0]))
                continue
            for label, code in CPS_CATEGORIES.items():
                monthly[(area, period)][(code, "conv")] += _int(line[f"Number of {label} Convictions"])
                monthly[(area, period)][(code, "unsucc")] += _int(line[f"Number of {label} Unsuccessful"])
            monthly[(area, period)][("", "admin")] += _int(line["Number of Admin Finalised Unsuccessful"])
    print(f"CPS areas with no single force area, left out: {sorted(skipped)}", file=sys.stderr)
    rows: list[dict[str, object]] = []
    for (area, period), sums in sorted(monthly.items()):
        if len(months_seen[period]) != 3:
            continue
        total_conv = total_all = 0.0
        for code in CPS_CATEGORIES.values():
            conv, unsucc = sums[(code, "conv")], sums[(code, "unsucc")]
            total_conv += conv
            total_all += conv + unsucc
            row: dict[str, object] = {
                "metric": "EFF05",
                "area": area,
                "period": period,
                "breakdown": "cps-offence",
                "category": code,
                "status": "final",
            }
            if conv + unsucc:
                row.update(numerator=fmt(conv), denominator=fmt(conv + unsucc))
            else:
                row.update(value="-", note="no prosecutions completed")
            rows.append(row)
        rows.append(
            {
                "metric": "EFF05",
                "area": area,
                "period": period,
                "numerator": fmt(total_conv),
                "denominator": fmt(total_all),
                "status": "final",
            }
        )
        rows.append(
            {"metric": "EFF06", "area": area, "period": period, "value": fmt(sums[("", "admin")]), "status": "final"}
        )
    return rows


NATIONAL_SERIES = {
    # metric: (sheet, column)
    "EFF01": ("population", "court__case_backlog_cc"),
    "EFF02": ("population", "court__case_backlog_mc"),
    "EFF03": ("court", "court___cc_start"),
    "EFF07": ("court", "court___mc_convictions"),
    "OFF05": ("population", "prison__population__total"),
    "OFF06": ("population", "prison__population__remand"),
    "OFF07": ("prison", "prison__receptions__recall_admissions"),
}


def national_series(published: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Rows for HMCTS and HMPPS, and for the police (charges)."""
    path = published / "cjs-national-quarterly" / "hack_hmt_criminal_justice_data.xlsx"
    sheets = pd.read_excel(path, sheet_name=["police", "court", "prison", "population"], dtype={"quarter_ending": str})
    justice: list[dict[str, object]] = []
    for metric, (sheet, column) in NATIONAL_SERIES.items():
        for ending, value in zip(sheets[sheet]["quarter_ending"], sheets[sheet][column], strict=True):
            year, month = (int(x) for x in str(ending)[:7].split("-"))
            justice.append(
                {
                    "metric": metric,
                    "area": "england-wales",
                    "period": quarter_of_month(year, month),
                    "value": fmt(round(float(value))),
                    "status": "final",
                }
            )
    police: list[dict[str, object]] = []
    frame = sheets["police"]
    for ending, charges, other in zip(
        frame["quarter_ending"], frame["police__charges"], frame["police__non_police_charges"], strict=True
    ):
        year, month = (int(x) for x in str(ending)[:7].split("-"))
        police.append(
            {
                "metric": "EFF04",
                "area": "england-wales",
                "period": quarter_of_month(year, month),
                "value": fmt(round(float(charges) + float(other))),
                "status": "final",
            }
        )
    return justice, police


# --- illustrative local returns ------------------------------------------------------------------------
# Measures no public source publishes by area (victim satisfaction, Victims' Code compliance, witness
# attendance, Crown Court timeliness, adult proven reoffending) are local returns in a real partnership. The
# demo fills them for Staffordshire with made-up figures so every screen has content; each row says
# ``illustrative: yes`` and every page, pack and API answer that shows one labels it. They are drawn from a
# fixed seed, so the files are the same on every run.
ILLUSTRATIVE_FIRST = (2019, 2)  # 2019/20 Q1 (April to June 2019): (calendar year, quarter of the calendar year)
ILLUSTRATIVE_QUARTERS = 21  # to 2024/25 Q1, the quarter of the demo's open collection round
# code: (agency, level at the start, change a quarter, noise, sample size (None: a plain value), decimals)
ILLUSTRATIVE_SERIES: dict[str, tuple[str, float, float, float, int | None, int]] = {
    "VW01": ("police", 76.0, -0.25, 1.6, 420, 1),  # survey respondents a quarter
    "VW02": ("victim-services", 84.0, 0.35, 2.0, 150, 1),  # cases audited a quarter
    "VW05": ("victim-services", 86.5, -0.05, 1.0, 1600, 1),  # witnesses warned to attend
    "EFF08": ("hmcts", 285.0, 7.5, 12.0, None, 0),  # days
    "OFF03": ("probation", 26.2, -0.08, 0.4, 1900, 1),  # adults in the 12-month cohort
}


def _quarter_end(index: int) -> dt.date:
    year, quarter = ILLUSTRATIVE_FIRST
    quarter += index
    year += (quarter - 1) // 4
    quarter = (quarter - 1) % 4 + 1
    return dt.date(year, quarter * 3, calendar.monthrange(year, quarter * 3)[1])


def illustrative_local_returns(home: str = "staffordshire") -> dict[str, list[dict[str, object]]]:
    """Made-up quarterly figures for the home area, one list of rows per supplying agency."""
    import random

    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for code, (agency, level, slope, noise, sample, decimals) in ILLUSTRATIVE_SERIES.items():
        rng = random.Random(f"pcc-perf demo {code}")  # noqa: S311 - made-up demo figures, not security
        for i in range(ILLUSTRATIVE_QUARTERS):
            value = level + slope * i + rng.gauss(0, noise)
            row: dict[str, object] = {"metric": code, "area": home, "period": _quarter_end(i).isoformat()}
            if sample is None:
                row["value"] = fmt(round(value, decimals))
            else:
                size = int(sample * (1 + rng.uniform(-0.08, 0.08)))
                hits = max(0, min(size, round(value / 100 * size)))
                row.update(value=fmt(round(hits / size * 100, decimals)), numerator=hits, denominator=size)
            row.update(status="final", note="Illustrative figure made up for the demo", illustrative="yes")
            out[agency].append(row)
    return out


# --- local areas: ONS crime severity score 2022/23 by district (CSS01) ------------------------------------
CSS_PERIOD = dt.date(2023, 3, 31)  # financial year 2022/23, at the quarter it ends
CSS_FILES = ("england_crime_severity.csv", "wales_crime_severity.csv")


def crime_severity_scores(published: Path) -> dict[str, tuple[float | None, str]]:
    """The crime severity score 2022/23 by 2023 local authority code: (score, note), or (None, why not).

    Traps (SOURCE.txt): ':' is not published (City of London, Devon and Cornwall); a council merged from old
    districts has one row per old community safety partnership, with different scores, so it is left out as
    not available rather than picking one row or adding them up."""
    found: dict[str, list[str]] = defaultdict(list)
    for name in CSS_FILES:
        frame = pd.read_csv(published / "crime-severity-la-2022-23" / name, dtype=str, keep_default_na=False)
        for code, value in zip(frame["ltla23_code"], frame["crime_severity_score"], strict=True):
            found[code.strip()].append(value.strip())
    out: dict[str, tuple[float | None, str]] = {}
    for code, values in found.items():
        if len(values) > 1:
            out[code] = (None, f"{len(values)} rows (one per old community safety partnership): not available")
        elif values[0] in (":", ""):
            out[code] = (None, "not published (':')")
        else:
            out[code] = (round(float(values[0]), 4), "")
    return out


def crime_severity(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    """CSS01 for each lowest local area of the home area (its districts and unitary authorities)."""
    scores = crime_severity_scores(published)
    rows: list[dict[str, object]] = []
    for area in areas.lowest_local:
        if area.get("ons_code") not in scores:
            raise SystemExit(f"crime severity: no row for {area['code']} ({area.get('ons_code')})")
        value, note = scores[area["ons_code"]]
        row: dict[str, object] = {"metric": "CSS01", "area": area["code"], "period": CSS_PERIOD, "status": "final"}
        row.update(value=fmt(value) if value is not None else "[x]", note=note or f"ONS, LAD {area['ons_code']}")
        rows.append(row)
    return rows


# --- local areas: illustrative recorded crime (OFF01, OFF02) -----------------------------------------------
def illustrative_local_crime(
    police: list[dict[str, object]], areas: AreaCodes, severity: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Made-up quarterly recorded crime for each lowest local area (no public source by district over time is
    held): the home area's real total for the quarter (for a quarter after the source ends, the same quarter a
    year before) shared by the areas' populations times their crime severity score 2022/23 (so busier areas
    get more), with random variation, so the areas add up to the force area; and the rate per 1,000 residents on the framework's (Census 2011) population. Fixed seed: the same
    file on every run; every row ``illustrative: yes``."""
    import random

    totals = {
        str(r["period"]): float(str(r["value"]))
        for r in police
        if r["metric"] == "OFF01" and r["area"] == areas.home and not r.get("category")
    }
    local = areas.lowest_local
    score = {str(r["area"]): float(str(r["value"])) for r in severity if r["value"] != "[x]"}
    weights = [float(a["population"]) * score[a["code"]] for a in local]
    rng = random.Random("pcc-perf demo local recorded crime")  # noqa: S311 - made-up demo figures, not security
    rows: list[dict[str, object]] = []
    for i in range(ILLUSTRATIVE_QUARTERS):
        period = _quarter_end(i)
        year_before = period.replace(year=period.year - 1)
        total = totals.get(period.isoformat()) or totals[year_before.isoformat()]
        shares = [w * (1 + rng.gauss(0, 0.06)) for w in weights]
        exact = [total * s / sum(shares) for s in shares]
        counts = [int(x) for x in exact]
        for k in sorted(range(len(exact)), key=lambda k: counts[k] - exact[k])[: int(total) - sum(counts)]:
            counts[k] += 1  # largest remainders: the areas add up to the force area's total
        for area, count in zip(local, counts, strict=True):
            note = "Illustrative figure made up for the demo"
            base = {"area": area["code"], "period": period.isoformat(), "status": "final", "illustrative": "yes"}
            rows.append({"metric": "OFF01", **base, "value": fmt(count), "note": note})
            rows.append(
                {
                    "metric": "OFF02",
                    **base,
                    "value": fmt(round(count / area["population"] * 1000, 4)),
                    "numerator": fmt(count),
                    "denominator": fmt(area["population"]),
                    "note": f"{note}; population: Census 2011",
                }
            )
    return rows


# --- Home Office crime outcomes: charge/summons rate (EFF09) and outcome 16 (VW06) ---------------------------
OUTCOME_FILES = {
    # file: its column of "outcomes (as at the snapshot) of the offences recorded in the quarter"
    "outcomes_2017-18_by_force_quarter.csv.gz": "offences",
    "outcomes_2018-19_by_force_quarter.csv.gz": "force_outcomes_for_offences_recorded_in_quarter",
}
OUTCOME_METRICS = {"EFF09": 1, "VW06": 16}  # metric: outcome type (1 charged/summonsed; 16 victim does not support)
NO_FORCE_AREA = {"british transport police"}  # national police force with no force area in the framework

Cells = dict[tuple[str, dt.date, str], dict[int, float]]


def outcome_counts(published: Path, areas: AreaCodes) -> Cells:
    """Outcomes of the offences recorded in each quarter, by (force area, quarter end, offence group) and
    outcome type (type 0 = not yet assigned), from both yearly files. An outcome type with no row in the
    source is absent from its dict (the 2018/19 file drops all-zero rows: absent means 0); fraud
    ("outcomes only", recorded by Action Fraud) and British Transport Police are left out."""
    counts: Cells = defaultdict(dict)
    keys = ["force_name", "financial_year", "financial_quarter", "offence_group", "outcome_type"]
    for name, column in OUTCOME_FILES.items():
        frame = pd.read_csv(
            published / "police-outcomes-force-quarterly" / name,
            dtype=str,
            keep_default_na=False,
            usecols=[*keys, column],
        )
        frame = frame[~(frame == "NA").all(axis=1)]  # the 2017/18 file ends with an empty row
        frame = frame[
            ~frame["force_name"].str.lower().isin(NO_FORCE_AREA) & ~frame["offence_group"].str.startswith("Fraud")
        ]
        if (frame[column] == "NA").any():
            raise SystemExit(f"outcomes: {name} has rows with no count in '{column}'")
        sums = frame.assign(count=frame[column].astype(float)).groupby(keys)["count"].sum()
        for (force, year, quarter, group, kind), n in sums.items():
            area = areas.code(str(force))
            if area is None:
                raise SystemExit(f"outcomes: unknown force '{force}'")
            if group not in OFFENCE_GROUPS:
                raise SystemExit(f"outcomes: unknown offence group '{group}'")
            period = quarter_end(int(str(year)[:4]), int(float(quarter)))  # '1.0' in the 2017/18 file
            counts[(area, period, OFFENCE_GROUPS[str(group)])][int(kind)] = float(n)
    return counts


def police_outcomes(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    counts = outcome_counts(published, areas)
    by_quarter: dict[tuple[str, dt.date], dict[str, dict[int, float]]] = defaultdict(dict)
    for (area, period, group), kinds in counts.items():
        by_quarter[(area, period)][group] = kinds
    national: dict[dt.date, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    forces_in_quarter: dict[dt.date, int] = defaultdict(int)
    for (_, period), groups in by_quarter.items():
        forces_in_quarter[period] += 1
        for group, kinds in groups.items():
            for kind, n in kinds.items():
                national[period][group][kind] = national[period][group].get(kind, 0.0) + n
    for period, count in forces_in_quarter.items():
        if count == len(areas.forces):
            by_quarter[("england-wales", period)] = dict(national[period])
    rows: list[dict[str, object]] = []
    for (area, period), groups in sorted(by_quarter.items()):
        for metric, kind in OUTCOME_METRICS.items():
            total_n = total_d = 0.0
            for group in OFFENCE_GROUPS.values():
                kinds = groups.get(group, {})
                recorded = sum(kinds.values())
                n = kinds.get(kind, 0.0)
                total_n += n
                total_d += recorded
                row: dict[str, object] = {
                    "metric": metric,
                    "area": area,
                    "period": period,
                    "breakdown": "offence-group",
                    "category": group,
                    "status": "final",
                }
                if not recorded:
                    row.update(value="[z]", note="no offences recorded in the quarter")
                else:
                    row.update(numerator=fmt(n), denominator=fmt(recorded))
                    if kind not in kinds:
                        row["note"] = "0: the source has no row for this outcome (it drops all-zero rows)"
                rows.append(row)
            note = "sum of the 43 forces" if area == "england-wales" else ""
            rows.append(
                {
                    "metric": metric,
                    "area": area,
                    "period": period,
                    "numerator": fmt(total_n),
                    "denominator": fmt(total_d),
                    "status": "final",
                    "note": note,
                }
            )
    return rows


# --- Arrests (FAIR05) and stop and search resultant arrests (FAIR06) by self-defined ethnicity ---------------
ETHNIC_GROUPS = {  # the Home Office's self-defined 5+1 groups -> the breakdown's categories
    "white": "white",
    "black or black british": "black",
    "asian or asian british": "asian",
    "mixed": "mixed",
    "chinese/other": "other",
    "chinese or other ethnic group": "other",
    "not stated": "not-stated",
}
GROUPS_WITH_POPULATION = ("white", "black", "asian", "mixed", "other")
CENSUS_2011_GROUPS = {  # police-defined-demographics.csv column -> category (Chinese counts as 'other')
    "White": "white",
    "Black (or Black British)": "black",
    "Asian (or Asian British)": "asian",
    "Mixed": "mixed",
    "Chinese": "other",
    "Other": "other",
}


def year_end(financial_year: str) -> dt.date:
    """'2017/18' -> 2018-03-31, the quarter end the year ends at (basis: annual)."""
    return dt.date(int(financial_year[:4]) + 1, 3, 31)


def census_2011_by_ethnicity(published: Path, areas: AreaCodes) -> dict[str, dict[str, float]]:
    """Census 2011 usual residents by force area and group (white, black, asian, mixed, other), and
    'total' (every group)."""
    frame = pd.read_csv(published / "police-workforce-demographics" / "police-defined-demographics.csv")
    out: dict[str, dict[str, float]] = {}
    for record in frame.to_dict("records"):
        area = areas.code(str(record["Police force"]))
        if area is None:
            raise SystemExit(f"census 2011: unknown force '{record['Police force']}'")
        groups: dict[str, float] = defaultdict(float)
        for column, category in CENSUS_2011_GROUPS.items():
            groups[category] += float(record[column])
        groups["total"] = sum(float(record[c]) for c in CENSUS_2011_GROUPS)
        out[area] = dict(groups)
    return out


def arrests_by_ethnicity(published: Path, areas: AreaCodes) -> dict[tuple[str, dt.date], dict[str, float] | None]:
    """Arrests by (force area, year end) and category (plus 'total', which counts 'not stated' too); None
    where the source has no figures for the force and year (Lancashire 2017/18: every row NA)."""
    frame = pd.read_csv(
        published / "arrests-force-ethnicity" / "arrests_2006-07_to_2017-18_by_force.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    out: dict[tuple[str, dt.date], dict[str, float] | None] = {}
    for (force, year), block in frame.groupby(["force_name", "financial_year"]):
        area = areas.code(str(force))
        if area is None:
            raise SystemExit(f"arrests: unknown force '{force}'")
        missing = block["arrests"] == "NA"
        if missing.all():
            out[(area, year_end(str(year)))] = None
            continue
        if missing.any():
            raise SystemExit(f"arrests: {force} {year} has some figures missing, not all")
        counts: dict[str, float] = defaultdict(float)
        for group, n in zip(block["ethnic_group"], block["arrests"], strict=True):
            counts[ETHNIC_GROUPS[group.lower()]] += float(n)
            counts["total"] += float(n)
        out[(area, year_end(str(year)))] = dict(counts)
    return out


def arrest_rates(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    census = census_2011_by_ethnicity(published, areas)
    arrests = arrests_by_ethnicity(published, areas)
    rows: list[dict[str, object]] = []
    national: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    national_population: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    left_out: dict[dt.date, list[str]] = defaultdict(list)
    for (area, period), counts in sorted(arrests.items()):
        keys: tuple[str, ...] = (*GROUPS_WITH_POPULATION, "total")
        if counts is None:
            left_out[period].append(area)
            note = "not supplied: the source has no arrests figures for this force and year (missing, not zero)"
            for key in keys:
                rows.append(_breakdown_row("FAIR05", area, period, key, {"value": "[x]", "note": note}))
            continue
        for key in keys:
            n, population = counts.get(key, 0.0), census[area][key]
            national[period][key] += n
            national_population[period][key] += population
            if any(counts.get(k, 0.0) > census[area][k] for k in keys):
                # the City of London: more arrests than residents in some groups
                note = f"not applicable: a rate per resident (Census 2011: {fmt(census[area]['total'])}) does not describe its arrests"
                rows.append(_breakdown_row("FAIR05", area, period, key, {"value": "[z]", "note": note}))
            else:
                rows.append(
                    _breakdown_row("FAIR05", area, period, key, {"numerator": fmt(n), "denominator": fmt(population)})
                )
    for period, counts in sorted(national.items()):
        names = ", ".join(sorted(areas.names[a] for a in left_out[period]))
        note = f"England and Wales without {names} (no figures)" if names else "sum of the 43 forces"
        for key in (*GROUPS_WITH_POPULATION, "total"):
            rows.append(
                _breakdown_row(
                    "FAIR05",
                    "england-wales",
                    period,
                    key,
                    {
                        "numerator": fmt(counts[key]),
                        "denominator": fmt(national_population[period][key]),
                        "note": note if key == "total" else "",
                    },
                )
            )
    return rows


def _breakdown_row(metric: str, area: str, period: dt.date, key: str, fields: dict[str, str]) -> dict[str, object]:
    """A row of an ethnicity breakdown (``key`` a category) or the total (``key`` 'total')."""
    row: dict[str, object] = {"metric": metric, "area": area, "period": period, "status": "final"}
    if key != "total":
        row.update(breakdown="ethnicity", category=key)
    row.update(fields)
    return row


def search_arrests(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    """Stop and searches resulting in arrest (%), all legislation, by force area, year and group."""
    frame = pd.read_csv(
        published
        / "stop-search-arrests-ethnicity-annual"
        / "search_arrests_by_force_ethnicity_2006-07_to_2018-19.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    sums: dict[tuple[str, dt.date], dict[str, list[float]]] = {}
    for (force, ending), block in frame.groupby(["force_name", "year_ending"]):
        if str(force).lower() in NO_FORCE_AREA:
            continue
        area = areas.code(str(force))
        if area is None:
            raise SystemExit(f"stop and search arrests: unknown force '{force}'")
        if (block["searches"] == "NA").all():
            continue  # no figures at all for the force and year
        cells: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for group, searches, arrests in block[
            ["ethnic_group_self_defined", "searches", "resultant_arrests"]
        ].itertuples(index=False):
            key = ETHNIC_GROUPS.get(group.lower(), "")  # 'Vehicle only' counts in the total only
            for target in (key, "total") if key else ("total",):
                cells[target][0] += 0.0 if searches == "NA" else float(searches)
                cells[target][1] += 0.0 if arrests == "NA" else float(arrests)
        sums[(area, dt.date.fromisoformat(str(ending)))] = dict(cells)
    national: dict[dt.date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    forces_in_year: dict[dt.date, int] = defaultdict(int)
    for (_, period), cells in sums.items():
        forces_in_year[period] += 1
        for key, (searches, arrests) in cells.items():
            national[period][key][0] += searches
            national[period][key][1] += arrests
    for period, count in forces_in_year.items():
        if count == len(areas.forces):
            sums[("england-wales", period)] = dict(national[period])
    rows: list[dict[str, object]] = []
    for (area, period), cells in sorted(sums.items()):
        for key in (*GROUPS_WITH_POPULATION, "not-stated", "total"):
            searches, arrests = cells.get(key, [0.0, 0.0])
            if not searches:
                fields = {"value": "[z]", "note": "no searches"}
            elif arrests > searches:
                fields = {
                    "value": "[x]",
                    "note": f"the source has more resultant arrests ({fmt(arrests)}) than searches ({fmt(searches)})",
                }
            else:
                fields = {"numerator": fmt(arrests), "denominator": fmt(searches)}
                if area == "england-wales" and key == "total":
                    fields["note"] = "sum of the 43 forces"
            rows.append(_breakdown_row("FAIR06", area, period, key, fields))
    return rows


# --- Crime Survey for England and Wales: anti-social behaviour (VW07), confidence the CJS is fair (FAIR04) ---
ASB_WORKBOOKS = ("policeforceareatablesyearendingmarch2018v2.xlsx", "policeforceareatablesyeendingmarch2019.xlsx")
FOOTNOTE = re.compile(r"(?<=[A-Za-z)])\d+(?:,\d+)*$")


def label(cell: object) -> str:
    """A header or name cell as text: whitespace collapsed, a footnote marker glued to its end removed
    ('ENGLAND AND WALES7,8,9' -> 'ENGLAND AND WALES')."""
    return FOOTNOTE.sub("", re.sub(r"\s+", " ", str(cell or "")).strip())


def csew_table(path: Path, sheet_name: str, block: str) -> tuple[dt.date, list[dict[str, object]]]:
    """One measure block of an ONS police force area table: the year it ends and, per area code, the
    percentage, the two significance flags and the unweighted base.

    The header spans two rows: the block's name ('Any anti-social behaviour') is merged across its three
    columns in the upper row, and the lower row names them ('Percentage experienced/ witnessed', then the
    significance columns); the unweighted base is merged down both rows at the right."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=False, data_only=True)
    sheet = next(workbook[name] for name in workbook.sheetnames if name.strip() == sheet_name)
    title = label(sheet.cell(1, 1).value)
    match = re.search(r"year ending (\w+) (\d{4})", title)
    if match is None:
        raise SystemExit(f"{path.name}: no 'year ending' in the title '{title}'")
    month = MONTHS[match.group(1).lower()]
    year = int(match.group(2))
    ending = dt.date(year, month, calendar.monthrange(year, month)[1])
    top = lower = None
    for row in range(1, 20):
        texts = [label(sheet.cell(row, col).value) for col in range(1, sheet.max_column + 1)]
        if block in texts:
            top, lower = row, row + 1
            break
    if top is None or lower is None:
        raise SystemExit(f"{path.name} {sheet_name}: no header '{block}'")
    start = next(c for c in range(1, sheet.max_column + 1) if label(sheet.cell(top, c).value) == block)
    span = next(
        (r for r in sheet.merged_cells.ranges if r.min_row == top and r.min_col == start),
        None,
    )
    end = span.max_col if span is not None else start
    columns = {label(sheet.cell(lower, c).value): c for c in range(start, end + 1)}
    value_col = next(c for text, c in columns.items() if text.startswith("Percentage"))
    vs_national = next(c for text, c in columns.items() if "England and Wales" in text)
    vs_year = next(c for text, c in columns.items() if text.startswith("Statistically") and "Apr" in text)
    base_col = next(
        c for c in range(1, sheet.max_column + 1) if label(sheet.cell(top, c).value).startswith("Unweighted base")
    )
    found: list[dict[str, object]] = []
    for row in range(lower + 1, sheet.max_row + 1):
        code = str(sheet.cell(row, 1).value or "").strip()  # not label(): a code ends in digits
        if not re.fullmatch(r"[EKW]\d{8}", code):
            continue
        found.append(
            {
                "code": code,
                "name": label(sheet.cell(row, 2).value),
                "value": sheet.cell(row, value_col).value,
                "vs_national": label(sheet.cell(row, vs_national).value),
                "vs_year": label(sheet.cell(row, vs_year).value),
                "base": sheet.cell(row, base_col).value,
            }
        )
    workbook.close()
    return ending, found


def csew_antisocial_behaviour(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name in ASB_WORKBOOKS:
        ending, found = csew_table(published / "ons-pfa-csew-asb-knife" / name, "Table P6", "Any anti-social behaviour")
        national = next(float(str(r["value"])) for r in found if r["code"] == "K04000001")
        for record in found:
            code = str(record["code"])
            if not (code.startswith(("E23", "W15")) or code == "K04000001"):
                continue  # regions, England, Wales; the Met and City are one row coded as the London region
            area = areas.by_ons.get(code)
            if area is None:
                raise SystemExit(f"{name}: unknown area code {code}")
            value = record["value"]
            notes = [f"CSEW estimate from {record['base']} adults interviewed (unweighted base)"]
            if record["vs_national"] == "*" and isinstance(value, int | float):
                notes.append(f"significantly {'above' if value > national else 'below'} England and Wales")
            if record["vs_year"] in ("*↑", "*↓"):
                notes.append(
                    "a significant " + ("rise" if record["vs_year"] == "*↑" else "fall") + " on the year before"
                )
            row: dict[str, object] = {"metric": "VW07", "area": area, "period": ending, "status": "final"}
            if isinstance(value, int | float):
                row.update(value=fmt(round(float(value), 6)), note="; ".join(notes))
            else:
                row.update(value="[x]", note=f"not available in the source ('{value}')")
            rows.append(row)
    return rows


CSEW_ETHNIC_GROUPS = {
    "White": "white",
    "Black/African/Caribbean/Black British": "black",
    "Asian/Asian British": "asian",
    "Mixed/multiple ethnic groups": "mixed",
    "Other ethnic group": "other",
}


def csew_confidence_fair(published: Path) -> list[dict[str, object]]:
    """Adults (16+) confident the criminal justice system as a whole is fair (CSEW variable fairova1dv),
    England and Wales, by ethnic group. Estimates are proportions in this copy (the author divided by 100)."""
    frame = pd.read_csv(
        published / "csew-cjs-perceptions-2018" / "csew_perceptions_cjs_EW_2018Q4.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    frame = frame[(frame["measurement_var"] == "fairova1dv") & (frame["sex"] == "All adults") & (frame["age"] == "16+")]
    rows: list[dict[str, object]] = []
    for year, quarter, var, category, estimate, error, base in frame[
        ["year", "quarter", "characteristic_var", "characteristic", "estimate", "standard_error", "unweighted_count"]
    ].itertuples(index=False):
        if var == "Total":
            key = "total"
        elif var == "nsethgrp":
            key = CSEW_ETHNIC_GROUPS[category]
        else:
            continue
        period = dt.date(int(year), int(quarter) * 3, calendar.monthrange(int(year), int(quarter) * 3)[1])
        if estimate == "NA":
            fields = {"value": "[x]", "note": "suppressed in the source (too few adults interviewed)"}
        else:
            fields = {
                "value": fmt(round(float(estimate) * 100, 6)),
                "note": f"CSEW estimate from {base} adults interviewed; standard error "
                f"{float(error) * 100:.1f} percentage points",
            }
        rows.append(_breakdown_row("FAIR04", "england-wales", period, key, fields))
    return rows


# --- Youth Justice Board: first-time entrants (OFF04) and youth proven reoffending (OFF10) -------------------
YOUTH_INDICATORS = {  # LAIT 'Short Desc' -> (metric, the quarter end of year label Y)
    "FirstYJS": ("OFF04", lambda y: dt.date(y, 12, 31)),  # calendar year ending December (data dictionary)
    "ReoffYO15-17": ("OFF10", lambda y: dt.date(y, 3, 31)),  # financial year ending March of the label
}
REGIONS = {  # LAIT region rows (DfE numbers 980-990, Inner/Outer London left out) -> ONS population column
    "north east": "North East",
    "north west": "North West",
    "yorkshire and the humber": "Yorkshire and the Humber",
    "east midlands": "East Midlands",
    "west midlands": "West Midlands",
    "east of england": "East of England",
    "london": "London",
    "south east": "South East",
    "south west": "South West",
}
WEIGHT_YEAR = 2011  # populations that weight the local authorities' and regions' rates (Census 2011 year)
MIN_COVERAGE = 0.95  # share of the force area's population whose rate must be published to combine


def youth_areas(published: Path, areas: AreaCodes) -> dict[str, dict[int, tuple[str, float]]]:
    """The upper-tier local authorities of the home force area and its peers: force area -> DfE LA number ->
    (LA name, Census 2011 usual residents).

    DfE numbers are mapped through ``la_code_list.xlsx`` to the authority's name; a unitary, metropolitan or
    London authority is placed by its name in the ONS LAD -> CSP -> PFA lookup (December 2016); a shire county
    is placed in the force area of the same name, and its population is the force area's minus its unitaries'
    (its districts are the force area's other LADs). A force area must be covered completely."""
    demo = published / "police-workforce-demographics"
    codes = pd.read_excel(published / "youth-justice-la" / "la_code_list.xlsx")
    lookup = pd.read_csv(
        demo
        / "Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas__December_2016__Lookup_in_England_and_Wales.csv"
    )
    census = pd.read_csv(demo / "local-authorities-demographics-with-police-force.csv")
    people = dict(
        zip(
            census["LAD16NM"].map(AreaCodes._norm),
            census["Ethnic Group: All categories: Ethnic group; measures: Value"].astype(float),
            strict=True,
        )
    )
    lad_area = {
        AreaCodes._norm(n): areas.by_ons.get(c) for n, c in zip(lookup["LAD16NM"], lookup["PFA16CD"], strict=True)
    }
    wanted = [areas.home, *[p for p in areas.peers if p != areas.home]]
    out: dict[str, dict[int, tuple[str, float]]] = {}
    for area in wanted:
        lads = lookup[lookup["PFA16CD"].map(areas.by_ons) == area]
        members: dict[int, tuple[str, float]] = {}
        for number, name, kind in zip(codes["LA Number"], codes["LA Name"], codes["Type"], strict=True):
            norm = AreaCodes._norm(str(name))
            if kind != "SC" and lad_area.get(norm) == area:
                members[int(number)] = (str(name), people[norm])
        unitaries = {AreaCodes._norm(n) for n, _ in members.values()}
        districts = lads[~lads["LAD16NM"].map(AreaCodes._norm).isin(unitaries)]
        if not districts["LAD16CD"].str.startswith("E07").all():
            raise SystemExit(f"youth justice: {area} has authorities that match no DfE local authority")
        if len(districts):
            county = codes[(codes["Type"] == "SC") & (codes["LA Name"].map(areas.code) == area)]
            if len(county) != 1:
                raise SystemExit(f"youth justice: {area} has districts but no shire county of its name")
            members[int(county["LA Number"].iloc[0])] = (
                str(county["LA Name"].iloc[0]),
                sum(people[AreaCodes._norm(n)] for n in districts["LAD16NM"]),
            )
        out[area] = members
    return out


def _youth_value(raw: str) -> float | None:
    """LAIT values are text: '-' is not published; floats carry binary noise ('40.630000000000003')."""
    return None if raw.strip() in ("-", "") else round(float(raw), 2)


def youth_justice(published: Path, areas: AreaCodes) -> list[dict[str, object]]:
    frame = pd.read_csv(
        published / "youth-justice-la" / "lait_youth_justice_indicators_by_la.csv", dtype=str, keep_default_na=False
    )
    frame = frame[frame["Short Desc"].isin(YOUTH_INDICATORS)]
    values = {
        (indicator, int(float(number)), int(year)): _youth_value(value)
        for indicator, number, year, value in frame[["Short Desc", "LA Number", "Years", "Values"]].itertuples(
            index=False
        )
    }
    region_numbers = {
        int(float(number)): REGIONS[str(name).lower()]
        for number, name in zip(frame["LA Number"], frame["LA and Regions"], strict=True)
        if str(name).lower() in REGIONS and 980 <= float(number) <= 990
    }
    mye = pd.read_csv(published / "population-pfa-la" / "population_England_and_regions.csv").set_index("year")
    members = youth_areas(published, areas)
    members["england"] = {
        number: (column, float(mye.loc[WEIGHT_YEAR, column])) for number, column in region_numbers.items()
    }
    rows: list[dict[str, object]] = []
    years = sorted({year for (_, _, year) in values})
    for indicator, (metric, period_of) in YOUTH_INDICATORS.items():
        for area, authorities in members.items():
            for year in years:
                if not any((indicator, n, year) in values for n in authorities):
                    continue
                parts = [(name, w, values.get((indicator, n, year))) for n, (name, w) in authorities.items()]
                rows.append(_youth_row(metric, area, period_of(year), parts))
    # The home area's own authorities (Staffordshire County Council, Stoke-on-Trent): their published rates,
    # as local areas; '-' (not published) is [x].
    for number, local in youth_local_areas(published, areas).items():
        for indicator, (metric, period_of) in YOUTH_INDICATORS.items():
            for year in years:
                if (indicator, number, year) not in values:
                    continue
                value = values[(indicator, number, year)]
                row: dict[str, object] = {"metric": metric, "area": local, "period": period_of(year), "status": "final"}
                if value is None:
                    row.update(value="[x]", note=f"not published ('-') for DfE local authority {number}")
                else:
                    row.update(value=fmt(value), note=f"as published for DfE local authority {number}")
                rows.append(row)
    return rows


def youth_local_areas(published: Path, areas: AreaCodes) -> dict[int, str]:
    """DfE local authority number -> the home area's local area it publishes for: the shire county to the
    local area whose districts it covers (the parent of the lowest local areas that are districts, E07), a
    unitary authority to the local area of its ONS code's name."""
    codes = pd.read_excel(published / "youth-justice-la" / "la_code_list.xlsx")
    home = youth_areas(published, areas)[areas.home]
    by_name = {AreaCodes._norm(a["name"]): a["code"] for a in areas.local}
    county = {a.get("parent") for a in areas.lowest_local if str(a.get("ons_code", "")).startswith("E07")}
    kinds = dict(zip(codes["LA Number"].astype(int), codes["Type"], strict=True))
    out: dict[int, str] = {}
    for number, (name, _) in sorted(home.items()):
        if kinds[number] == "SC":
            if len(county) != 1:
                raise SystemExit(f"youth justice: no single local area for the shire county {name}")
            out[number] = str(next(iter(county)))
        elif AreaCodes._norm(name) in by_name:
            out[number] = by_name[AreaCodes._norm(name)]
        else:
            raise SystemExit(f"youth justice: {name} (DfE {number}) is not a local area of {areas.home}")
    return out


def _youth_row(
    metric: str, area: str, period: dt.date, parts: list[tuple[str, float, float | None]]
) -> dict[str, object]:
    """One force area's (or England's) rate: its authorities' (regions') rates weighted by population."""
    total = sum(weight for _, weight, _ in parts)
    published_parts = [(name, weight, value) for name, weight, value in parts if value is not None]
    covered = sum(weight for _, weight, _ in published_parts)
    missing = sorted(name for name, _, value in parts if value is None)
    row: dict[str, object] = {"metric": metric, "area": area, "period": period, "status": "final"}
    if not published_parts or (area == "england" and missing) or covered / total < MIN_COVERAGE:
        row.update(value="[x]", note="not published ('-') for " + ", ".join(missing))
        return row
    value = sum(weight * v for _, weight, v in published_parts) / covered
    shown = ", ".join(f"{name} {fmt(v)}" for name, _, v in sorted(published_parts))
    if area == "england":
        note = "the nine regions' rates weighted by their mid-2011 populations (the source's England row is not used)"
    else:
        note = f"weighted by Census 2011 population from {shown}" if len(published_parts) > 1 else shown
    if missing:
        note += f"; {', '.join(missing)} not published ('-'), left out ({(1 - covered / total) * 100:.1f}% of the population)"
    row.update(value=fmt(round(value, 2)), note=note)
    return row


def _reproducible_zip(content: bytes) -> bytes:
    """The same workbook bytes on every run: openpyxl stamps the save time into docProps/core.xml and
    every zip entry, so both are set to a fixed time."""
    fixed = (2024, 1, 1, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=fixed), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_xlsx(path: Path, rows: list[dict[str, object]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "data"
    sheet.append(HEADER)
    for row in rows:
        cells: list[object] = []
        for key in HEADER:
            value = row.get(key, "")
            if key == "value" and value not in ("", "-"):
                value = float(str(value))
            cells.append(value if value != "" else None)
        sheet.append(cells)
    workbook.properties.creator = "pcc_perf extract_demo_data.py"
    workbook.properties.created = dt.datetime(2024, 1, 1)  # fixed, so the file is the same on every run
    workbook.properties.modified = dt.datetime(2024, 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_reproducible_zip(buffer.getvalue()))
    print(f"{path}: {len(rows)} rows", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--published", type=Path, default=ROOT.parent / "shared" / "data" / "published")
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "demo")
    parser.add_argument("--framework", type=Path, default=ROOT / "fixtures" / "demo_framework.yaml")
    args = parser.parse_args()
    areas = AreaCodes(args.framework)
    args.out.mkdir(parents=True, exist_ok=True)
    mye, census, census_groups = populations(args.published, areas)
    police = police_recorded_crime(args.published, areas, mye, census)
    police += stop_and_search(args.published, areas, census, census_groups)
    police += police_outcomes(args.published, areas)
    police += arrest_rates(args.published, areas)
    police += search_arrests(args.published, areas)
    police += csew_antisocial_behaviour(args.published, areas)
    justice, police_national = national_series(args.published)
    severity = crime_severity(args.published, areas)
    write(args.out / "police.csv", police + police_national + severity)
    write(args.out / "cps.csv", cps_outcomes(args.published, areas))
    write_xlsx(args.out / "hmcts.xlsx", [r for r in justice if str(r["metric"]).startswith("EFF")])
    write(args.out / "hmpps.csv", [r for r in justice if str(r["metric"]).startswith("OFF")])
    write(args.out / "victim-services.csv", csew_confidence_fair(args.published))
    write(args.out / "youth-justice.csv", youth_justice(args.published, areas))
    for agency, rows in sorted(illustrative_local_returns().items()):
        write(args.out / f"illustrative-{agency}.csv", rows, ILLUSTRATIVE_HEADER)
    write(
        args.out / "illustrative-police-local.csv",
        illustrative_local_crime(police, areas, severity),
        ILLUSTRATIVE_HEADER,
    )


if __name__ == "__main__":
    main()
