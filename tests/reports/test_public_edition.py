"""The public edition shows no suppressed number anywhere — cells, findings, chart texts, charts, PDF, web page,
CSV — and none of the office's internal notes; its narrative is its own, never the board's.

The fixture has a small count in three places with a threshold of 50: a measure's latest quarter (37) and an
earlier one (46), a breakdown whose total is published (250 = 150 + 57 + 43: 43 is primary, 57 must go too or
250 − 150 − 43 gives it back), and a percentage built on a small numerator (30 of 400 = 7.5%). The snapshot
is published with returns missing and an internal reason naming a person; the board texts are written, the
public ones only for one section.
"""

import datetime as dt
import re
import subprocess
import textwrap

import pytest
from django.urls import reverse

from accounts.models import Agency, Role
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.quarters import Quarter
from metrics.returns.services import round_open
from reports.evidence.build import build_evidence
from reports.evidence.items import Part
from reports.evidence.sources import FigureSource
from reports.models import ReportFinding, ReportState
from reports.narrative.editions import edition
from reports.narrative.services import report_create, report_edit, report_transition
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory

FRAMEWORK = textwrap.dedent(
    """
    framework: {code: pub, name: Public edition tests, home_area: staffordshire}
    agencies:
      - {code: police-sfd, name: Staffordshire Police}
      - {code: yjs-sfd, name: Youth Justice Service}
    areas:
      - {code: england-wales, name: England and Wales, type: national}
      - {code: staffordshire, name: Staffordshire, type: police_force_area}
    breakdowns:
      - {code: strand, name: Hate crime strand, categories: [race, religion, sexual-orientation]}
    priorities:
      - code: fairness
        name: Fairness
        metrics:
          - {code: HATE01, name: Hate crimes recorded, agency: police-sfd, unit: count, direction: neutral, source_type: official_statistics, breakdowns: [strand]}
          - {code: PCT01, name: Hate crimes with a charge, agency: police-sfd, unit: percentage, direction: higher_is_better, source_type: local_return}
          - {code: SS01, name: Stop and searches (force system), agency: police-sfd, unit: count, direction: neutral, source_type: management_information}
          - {code: SS02, name: Stop and searches (data.police.uk), agency: police-sfd, unit: count, direction: neutral, source_type: official_statistics}
      - code: offending
        name: Offending
        metrics:
          - {code: CNT01, name: Youth cautions, agency: yjs-sfd, unit: count, direction: lower_is_better, source_type: local_return}
    """
)
PERIOD = dt.date(2024, 6, 30)  # 2024/25 Q1
QUARTERS = [Quarter.from_end_date(PERIOD).shift(-11 + i).end_date for i in range(12)]
YOUTH = [210, 198, 205, 220, 46, 215, 201, 190, 208, 212, 190, 37]  # 46 and the latest 37 are small
HATE = [240, 262, 251, 247, 258, 239, 244, 256, 249, 241, 253, 250]  # 250 = 150 race + 57 religion + 43 s.o.
CHARGED = [(120, 400), (118, 410), (126, 405), (115, 398), (122, 402), (119, 400)]  # then 30 of 400 = 7.5%
SS_FORCE = [510, 498, 505, 520, 515, 501, 490, 508, 512, 499, 503, 495]
SS_OPEN = [480, 476, 489, 492, 470, 485, 479, 488, 474, 481, 486, 483]
HEADER = "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"
# Numbers that must never appear in a public output: the small counts, the secondary cell, the small
# percentage, and the change the board's finding computes from the small latest count (190 → 37).
SUPPRESSED = {37.0, 46.0, 43.0, 57.0, 7.5, 153.0, 80.5}
REASON = "Youth justice return late again, chased by pm-jbloggs"
BOARD_TEXT = "Board only: the Chief Constable briefed us in confidence."


