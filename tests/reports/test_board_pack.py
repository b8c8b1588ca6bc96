"""The board edition of the pack, read as a board member reads it: the PDF's text (pdftotext) and the Word
document (python-docx). Every measure, its comparisons, a fairness section with the national ratio, the
icons' key, no chart without figures, DRAFT until the report is published, full links or none."""

import datetime as dt
import io
import subprocess
import textwrap

import docx
import pytest
from django.urls import reverse

from accounts.models import Agency, Role
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from reports.evidence.build import build_evidence
from reports.evidence.items import Part
from reports.evidence.sources import FigureSource
from reports.models import ReportState
from reports.narrative.services import report_create, report_edit, report_transition
from reports.packs.build import build_pack_html, build_pack_pdf
from reports.packs.content import print_links
from reports.packs.word import build_pack_docx
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory

pytestmark = pytest.mark.pdf

FRAMEWORK = textwrap.dedent(
    """
    framework: {code: board, name: Board pack tests, home_area: staffordshire, peer_group: msg}
    agencies:
      - {code: police, name: Staffordshire Police}
    areas:
      - {code: england-wales, name: England and Wales, type: national}
      - {code: staffordshire, name: Staffordshire, type: police_force_area}
      - {code: derbyshire, name: Derbyshire, type: police_force_area}
    peer_groups:
      - {code: msg, name: Most similar group, members: [staffordshire, derbyshire]}
    breakdowns:
      - {code: ethnicity, name: Ethnicity, reference: white, not_recorded: not-stated, min_recorded: 0.8, categories: [white, black, asian, not-stated]}
    priorities:
      - code: fairness
        name: Fairness
        metrics:
          - {code: FAIR01, name: Stop and search rate, agency: police, unit: rate_per_1000, direction: lower_is_better, source_type: official_statistics, breakdowns: [ethnicity], source: {publisher: Home Office, title: Police powers and procedures, period: year to March 2024, released: "31 October 2024"}}
      - code: offending
        name: Offending
        metrics:
          - {code: OFF01, name: Police recorded crime, agency: police, unit: count, direction: lower_is_better, source_type: official_statistics, caveats: Excludes fraud.}
          - {code: OFF02, name: Crime per 1000 people, agency: police, unit: rate_per_1000, direction: lower_is_better, source_type: official_statistics}
          - {code: VW01, name: Victim satisfaction, agency: police, unit: percentage, direction: higher_is_better, source_type: local_return}
    """
)
HEADER = "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"
QUARTERS = [  # 2022/23 Q1 to 2024/25 Q1
    dt.date(y, m, d) for y in (2022, 2023, 2024) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))
][1:10]
PERIOD = QUARTERS[-1]


def _rows() -> str:
    rows = []
    for i, q in enumerate(QUARTERS):
        crime = 21000 + 150 * (i % 3) - 40 * i
        rows.append(f"OFF01,staffordshire,{q},,,{crime},,,final,")
        rows.append(f"OFF01,england-wales,{q},,,{crime * 60},,,final,")
        rows.append(f"OFF01,derbyshire,{q},,,{crime + 900},,,final,")
        for area, scale in (("staffordshire", 1.0), ("derbyshire", 1.1), ("england-wales", 1.2)):
            rows.append(f"OFF02,{area},{q},,,,{round(crime * scale)},1130000,final,")
        # Stop and search by ethnicity (counts over Census 2021 populations), and the national picture.
        for area, mult in (("staffordshire", 1), ("england-wales", 60)):
            groups = {
                "white": (300 + i, 950000),
                "black": (40 + i, 20000),
                "asian": (60, 60000),
                "not-stated": (20, 100000),
            }
            total = sum(n for n, _ in groups.values())
            rows.append(f"FAIR01,{area},{q},,,,{total * mult},{1130000 * mult},final,")
            for cat, (n, pop) in groups.items():
                den = pop * mult if pop else ""
                rows.append(f"FAIR01,{area},{q},ethnicity,{cat},,{n * mult},{den},final,")
    return HEADER + "\n".join(rows) + "\n"


