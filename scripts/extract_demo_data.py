#!/usr/bin/env python
"""Make the demo's canonical data files from the real published statistics.

    python scripts/extract_demo_data.py [--published ../shared/data/published] [--out fixtures/demo]

Reads the files in ``shared/data/published`` exactly as published (their traps included) and writes
long-format data files in the CONTRACT §2 format, one per supplying agency, which ``seed_demo`` imports
through the same pipeline as any agency's file. Run it again after the published files change and commit
the result: a fresh clone needs only ``fixtures/``. Nothing here invents a figure: where the source has
no value, there is no row.

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
        for area in doc["areas"]:
            self.by_name[self._norm(area["name"])] = area["code"]
            self.by_name[self._norm(area["code"])] = area["code"]
            if area.get("ons_code"):
                self.by_ons[area["ons_code"]] = area["code"]
        self.forces = [a["code"] for a in doc["areas"] if a["type"] == "police_force_area"]

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
    justice, police_national = national_series(args.published)
    write(args.out / "police.csv", police + police_national)
    write(args.out / "cps.csv", cps_outcomes(args.published, areas))
    write_xlsx(args.out / "hmcts.xlsx", [r for r in justice if str(r["metric"]).startswith("EFF")])
    write(args.out / "hmpps.csv", [r for r in justice if str(r["metric"]).startswith("OFF")])
    for agency, rows in sorted(illustrative_local_returns().items()):
        write(args.out / f"illustrative-{agency}.csv", rows, ILLUSTRATIVE_HEADER)


if __name__ == "__main__":
    main()