def numbers_in(text: str) -> set[float]:
    """Every number written in ``text`` (thousands separators, decimals, a % sign), as floats; clock times
    (a download's "06:57 UTC", a timestamp's "2026-12-06T22:57:03"), script nonces and the ids in links and
    attributes (``/public/reports/57/``: on PostgreSQL ids run on across tests) are not figures."""
    text = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?", "", text)  # stamps
    text = re.sub(r'(?:nonce|href|src|action|id|for)="[^"]*"', "", text)  # links name rows by their id
    text = re.sub(r"\b\d{1,2}:\d{2}(?::\d{2})?\b", "", text)
    found = re.findall(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?![\w])", text)
    return {float(n.replace(",", "")) for n in found if n.replace(",", "").replace(".", "", 1).isdigit()}


def load(agency: str, lines: list[str]) -> None:
    summary = import_file(
        content=(HEADER + "\n".join(lines) + "\n").encode(), filename="data.csv", agency=Agency.objects.get(code=agency)
    )
    assert summary.accepted, summary.as_text()


@pytest.fixture
def world(db, settings, mailoutbox):
    settings.PCC_PERF_SUPPRESSION_THRESHOLD = 50
    framework = framework_load(text=FRAMEWORK).framework
    manager = UserFactory(username="pm-jbloggs", role=Role.PERFORMANCE_MANAGER, first_name="Jo", last_name="Bloggs")
    board = UserFactory(username="board-member", role=Role.BOARD_MEMBER)
    police = [f"HATE01,staffordshire,{q},,,{v},,,final," for q, v in zip(QUARTERS, HATE, strict=True)]
    police += [
        "HATE01,staffordshire,2024-06-30,strand,race,150,,,final,",
        "HATE01,staffordshire,2024-06-30,strand,religion,57,,,final,",
        "HATE01,staffordshire,2024-06-30,strand,sexual-orientation,43,,,final,",
    ]
    police += [f"PCT01,staffordshire,{q},,,,{n},{d},final," for q, (n, d) in zip(QUARTERS[5:], CHARGED, strict=False)]
    police += ["PCT01,staffordshire,2024-06-30,,,,30,400,final,"]
    police += [f"SS01,staffordshire,{q},,,{v},,,final," for q, v in zip(QUARTERS, SS_FORCE, strict=True)]
    police += [f"SS02,staffordshire,{q},,,{v},,,final," for q, v in zip(QUARTERS, SS_OPEN, strict=True)]
    load("police-sfd", police)
    load("yjs-sfd", [f"CNT01,staffordshire,{q},,,{v},,,final," for q, v in zip(QUARTERS, YOUTH, strict=True)])
    # A round with returns outstanding: the snapshot is published without them, for an internal reason.
    round_open(actor=manager, framework=framework, period=PERIOD, due_date=dt.date(2024, 7, 31))
    snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason=REASON)
    assert "yjs-sfd" in snapshot.missing_returns
    report = report_create(actor=manager, snapshot=snapshot)
    assert report.deep_dive.code == "fairness"
    sections = {s.priority.code: s for s in report.sections.all()}
    finding = ReportFinding.objects.get(section__report=report, metric__code="CNT01")
    report = report_edit(
        actor=manager,
        report=report,
        version=report.version,
        changes={
            "summary": "Board summary: youth cautions fell to 37.",
            f"narrative:{sections['fairness'].pk}": BOARD_TEXT,
            f"narrative:{sections['offending'].pk}": BOARD_TEXT,
            f"commentary:{sections['offending'].pk}": "Partner commentary for the board: 37 cautions.",
            f"public:{sections['offending'].pk}": "Youth cautions are explained on the partnership's website.",
            f"finding:{finding.pk}": "Youth cautions fell to 37, down 153 on a year before.",
        },
    )
    return {"framework": framework, "snapshot": snapshot, "report": report, "manager": manager, "board": board}


def publish(world):
    report = report_transition(actor=world["manager"], report=world["report"], to=ReportState.IN_REVIEW)
    return report_transition(actor=world["manager"], report=report, to=ReportState.PUBLISHED)