@pytest.fixture
def board(db, mailoutbox):
    framework = framework_load(text=FRAMEWORK).framework
    police = Agency.objects.get(code="police")
    manager = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER)
    summary = import_file(content=_rows().encode(), filename="data.csv", agency=police)
    assert summary.accepted, summary
    snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason="tests")
    report = report_create(actor=manager, snapshot=snapshot)
    return {"framework": framework, "manager": manager, "snapshot": snapshot, "report": report}


def pdf_text(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def _section(text: str, heading: str, following: str) -> str:
    start = text.index(heading)
    return text[start : text.index(following, start + len(heading))]


def _measure(text: str, name: str) -> str:
    """A measure's block in its priority's section: its heading, finding and comparison lines."""
    at = -1
    while (at := text.find(name, at + 1)) != -1:
        block = text[at : at + 1200]
        if "Same quarter last year" in block[:700]:
            return block
    raise AssertionError(f"no section block for {name}")


@pytest.mark.browser
def test_the_board_pack_reads_as_a_report(board, tmp_path):
    report = board["report"]
    pdf = build_pack_pdf(report=report, public=False)
    pages = pdf_text(pdf, tmp_path)
    text = "\n".join(pages)
    # Every framework measure appears, in the at-a-glance table and in its priority's section.
    for name in ("Stop and search rate", "Police recorded crime", "Crime per 1000 people", "Victim satisfaction"):
        assert text.count(name) >= 3, name
    # A measure with figures never reads "No figures"; one without gets a short line instead of a chart.
    assert "No figures for Police recorded crime" not in text
    assert text.count("No chart: there are no figures to draw (Staffordshire Police owns this measure).") == 1
    # Comparisons: the same quarter last year, the most similar group (a rate is ranked; a count is not),
    # England and Wales.
    offending = _measure(text, "Crime per 1000 people")
    assert "Same quarter last year" in offending and "in 2023/24 Q1" in offending
    assert "Most similar group" in offending and "of 2 in its peer group" in offending
    assert "England and Wales" in offending
    crime = _measure(text, "Police recorded crime")
    assert "not compared: counts depend on an area's size" in crime
    # Fairness: ratios with 95% intervals, the recorded share, the trend against the national ratio.
    assert "Fairness: Stop and search rate by ethnicity, 2024/25 Q1" in text
    assert "Rate ratios to White people with 95% intervals" in text
    assert "ethnicity recorded for 95% of records" in text.lower()
    assert "times the rate for White people" in text
    assert "England and Wales ratios in brackets" in text
    # The icons' key, and the assurance note.
    assert "Key to the variation icons" in text
    for label in ("Improvement:", "Concern:", "Common cause:", "Out of date:", "No data:"):
        assert label in text
    # The executive summary was drafted from the evidence.
    summary = _section(text, "Executive summary\n", "Fairness")
    assert "What needs attention" in summary and "Questions for the board" in summary
    assert "Victim satisfaction" in summary  # missing, named
    # The data-pack appendix: the last 8 quarters with symbols, sources, methods.
    appendix = text[text.index("Appendix A: data pack\n") :]
    assert "2022/23 Q2" in appendix and "2024/25 Q1" in appendix
    assert "[x]" in appendix  # Victim satisfaction: not available
    words = " ".join(appendix.split())
    assert "Home Office; Police powers and procedures; covering year" in words and "released 31 October" in words
    assert "Caveats: Excludes" in words
    assert "Run 7 and trend 7 points for every measure" in words
    # DRAFT on every page of a draft.
    assert all("DRAFT" in page for page in pages)
    # Charts are vector drawings, not pictures; no chart is drawn for the measure without figures.
    path = tmp_path / "pack.pdf"
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2
    assert "Chart not drawn" not in text


def test_draft_mark_until_published(board, tmp_path):
    report = board["report"]
    manager = board["manager"]
    assert all("DRAFT" in page for page in pdf_text(build_pack_pdf(report=report, use_browser=False), tmp_path))
    report = report_transition(actor=manager, report=report, to=ReportState.IN_REVIEW)
    assert all("DRAFT" in page for page in pdf_text(build_pack_pdf(report=report, use_browser=False), tmp_path))
    report = report_transition(actor=manager, report=report, to=ReportState.PUBLISHED)
    pages = pdf_text(build_pack_pdf(report=report, use_browser=False), tmp_path)
    assert not any("DRAFT" in page for page in pages)


def test_the_pack_prints_what_the_analyst_kept(board, tmp_path, settings):
    report = board["report"]
    settings.PCC_PERF_SITE_URL = "https://lcjb.example.org"
    report = report_edit(
        actor=board["manager"],
        report=report,
        version=report.version,
        changes={
            "summary": "Crime is steady. See [the dashboard](/dashboard/) and [ONS](https://www.ons.gov.uk/).",
            "deep_dive_findings": "Stop and search fell for every group.",
            "deep_dive_recommendations": "Ask the force to explain the recording gap.",
        },
    )
    text = "\n".join(pdf_text(build_pack_pdf(report=report, use_browser=False), tmp_path))
    assert "Crime is steady." in text
    assert "What needs attention" not in text  # the analyst replaced the draft
    assert "https://lcjb.example.org/dashboard/" in text
    assert "https://www.ons.gov.uk/" in text
    assert "Stop and search fell for every group." in text
    assert "Ask the force to explain the recording gap." in text


def test_site_paths_are_left_out_when_the_site_is_this_machine(settings):
    settings.PCC_PERF_SITE_URL = "http://127.0.0.1:8000"
    html = print_links('<p>See <a href="/dashboard/">the dashboard</a> and <a href="https://x.example/">X</a>.</p>')
    assert html == '<p>See the dashboard and <a href="https://x.example/">X</a>.</p>'


def test_the_pack_html_has_vector_icons_and_no_chart_styles_as_page_css(board):
    html = build_pack_html(report=board["report"], public=False, use_browser=False)
    assert html.count('class="mdc-icon') >= 6 + 4  # the key, and one per measure
    assert "Chart not drawn" in html  # no browser: tables instead of charts
    assert "fill:" not in html  # no inline chart styles for WeasyPrint to reject


def test_a_pack_build_logs_one_line_and_no_weasyprint_noise(board, caplog):
    import logging

    caplog.set_level(logging.INFO)
    build_pack_pdf(report=board["report"], use_browser=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "reports.packs.build"]
    assert len(lines) == 1
    assert "board edition (draft)" in lines[0] and "4 measures (1 without figures)" in lines[0]
    assert not [r for r in caplog.records if "unknown property" in r.getMessage()]


@pytest.mark.browser
def test_the_board_edition_as_a_word_document(board):
    data = build_pack_docx(report=board["report"])
    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for heading in ("At a glance", "Executive summary", "Fairness", "Offending", "Appendix A: data pack"):
        assert any(h.startswith(heading) for h in headings), heading
    for name in ("Stop and search rate", "Police recorded crime", "Crime per 1000 people", "Victim satisfaction"):
        assert any(h.startswith(name) for h in headings), name
    # Charts as pictures: one per measure with figures, the fairness forest plot, the deep dive's peers.
    assert len(document.inline_shapes) >= 4
    body = "\n".join(p.text for p in document.paragraphs)
    assert "No chart: there are no figures to draw (Staffordshire Police owns this measure)." in body
    assert "DRAFT" in document.sections[0].header.paragraphs[0].text
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Same quarter last year" in cells and "England and Wales" in cells


def test_the_word_document_downloads_from_the_pack_page(board, client, monkeypatch, django_capture_on_commit_callbacks):
    from reports.models import BoardPack

    monkeypatch.setattr("reports.packs.build.chromium_path", lambda: None)
    monkeypatch.setattr("reports.packs.svg.chromium_path", lambda: None)
    client.force_login(board["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("pack-start", args=[board["report"].pk]), {"edition": "board"})
    pack = BoardPack.objects.get()
    assert pack.state == "ready" and pack.docx
    page = client.get(reverse("pack-detail", args=[pack.pk])).content.decode()
    assert reverse("pack-download-docx", args=[pack.pk]) in page
    response = client.get(reverse("pack-download-docx", args=[pack.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert docx.Document(io.BytesIO(response.content)).paragraphs
    # A draft's pack is for the commissioner's office only; nobody without a login gets it.
    client.force_login(UserFactory(username="member", role=Role.BOARD_MEMBER))
    assert client.get(reverse("pack-download-docx", args=[pack.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("pack-download-docx", args=[pack.pk])).status_code == 302


def test_the_dashboard_and_the_pack_agree_on_which_measures_have_figures(board, tmp_path):
    """No "No figures" in the pack for a measure the dashboard shows figures for (same snapshot)."""
    framework, snapshot = board["framework"], board["snapshot"]
    dashboard = build_evidence(
        framework=framework,
        area=framework.home_area,
        period=snapshot.period,
        source=FigureSource(snapshot),
        parts=Part.PEERS,
    )
    text = "\n".join(pdf_text(build_pack_pdf(report=board["report"], use_browser=False), tmp_path))
    for item in dashboard:
        if item.has_figures:
            assert f"No figures for {item.metric.name}" not in text
        else:
            assert f"No figures for {item.metric.name}" in text
    assert text.count("No chart: there are no figures to draw") == sum(1 for e in dashboard if not e.has_figures)


def test_the_analyst_drafts_the_summary_and_writes_the_deep_dive_on_the_edit_page(board, client):
    report = board["report"]
    client.force_login(board["manager"])
    url = reverse("report-edit", args=[report.pk])
    drafted = client.get(url + "?draft=summary").content.decode()
    assert "Drafted afresh from the evidence" in drafted
    assert "Questions for the board" in drafted
    response = client.post(
        url,
        {
            "version": report.version,
            "summary": "Kept.",
            "deep_dive_findings": "Recording fell.",
            "deep_dive_recommendations": "Ask why.",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.executive_summary, report.deep_dive_findings, report.deep_dive_recommendations) == (
        "Kept.",
        "Recording fell.",
        "Ask why.",
    )
    page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "Deep dive: findings" in page and "Recording fell." in page


def test_the_drafted_summary_names_each_measure_once_and_asks_questions(board):
    from reports.narrative.draft import draft_for

    text = draft_for(board["report"])
    assert "### What improved" in text and "### Out of date or missing" in text
    assert "- **Victim satisfaction**: no figures (Staffordshire Police)." in text
    for line in text.splitlines():
        if line.startswith("- **") and "**:" not in line:
            name = line[4:].split("**", 1)[0]
            assert line.count(name) == 1, line
    assert "### Questions for the board" in text and "?" in text.split("### Questions for the board")[1]


@pytest.mark.slow
@pytest.mark.django_db
def test_the_demo_board_pack_covers_every_measure_the_dashboard_shows(tmp_path):
    """The demo as a new user meets it: seed, publish the quarter, draft the report, build the pack."""
    from django.core.management import call_command

    from frameworks.selectors import current_framework
    from metrics.models import FrameworkMetric
    from reports.management.commands.seed_demo import DEMO_QUARTER
    from reports.models import Report, Snapshot

    call_command("seed_demo", stdout=io.StringIO())  # publishes the demo's quarter and drafts its report
    framework = current_framework()
    snapshot = Snapshot.objects.in_scope().get(period=DEMO_QUARTER.end_date)
    report = Report.objects.get(snapshot=snapshot)
    text = "\n".join(pdf_text(build_pack_pdf(report=report, use_browser=False), tmp_path))
    words = " ".join(text.split())
    dashboard = build_evidence(
        framework=framework, area=framework.home_area, period=snapshot.period, source=FigureSource(snapshot)
    )
    names = list(FrameworkMetric.objects.filter(framework=framework).values_list("metric__name", flat=True))
    assert len(names) == len(dashboard) > 20
    for name in names:
        assert words.count(name) >= 3, name  # at a glance, its section, the data pack
    for item in dashboard:
        if item.has_figures:
            assert f"No figures for {item.metric.name}" not in words
    assert words.count("No chart: there are no figures to draw") == sum(1 for e in dashboard if not e.has_figures)
    # one comparison table per measure with figures, and the methods page
    assert words.count("Same quarter last year") == sum(1 for e in dashboard if e.has_figures) + 1
    assert "Fairness: Stop and search rate per 1,000 population by ethnicity" in words
    assert "Verdict withheld: ethnicity recorded for 3% of records; 80% needed" in words
    # made-up figures say so wherever they are printed, whatever the analyst kept of the finding
    illustrative = [e for e in dashboard if e.illustrative]
    assert len(illustrative) >= 5
    assert words.count("Illustrative figures: made up for the demonstration") >= len(illustrative)
    assert words.count("illustrative figures, made up for the demonstration: not published data") >= len(
        illustrative
    )  # the data pack's notes
