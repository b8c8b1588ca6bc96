"""The worker's pack build (``build_pack_files``) starts its one Chromium before the evidence is built
(its start overlaps that work), hands it the figures before writing the Word document (written while it
draws, and the pages laid out meanwhile) and closes it in every case: drawn, the build failing meanwhile, the
browser failing while it draws (the pack then falls back to tables, the Word document too)."""

import io
import os
import threading
import time
from pathlib import Path

import docx
import kaleido
import pytest

from reports.packs import build
from reports.packs.content import pack_parts
from reports.packs.svg import BrowserBatch, _batch_kaleido

from .test_reporting import publish_report, published  # noqa: F401

pytestmark = [pytest.mark.pdf, pytest.mark.browser]


def descendants() -> list[tuple[int, str]]:
    """This process's descendants, each as (pid, command name), from /proc."""
    out, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                try:
                    out.append((child, Path(f"/proc/{child}/comm").read_text().strip()))
                except OSError:
                    continue
                todo.append(child)
    return out


def _chromiums() -> set[tuple[int, str]]:
    return {(pid, name) for pid, name in descendants() if "chrom" in name.lower()}


_BEFORE: set[tuple[int, str]] = set()


@pytest.fixture(autouse=True)
def _browsers_before():
    """The Chromium processes already under this process when a test starts (a browser test's session
    Chromium, started by Playwright): not the pack's."""
    _BEFORE.clear()
    _BEFORE.update(_chromiums())


def browsers(*, within: float = 10.0) -> list[tuple[int, str]]:
    """The Chromium processes under this process that were not there when the test started and are still
    running ``within`` seconds from now (a closed browser's processes take a moment to exit, longer on a
    loaded machine); living or not yet reaped, they are a browser left open."""
    deadline = time.monotonic() + within
    while True:
        left = sorted(_chromiums() - _BEFORE)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture
def opened(monkeypatch):
    """Set when kaleido starts opening the browser."""
    event = threading.Event()
    real_open = kaleido.Kaleido.open

    async def open_browser(self):
        event.set()
        await real_open(self)

    monkeypatch.setattr(kaleido.Kaleido, "open", open_browser)
    return event


@pytest.fixture
def laid_out_after(monkeypatch):
    """The pages' HTML each time the pack is laid out after its charts are drawn (not early)."""
    seen: list[str] = []
    real_render = build._render

    def render(html):
        seen.append(html)
        return real_render(html)

    monkeypatch.setattr(build, "_render", render)
    return seen


def test_chromium_starts_while_the_evidence_is_built(published, opened, monkeypatch):  # noqa: F811
    report = publish_report(published)
    seen = []

    def parts_while_the_browser_starts(**kwargs):
        seen.append(opened.wait(timeout=20))  # the browser is starting before the evidence is done
        for _ in range(100):  # and its process shows (so ``browsers()`` sees one when there is one)
            if browsers():
                break
            time.sleep(0.1)
        seen.append(bool(browsers()))
        return pack_parts(**kwargs)

    monkeypatch.setattr(build, "pack_parts", parts_while_the_browser_starts)
    sessions = _batch_kaleido().sessions
    pdf, word, drawn = build.build_pack_files(report=report, public=False)
    assert seen == [True, True]
    assert drawn and pdf.startswith(b"%PDF")
    assert _batch_kaleido().sessions == sessions + 1  # still one browser for the pack
    assert word is not None and len(docx.Document(io.BytesIO(word)).inline_shapes) > 0
    assert browsers() == []


def test_the_pages_laid_out_while_the_browser_draws_give_the_same_pdf(published, laid_out_after):  # noqa: F811
    """The worker's build lays the pages out with blanks of the charts' size while the browser draws,
    then draws the charts into them: the same PDF, byte for byte, as laying out with the charts."""
    report = publish_report(published)
    pdf, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and laid_out_after == []  # the early layout was used, not a second one
    assert pdf == build.build_pack_pdf(report=report, public=False)
    assert len(laid_out_after) == 1  # (that one laid out with the charts)