def board_limits(world) -> set[float]:
    """The board's mean and upper limit of the youth cautions chart: worked out with the small counts, so a
    public output must not print them."""
    (item,) = build_evidence(
        framework=world["framework"],
        area=world["framework"].home_area,
        metrics=[world["report"].sections.get(priority__code="offending").findings.get().metric],
        source=FigureSource(world["snapshot"]),
        parts=Part.NONE,
    )
    seg = item.spc.last_segment
    assert seg is not None and seg.upper_limit is not None
    return {float(round(seg.mean)), float(round(seg.upper_limit))}


def assert_public(text: str, world) -> None:
    leaked = numbers_in(text) & (SUPPRESSED | board_limits(world))
    assert not leaked, f"suppressed numbers printed: {sorted(leaked)}"
    for internal in (REASON, "chased", "pm-jbloggs", "Bloggs", "yjs-sfd", "police-sfd", "returns missing"):
        assert internal not in text, internal
    assert "Board only" not in text and "Board summary" not in text and "Partner commentary" not in text
    assert "Youth cautions fell to 37" not in text  # the board's edited finding
    assert "Stop and searches (force system)" not in text  # management information
    assert "Stop and searches (data.police.uk)" in text  # published openly elsewhere: always in


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.pdf
def test_the_public_pdf_prints_no_suppressed_number_and_no_internal_note(world, tmp_path):
    from reports.packs.build import build_pack_pdf

    report = publish(world)
    board = pdf_text(build_pack_pdf(report=report, public=False, use_browser=False), tmp_path)
    # The fixture is what it says: the board's pack has the small numbers and the internal notes.
    assert {37.0, 43.0, 57.0} <= numbers_in(board)
    assert "chased by pm-jbloggs" in board.replace("\n", " ") or "chased" in board
    public = pdf_text(build_pack_pdf(report=report, public=True, use_browser=False), tmp_path)
    assert_public(public, world)
    assert "[c]" in public
    assert "Youth cautions are explained on the partnership's website." in public
    assert "is suppressed [c] to protect small numbers" in public  # the finding, from the public figures
    # Every measure of the public edition is there, with its chart's figures (drawn as a table here).
    for name in ("Hate crimes recorded", "Hate crimes with a charge", "Youth cautions", "Stop and searches (data"):
        assert name in public
    assert public.count("Chart not drawn") >= 4


