"""What was published keeps the words it was published with: renaming a metric, rewriting its definition or
editing an annotation afterwards changes no snapshot page, report edition, pack or snapshot API answer (they
read what the snapshot froze); the live pages show the change."""

import pytest
from django.urls import reverse

from accounts.models import Agency
from metrics.imports.commit import import_file
from metrics.models import Metric
from reports.models import Annotation
from reports.narrative.editions import edition
from reports.packs.build import build_pack_html
from reports.snapshots.services import snapshot_publish

from ..metrics.returns_setup import HEADER, PERIOD
from .test_reporting import publish_report

ROWS = HEADER + "".join(
    f"OFF01,staffordshire,{q},,,{v},,,final,\n"
    for q, v in [("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212), ("2024-06-30", 20800)]
)
OLD = {
    "name": "Police recorded crime",
    "description": "Offences recorded by the police, excluding fraud.",
    "caveats": "Recording practice improved in 2014.",
    "note": "New charging unit",
}
NEW = {
    "name": "Crimes (renamed after publication)",
    "description": "A rewritten definition.",
    "caveats": "A rewritten caveat.",
    "note": "Edited after publication",
}


@pytest.fixture
def changed_after_publication(setup):
    police = Agency.objects.get(code="police")
    assert import_file(content=ROWS.encode(), filename="data.csv", agency=police).accepted
    Metric.objects.filter(code="OFF01").update(description=OLD["description"], caveats=OLD["caveats"])
    note = Annotation.objects.create(
        metric=Metric.objects.get(code="OFF01"), area=None, period=PERIOD, text=OLD["note"], kind="context"
    )
    snapshot = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="test")
    report = publish_report({**setup, "snapshot": snapshot})
    # Afterwards, in the admin: the metric is renamed and redefined, its direction flipped, the note edited.
    Metric.objects.filter(code="OFF01").update(
        name=NEW["name"], description=NEW["description"], caveats=NEW["caveats"], direction="higher_is_better"
    )
    note.text = NEW["note"]
    note.save()
    return {**setup, "snapshot": snapshot, "report": report}


def assert_as_published(text):
    for key in ("name", "note"):
        assert OLD[key] in text, key
        assert NEW[key] not in text, key


def test_the_snapshots_metric_page_reads_the_published_definition_and_notes(changed_after_publication, client):
    s = changed_after_publication
    client.force_login(s["board"])
    url = reverse("dashboard-metric", args=["OFF01"])
    page = client.get(url, {"snapshot": s["snapshot"].pk}).content.decode()
    assert_as_published(page)
    assert OLD["description"] in page and OLD["caveats"] in page
    assert NEW["description"] not in page and NEW["caveats"] not in page
    assert "Lower is better" in page
    live = client.get(url).content.decode()
    assert NEW["name"] in live and NEW["note"] in live and NEW["description"] in live
    overview = client.get(reverse("dashboard"), {"snapshot": s["snapshot"].pk}).content.decode()
    assert OLD["name"] in overview and NEW["name"] not in overview
    exported = client.get(url, {"snapshot": s["snapshot"].pk, "format": "csv"}).content.decode()
    assert OLD["description"] in exported and NEW["description"] not in exported


def test_the_published_report_reads_the_published_definition_and_notes(changed_after_publication, client):
    s = changed_after_publication
    assert_as_published(client.get(reverse("public-report", args=[s["report"].pk])).content.decode())
    client.force_login(s["board"])
    assert_as_published(client.get(reverse("report-detail", args=[s["report"].pk])).content.decode())
    (section,) = edition(report=s["report"], public=False)
    (line,) = [line for line in section.lines if line.metric.code == "OFF01"]
    assert (line.metric.name, line.metric.direction) == (OLD["name"], "lower_is_better")


def test_the_pack_reads_the_published_definition_and_notes(changed_after_publication):
    html = build_pack_html(report=changed_after_publication["report"], public=False, use_browser=False)
    assert_as_published(html)
    assert OLD["description"] in html and NEW["description"] not in html


def test_the_snapshot_api_answers_with_the_published_direction(changed_after_publication, client):
    s = changed_after_publication
    client.force_login(s["board"])
    url = reverse("api-series")
    published = client.get(url, {"metric": "OFF01", "area": "staffordshire", "snapshot": s["snapshot"].pk}).json()
    assert published["direction"] == "lower_is_better"
    assert client.get(url, {"metric": "OFF01", "area": "staffordshire"}).json()["direction"] == "higher_is_better"


def test_a_metric_marked_public_after_publication_stays_out_withdrawn_goes(setup, client):
    police = Agency.objects.get(code="police")
    rows = HEADER + "FAIR03,staffordshire,2024-06-30,,,,1400,1455,final,\n"
    assert import_file(content=rows.encode(), filename="data.csv", agency=police).accepted
    snapshot = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="test")
    report = publish_report({**setup, "snapshot": snapshot})
    url = reverse("public-report", args=[report.pk])
    Metric.objects.filter(code="FAIR03").update(public=True)
    assert "Ethnicity recorded" not in client.get(url).content.decode()
    second = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="again")
    report = publish_report({**setup, "snapshot": second})
    url = reverse("public-report", args=[report.pk])
    assert "Ethnicity recorded" in client.get(url).content.decode()
    # Withdrawn from public view (unmarked): a published public edition no longer shows it.
    Metric.objects.filter(code="FAIR03").update(public=False)
    assert "Ethnicity recorded" not in client.get(url).content.decode()