def test_when_the_drawn_charts_cannot_go_into_the_early_layout_the_pack_is_laid_out_again(
    published,  # noqa: F811
    laid_out_after,
    monkeypatch,
    caplog,
):
    """The early layout puts the drawn charts into WeasyPrint's images through its internals: should those
    change (a WeasyPrint upgrade), the pack is laid out again with the charts, the same PDF, never lost."""
    report = publish_report(published)

    def changed(image, svg):
        raise AttributeError("'SVGImage' object has no attribute '_svg'")

    monkeypatch.setattr(build, "_put_svg", changed)
    pdf, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and len(laid_out_after) == 1  # laid out again, with the charts
    assert "laying the pack out again" in caplog.text
    monkeypatch.undo()
    assert pdf == build.build_pack_pdf(report=report, public=False)


def test_the_word_document_is_written_while_the_browser_draws(published, monkeypatch):  # noqa: F811
    from reports.packs import word

    report = publish_report(published)
    drawing, seen = threading.Event(), []
    real_calc, real_start = kaleido.Kaleido.calc_fig, word.start_pack_docx

    async def calc_fig(self, fig, opts=None, **kwargs):
        drawing.set()
        return await real_calc(self, fig, opts=opts, **kwargs)

    def start_while_drawing(**kwargs):
        seen.append(drawing.wait(timeout=20))  # the browser has its figures before the document is written
        return real_start(**kwargs)

    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", calc_fig)
    monkeypatch.setattr(word, "start_pack_docx", start_while_drawing)
    _, document, drawn = build.build_pack_files(report=report, public=False)
    assert seen == [True] and drawn
    assert len(docx.Document(io.BytesIO(document or b"")).inline_shapes) > 0
    assert browsers() == []


def test_the_browser_is_closed_when_the_build_fails_before_drawing(published, opened, monkeypatch):  # noqa: F811
    report = publish_report(published)
    earlier = set(threading.enumerate())  # (an earlier test's browser left to close by itself is not this one's)

    def failing_parts(**kwargs):
        assert opened.wait(timeout=20)  # the browser is starting
        raise RuntimeError("the evidence could not be built")

    monkeypatch.setattr(build, "pack_parts", failing_parts)
    with pytest.raises(RuntimeError, match="could not be built"):
        build.build_pack_files(report=report, public=False)
    assert browsers() == []
    assert not [t for t in threading.enumerate() if t.name == "pack-browser" and t not in earlier]


def test_a_browser_failing_while_drawing_gives_tables_and_is_closed(published, monkeypatch):  # noqa: F811
    report = publish_report(published)

    async def calc_fig(self, fig, opts=None, **kwargs):
        raise RuntimeError("the renderer crashed")

    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", calc_fig)
    pdf, word, drawn = build.build_pack_files(report=report, public=False)
    assert not drawn and pdf.startswith(b"%PDF")
    document = docx.Document(io.BytesIO(word or b""))
    assert len(document.inline_shapes) == 0
    assert any("Chart not drawn" in p.text for p in document.paragraphs)
    assert browsers() == []


def test_a_browser_batch_never_asked_to_draw_closes_its_browser(opened):
    with BrowserBatch():
        assert opened.wait(timeout=20)
    assert browsers() == []
    with BrowserBatch() as batch:
        assert batch.draw([]) == []
    assert browsers() == []


def test_when_rasterising_for_word_fails_the_pdf_keeps_its_charts_and_word_shows_tables(
    published,  # noqa: F811
    monkeypatch,
):
    report = publish_report(published)

    def broken(*args, **kwargs):
        raise RuntimeError("the rasteriser's process died")

    monkeypatch.setattr(build, "svg_to_png", broken)  # (not even sent to the rasteriser's process: it fails)
    pdf, word, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and pdf == build.build_pack_pdf(report=report, public=False)
    document = docx.Document(io.BytesIO(word or b""))
    assert len(document.inline_shapes) == 0
    assert any("Chart not drawn" in p.text for p in document.paragraphs)
    assert browsers() == []