def test_the_public_web_page_and_its_csv_show_no_suppressed_number_and_no_internal_note(world, client):
    report = publish(world)
    page = client.get(reverse("public-report", args=[report.pk])).content.decode()
    assert_public(page, world)
    assert "Youth cautions are explained on the partnership's website." in page
    # The deep dive's breakdown: 43 is primary, 57 secondary, so the 250 total cannot give either back.
    assert page.count('<td class="num">[c]</td>') >= 2
    assert '<td class="num">250</td>' in page
    response = client.get(reverse("public-report", args=[report.pk]), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    csv = response.content.decode("utf-8-sig")
    assert_public(csv, world)
    assert "[c]" in csv
    assert "Hate crimes recorded" in csv
    xlsx = client.get(reverse("public-report", args=[report.pk]), {"format": "xlsx"})
    assert xlsx.status_code == 200


def test_public_narrative_is_empty_when_only_the_board_text_is_written(world):
    report = publish(world)
    public = {s.section.priority.code: s for s in edition(report=report, public=True)}
    board = {s.section.priority.code: s for s in edition(report=report, public=False)}
    assert BOARD_TEXT in board["fairness"].narrative
    assert public["fairness"].narrative == ""
    assert public["offending"].narrative.strip() == "<p>Youth cautions are explained on the partnership's website.</p>"
    assert public["offending"].commentary == ""


def test_public_charts_leave_small_numbers_out_and_mark_them(world):
    report = publish(world)
    lines = {line.metric.code: line for s in edition(report=report, public=True) for line in s.lines}
    youth = lines["CNT01"].evidence
    figure = youth.xmr_figure()
    drawn = {float(v) for trace in figure.data for v in (trace.y or ()) if v is not None}
    assert not drawn & (SUPPRESSED | board_limits(world))
    assert [a.text for a in figure.layout.annotations].count("[c]") == 2
    assert "Suppressed [c] to protect small numbers, not drawn: 2022/23 Q2, 2024/25 Q1." in youth.chart_text
    assert lines["CNT01"].value == "[c]"
    assert lines["CNT01"].variation == "Not shown (small numbers)"
    assert lines["PCT01"].value == "[c]"  # 7.5% rests on a count of 30
    hate = dict(lines["HATE01"].categories)
    assert hate == {"Race": "150", "Religion": "[c]", "Sexual orientation": "[c]"}


def test_the_manager_checks_the_public_edition_beside_the_board_text_before_publishing(world, client):
    report = report_transition(actor=world["manager"], report=world["report"], to=ReportState.IN_REVIEW)
    url = reverse("report-public-preview", args=[report.pk])
    client.force_login(world["board"])
    assert client.get(url).status_code == 403
    client.force_login(world["manager"])
    detail = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert url in detail
    publish_action = f'action="{reverse("report-action", args=[report.pk, "publish"])}"'
    assert publish_action not in detail  # publishing goes through the preview
    page = client.get(url).content.decode()
    assert "Board text and public text" in page
    assert BOARD_TEXT in page  # the board's text, shown beside …
    assert "None written: the public edition shows nothing here." in page  # … the missing public one
    assert "Youth cautions are explained" in page
    assert publish_action in page
    public_part = page.split("The public edition as it will appear")[1]
    assert_public(public_part, world)
    assert client.post(reverse("report-action", args=[report.pk, "publish"])).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.PUBLISHED


RATES = textwrap.dedent(
    """
    framework: {code: rates, name: Rates, home_area: staffordshire}
    agencies: [{code: police, name: Police}]
    areas: [{code: staffordshire, name: Staffordshire, type: police_force_area}]
    breakdowns:
      - {code: ethnicity, name: Ethnicity, reference: white, categories: [white, black, asian]}
    priorities:
      - code: fairness
        name: Fairness
        metrics:
          - {code: SS, name: Stop and search rate, agency: police, unit: rate_per_1000, direction: neutral, source_type: official_statistics, breakdowns: [ethnicity]}
    """
)


def test_public_disproportionality_gives_no_hidden_count_back(db):
    framework = framework_load(text=RATES).framework
    rows = [
        "SS,staffordshire,2024-06-30,,,,463,115000,final,",
        "SS,staffordshire,2024-06-30,ethnicity,white,,400,100000,final,",
        "SS,staffordshire,2024-06-30,ethnicity,black,,3,5000,final,",
        "SS,staffordshire,2024-06-30,ethnicity,asian,,60,10000,final,",
    ]
    load("police", rows)

    def fairness(public):
        (item,) = build_evidence(
            framework=framework, area=framework.home_area, period=PERIOD, parts=Part.ALL, public=public
        )
        (fair,) = item.fairness
        return item, fair, {g.category: g for g in fair.groups}

    _, _, groups = fairness(False)
    assert groups["black"].ratio is not None and groups["black"].small_numbers
    item, public, groups = fairness(True)
    # 3 is primary; with the total (463) and white (400) published, asian (60) must go too.
    assert {c.code: o.missing for c, o in public.cells} == {"white": "", "black": "c", "asian": "c"}
    for code in ("black", "asian"):
        assert groups[code].numerator is None and groups[code].rate is None and groups[code].ratio is None
    assert public.recorded_share is None
    assert item.latest_text == "4.03"  # the total's rate rests on 463: shown
    assert [(name, value) for name, value in item.breakdowns[0].values] == [
        ("White", 4.0),
        ("Black", None),
        ("Asian", None),
    ]
