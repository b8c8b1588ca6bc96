"""PDF board packs: content, contents page numbers, vector charts, marking on every page, fallback."""

import io
import os
import subprocess

import docx
import pytest

from reports.packs.build import build_pack_pdf
from reports.packs.svg import render_svgs

from .test_reporting import publish_report, published  # noqa: F401

pytestmark = pytest.mark.pdf  # builds PDFs with WeasyPrint


def pdf_pages(pdf, tmp_path):
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return path, text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.browser
def test_board_pack(published, tmp_path):  # noqa: F811
    report = publish_report(published)
    pdf = build_pack_pdf(report=report, public=False)
    path, pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 5
    assert all("OFFICIAL" in page for page in pages)
    assert all(f"of {len(pages)}" in page for page in pages)
    text = "\n".join(pages)
    for name in ("Police recorded crime", "Ethnicity recorded", "Prison population", "Prisoners on remand"):
        assert name in text
    # The contents page's numbers point at the pages the sections start on.
    contents = next(page for page in pages if "Contents" in page)
    for heading in ("Executive summary", "Offending", "Appendix A: data pack", "Appendix D: method and symbols"):
        line = next(line for line in contents.splitlines() if heading in line)
        number = int(line.rstrip().split()[-1].strip("."))
        assert heading in pages[number - 1]
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only: no raster image
    assert "Chart not drawn" not in text
    # The same snapshot gives the same file.
    assert build_pack_pdf(report=report, public=False) == pdf


def test_pack_without_a_browser_uses_tables(published, tmp_path, monkeypatch):  # noqa: F811
    report = publish_report(published)
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    monkeypatch.setattr("reports.packs.svg.shutil.which", lambda name: None)
    real_exists = os.path.exists
    monkeypatch.setattr(
        "reports.packs.svg.os.path.exists", lambda path: path != "/usr/bin/chromium" and real_exists(path)
    )
    pdf = build_pack_pdf(report=report, public=False)
    _, pages = pdf_pages(pdf, tmp_path)
    text = "\n".join(pages)
    assert "Chart not drawn (no browser available to render it)" in text
    assert "2024/25 Q1" in text


def test_public_pack_suppresses_small_numbers(published, tmp_path):  # noqa: F811
    report = publish_report(published)
    pdf = build_pack_pdf(report=report, public=True, use_browser=False)
    _, pages = pdf_pages(pdf, tmp_path)
    text = "\n".join(pages)
    assert "[c]" in text
    assert "Ethnicity recorded" not in text


def test_render_svgs_of_nothing():
    assert render_svgs([]) == []


ROLES = ["anonymous", "analyst", "board", "manager", "no_role"]


@pytest.mark.parametrize("role", ROLES)
def test_pack_views_for_every_role(published, client, role, django_capture_on_commit_callbacks, monkeypatch):  # noqa: F811
    from django.urls import reverse

    from reports.models import BoardPack

    from ..factories import UserFactory

    monkeypatch.setattr("reports.packs.build.chromium_path", lambda: None)  # fast: tables instead of charts
    report = publish_report(published)
    people = {**published, "no_role": UserFactory(username="nobody", role="")}
    manager = published["manager"]
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pack-start", args=[report.pk]), {"edition": "public"})
    pack = BoardPack.objects.get()
    assert response.url == reverse("pack-detail", args=[pack.pk])
    assert pack.state == "ready"
    assert pack.sha256 and pack.size == len(bytes(pack.pdf))
    assert "tables" in pack.message
    client.logout()
    if role != "anonymous":
        client.force_login(people[role])
    readers = role in ("analyst", "board", "manager")
    for name in ("pack-detail", "pack-progress", "pack-download"):
        response = client.get(reverse(name, args=[pack.pk]))
        if readers:
            assert response.status_code == 200
        elif role == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == 403
    download = client.get(reverse("pack-download", args=[pack.pk])) if readers else None
    if download is not None:
        assert download["Content-Type"] == "application/pdf"
        assert download.content[:5] == b"%PDF-"
    retry = client.post(reverse("pack-retry", args=[pack.pk]))  # a ready pack: a message, nothing queued
    assert retry.status_code == (302 if role in ("manager", "anonymous") else 403)
    start = client.post(reverse("pack-start", args=[report.pk]), {"edition": "board"})
    assert start.status_code == (302 if role in ("manager", "anonymous") else 403)
    public = client.get(reverse("public-pack", args=[report.pk]))
    assert public.status_code == 200
    assert public.content[:5] == b"%PDF-"


