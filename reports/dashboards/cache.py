"""Page evidence cache: a dashboard page's content, rendered once for every reader of the same page.

What a dashboard page shows below the navigation depends only on the approved data (or a snapshot), the
framework and the query string: never on who reads it, as long as the reader may see approved data (every
dashboard page requires it). So it is rendered once and kept in the cache (Redis when ``REDIS_URL`` is
set, else each process's memory) under a key made of:

- the approved-data version (``accounts.versions.data_version``: one query), which every change to approved
  data, snapshots, the framework, rebases and annotations moves on, in the same transaction: nothing is ever
  deleted, a changed page simply has a new key, in every process at once;
- the partnership of the request (``accounts.tenancy``) and its framework (id and version): a partnership's
  readers never share another's pages, even for the same path and query string (a page is only cached when
  the framework shown is the current partnership's);
- the page, its path and its query string (area, quarter, priority, snapshot, window …);
- ``SCOPE``: what the reader may see. Only approved data is ever cached; a page that shows a reader anything
  more (a form with their CSRF token, unapproved figures) is not cached at all (``cacheable=False``).

The navigation, messages and scripts (per user) are rendered around the cached part on every request."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from accounts.tenancy import current_partnership_id
from accounts.versions import data_version
from frameworks.models import Framework

logger = logging.getLogger(__name__)

SCOPE = "approved"  # dashboard pages show approved data (or a published snapshot) to whoever may see it


def caching() -> bool:
    """Whether pages are cached at all (not under tests' dummy cache, nor with a cache time of 0)."""
    return settings.PAGE_CACHE_SECONDS > 0 and not isinstance(caches["default"], DummyCache)


def page_key(request: HttpRequest, *, page: str, framework: Framework) -> str:
    """The cache key of ``page`` as ``request`` asks for it, at the approved-data version now, in the current
    partnership."""
    query = "&".join(f"{name}={value}" for name, values in sorted(request.GET.lists()) for value in values)
    asked = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()[:32]
    partnership = current_partnership_id()
    return f"page:{page}:{SCOPE}:{data_version()}:p{partnership}:fw{framework.pk}.{framework.version}:{asked}"


def cached_part(
    request: HttpRequest,
    *,
    page: str,
    framework: Framework,
    render: Callable[[], dict[str, str]],
    cacheable: bool = True,
) -> dict[str, SafeString]:
    """The page's rendered parts (``{"body": html, …}``): from the cache when this page at this data version
    was rendered before, else ``render()``'s (then kept for the next reader). A framework that is not the
    current partnership's is never cached (nothing cached under one partnership is served to another)."""
    if not cacheable or not caching() or framework.partnership_id != current_partnership_id():
        return {k: mark_safe(v) for k, v in render().items()}  # noqa: S308 - rendered by our templates
    key = page_key(request, page=page, framework=framework)
    try:
        parts = cache.get(key)
    except Exception:  # the cache server is down: the page is rendered, never an error
        logger.warning("page cache unavailable: rendering %s without it", page, exc_info=True)
        parts, key = None, ""
    if parts is None:
        parts = render()
        if key:
            try:
                cache.set(key, {k: str(v) for k, v in parts.items()}, settings.PAGE_CACHE_SECONDS)
            except Exception:
                logger.warning("page cache unavailable: %s not kept", page, exc_info=True)
    return {k: mark_safe(v) for k, v in parts.items()}  # noqa: S308 - rendered by our templates
