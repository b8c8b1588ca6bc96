"""PDF board packs: content, contents page numbers, vector charts, marking on every page, fallback."""

import subprocess

import pytest

from reports.packs import build_pack_pdf, render_svgs

from .test_reporting import publish_report, published  # noqa: F401


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
    for heading in ("Executive summary", "Offending", "Appendix: definitions, method and symbols"):
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
    monkeypatch.setattr("reports.packs.shutil.which", lambda name: None)
    monkeypatch.setattr("reports.packs.os.path.exists", lambda path: False)
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