def test_a_failing_or_unknown_early_layout_leaves_the_pack_laid_out_once_drawn(published, monkeypatch):  # noqa: F811
    import weasyprint

    report = publish_report(published)
    expected = build.build_pack_pdf(report=report, public=False)

    def failing(**kwargs):
        raise RuntimeError("WeasyPrint could not lay the blanks out")

    monkeypatch.setattr(build, "lay_out_early", failing)
    pdf, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and pdf == expected
    monkeypatch.undo()
    laid_out_early = []
    monkeypatch.setattr(build, "lay_out_early", lambda **kwargs: laid_out_early.append(kwargs))
    monkeypatch.setattr(weasyprint, "__version__", "99.0")  # not the version the early layout was written for
    pdf, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and pdf == expected and laid_out_early == []


def test_a_browser_that_hangs_while_drawing_gives_tables_in_time(published, monkeypatch):  # noqa: F811
    import asyncio

    from reports.packs import svg

    report = publish_report(published)

    async def calc_fig(self, fig, opts=None, **kwargs):
        await asyncio.sleep(8)  # hung (for this test: long enough to miss the deadline, then it gives up)
        raise RuntimeError("gave up")

    given_up = []
    real_draw = build.draw_charts

    def draw_charts(*args, **kwargs):
        real_draw(*args, **kwargs)
        given_up.append(time.monotonic())

    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", calc_fig)
    monkeypatch.setattr(build, "draw_charts", draw_charts)
    monkeypatch.setattr(svg, "DRAW_SECONDS", 0.5)
    drawing = time.monotonic()
    pdf, _, drawn = build.build_pack_files(report=report, public=False)
    assert not drawn and pdf.startswith(b"%PDF")
    assert given_up[0] - drawing < 6  # the charts given up on at the deadline, not when the browser gave up
    assert browsers() == []


def test_a_browser_that_does_not_open_is_replaced_and_killed(published, monkeypatch):  # noqa: F811
    """kaleido's open can wait for ever (a page load reported before it listens): after OPEN_SECONDS (or
    a failed start) a second browser draws the pack, and the first is closed."""
    import asyncio

    from reports.packs import svg

    report = publish_report(published)
    real_open, opens = kaleido.Kaleido.open, []

    async def open_(self):
        opens.append(self)
        await real_open(self)
        if len(opens) == 1:
            await asyncio.sleep(3600)  # the first browser is up, but its open never returns

    monkeypatch.setattr(kaleido.Kaleido, "open", open_)
    monkeypatch.setattr(svg, "OPEN_SECONDS", 10.0)  # a real open takes ~1.5 s, longer on a loaded machine
    started = time.monotonic()
    _, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and len(opens) == 2
    assert time.monotonic() - started < 60
    assert browsers() == []


def test_a_browser_that_does_not_close_is_killed(published, monkeypatch):  # noqa: F811
    import asyncio

    from reports.packs import svg

    report = publish_report(published)
    hung = []

    async def close(self):
        hung.append(self)
        await asyncio.sleep(3600)

    monkeypatch.setattr(kaleido.Kaleido, "close", close)
    monkeypatch.setattr(svg, "SHUT_SECONDS", 1.0)
    earlier = set(threading.enumerate())
    _, _, drawn = build.build_pack_files(report=report, public=False)
    assert drawn and hung
    assert browsers() == []
    deadline = time.monotonic() + 20
    while [t for t in threading.enumerate() if t.name == "pack-browser" and t not in earlier]:
        assert time.monotonic() < deadline, "the browser's thread did not end"
        time.sleep(0.1)
