"""The PDF renderer reads nothing but the app's own static files: a narrative's remote image is never requested
and a relative path never reads a file from the server; the Markdown sanitiser drops images altogether."""

import base64
import os
import struct
import subprocess
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings

from reports.models import ReportSection
from reports.narrative.editions import render_markdown
from reports.packs.build import build_pack_pdf

from .test_reporting import publish_report, published  # noqa: F401


def png(width=4, height=4):
    """A small valid PNG (red), to tell whether a renderer embedded it."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def http_server():
    """A local web server that records every request (an attacker's, or a cloud metadata endpoint)."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_the_markdown_sanitiser_drops_remote_and_local_images():
    html = render_markdown(
        "Crime fell. ![chart](http://127.0.0.1:9/c.png) ![x](//evil.example/x.png) "
        '<img src="../../../../etc/hostname"> <img src="file:///etc/passwd"> **Kept.**'
    )
    assert "<img" not in html
    assert "Crime fell." in html and "<strong>Kept.</strong>" in html


@pytest.mark.pdf
def test_a_pack_never_fetches_a_narratives_remote_or_local_image(published, http_server, tmp_path):  # noqa: F811
    base, requests = http_server
    local = tmp_path / "server-file.png"
    local.write_bytes(png())
    relative = os.path.relpath(local, settings.BASE_DIR)
    report = publish_report(published, narrative=f'![remote]({base}/pixel.png)\n\n<img src="{relative}">')
    section = ReportSection.objects.get(report=report)
    assert base in section.narrative and relative in section.narrative
    pdf = build_pack_pdf(report=report, public=False, use_browser=False)
    assert requests == []
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only: nothing was embedded


@pytest.mark.pdf
def test_the_renderer_refuses_everything_but_static_files(http_server, tmp_path, caplog):
    from weasyprint import HTML

    from reports.packs.fetch import RefusedURL, StaticOnlyFetcher, static_file

    base, requests = http_server
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    fetcher = StaticOnlyFetcher()
    for url in (f"{base}/x.png", secret.as_uri(), "file:///etc/hostname", "ftp://127.0.0.1/x"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    css = (settings.BASE_DIR / "static" / "css" / "pcc.css").resolve()
    assert fetcher.fetch(css.as_uri()).read() == css.read_bytes()
    assert static_file((settings.BASE_DIR / "static" / ".." / "pyproject.toml").as_uri()) is None
    data = "data:image/png;base64," + base64.b64encode(png()).decode()
    assert fetcher.fetch(data).read() == png()
    html = f'<p>x</p><img src="{base}/y.png"><img src="{os.path.relpath(secret, settings.BASE_DIR)}"><img src="{data}">'
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).write_pdf()
    assert requests == []
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 3  # the data: image only
    assert "refused to fetch" in caplog.text
