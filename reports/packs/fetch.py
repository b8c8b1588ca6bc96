"""What WeasyPrint may read while it lays out a pack: the app's own static files and ``data:`` URIs, nothing
else. No http(s), ftp or other scheme, and no ``file://`` outside the static folders (``../../etc/hostname``
resolved against the base URL is refused like any other local path)."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A resource the pack may not read (WeasyPrint leaves it out and carries on)."""


def static_roots() -> list[Path]:
    """Every folder the app's static files are found in: STATICFILES_DIRS, each app's static/, STATIC_ROOT."""
    roots = []
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(str(entry[1] if isinstance(entry, tuple | list) else entry)))
    roots += [Path(app.path) / "static" for app in apps.get_app_configs()]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots if root.is_dir()]


def static_file(url: str) -> Path | None:
    """The static file ``url`` names (a ``file://`` URL inside a static folder), or None."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(url2pathname(unquote(parts.path))).resolve()
    if not path.is_file():
        return None
    return path if any(path.is_relative_to(root) for root in static_roots()) else None


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to the app's static files and ``data:`` URIs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allowed_protocols=["file", "data"], allow_redirects=False, **kwargs)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        path = static_file(url) if scheme == "file" else None
        if path is None:
            logger.warning("Board pack: refused to fetch %s (only the app's static files may be read)", url[:200])
            raise RefusedURL(f"Only the app's static files may be read, not {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