def test_a_double_submit_queues_one_build(published, client, django_capture_on_commit_callbacks):  # noqa: F811
    """Two clicks on "Build" while the first pack is queued: one pack, one task, one audit event."""
    from django.urls import reverse

    from accounts.models import AuditEvent
    from reports.models import BoardPack

    report = publish_report(published)
    client.force_login(published["manager"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.post(reverse("pack-start", args=[report.pk]), {"edition": "board"})
        second = client.post(reverse("pack-start", args=[report.pk]), {"edition": "board"})
    pack = BoardPack.objects.get()
    assert first.url == second.url == reverse("pack-detail", args=[pack.pk])
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action="pack.requested").count() == 1


def test_a_pack_moves_through_its_states_with_audit(published, monkeypatch):  # noqa: F811
    from accounts.access import system_actor
    from accounts.models import AuditEvent
    from accounts.workflow import IllegalTransition
    from reports.models import PackState
    from reports.packs.services import pack_failed, pack_request
    from reports.tasks import build_pack_task

    monkeypatch.setattr("reports.packs.build.chromium_path", lambda: None)
    report = publish_report(published)
    pack, new = pack_request(actor=published["manager"], report=report, public=False)
    assert new and pack.state == PackState.QUEUED
    build_pack_task.enqueue(pack.pk)
    pack.refresh_from_db()
    assert pack.state == PackState.READY and pack.progress == 100
    actions = list(
        AuditEvent.objects.filter(object_type="reports.boardpack", object_id=str(pack.pk))
        .order_by("pk")
        .values_list("action", "actor")
    )
    system = system_actor().pk
    assert actions == [
        ("pack.requested", published["manager"].pk),
        ("pack.started", system),
        ("pack.built", system),
    ]
    with pytest.raises(IllegalTransition):
        pack_failed(pack_id=pack.pk, error="too late")  # a ready pack stays ready


@pytest.mark.browser
def test_a_board_pack_builds_its_evidence_once_and_draws_every_chart_in_one_browser(published, monkeypatch):  # noqa: F811
    """The worker's build of a board pack (its PDF and its Word document): one evidence build, one browser
    session for every chart, each chart drawn once (an SVG: the document's PNGs are rasterised from it)."""
    import kaleido

    from reports.models import PackState
    from reports.narrative import editions
    from reports.packs.services import pack_request
    from reports.tasks import build_pack_task

    builds, browsers, formats = [], [], []
    real_build, real_open, real_calc = editions.build_evidence, kaleido.Kaleido.open, kaleido.Kaleido.calc_fig

    def build_evidence(**kwargs):
        builds.append(kwargs["public"])
        return real_build(**kwargs)

    async def open_browser(self):
        browsers.append(self)
        await real_open(self)

    async def calc_fig(self, fig, opts=None, **kwargs):
        formats.append(opts["format"])
        return await real_calc(self, fig, opts=opts, **kwargs)

    monkeypatch.setattr(editions, "build_evidence", build_evidence)
    monkeypatch.setattr(kaleido.Kaleido, "open", open_browser)
    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", calc_fig)
    report = publish_report(published)
    pack, _ = pack_request(actor=published["manager"], report=report, public=False)
    build_pack_task.enqueue(pack.pk)
    pack.refresh_from_db()
    assert pack.state == PackState.READY and pack.charts_rendered
    assert pack.docx is not None
    assert builds == [False]
    assert len(browsers) == 1
    pictures = docx.Document(io.BytesIO(bytes(pack.docx))).inline_shapes
    assert set(formats) == {"svg"} and len(formats) == len(pictures) > 0


@pytest.mark.parametrize(
    ("message", "shown"),
    [("Ready", "Ready."), ("Ready (charts shown as tables: no browser was available)", "Ready (charts shown as")],
)
def test_a_ready_pack_says_ready_once(client, published, message, shown):  # noqa: F811
    """The pack page said "Ready. Ready": the state, then the message that starts with it."""
    from django.urls import reverse

    from reports.models import BoardPack, PackState

    report = publish_report(published)
    pack = BoardPack.objects.create(report=report, state=PackState.READY, progress=100, message=message)
    client.force_login(published["manager"])
    html = client.get(reverse("pack-detail", args=[pack.pk])).content.decode()
    state = html.split('id="pack-state">')[1].split("</p>")[0].replace("<strong>", "").replace("</strong>", "")
    assert state.startswith(shown) and state.count("Ready") == 1
