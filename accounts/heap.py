"""The web server's heap, settled once the app is loaded (``pcc_perf.wsgi``; ``bench_pages`` as the server does)."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Import every view (the URLconf names them all) and move every object alive now out of the garbage
    collector's reach (``gc.freeze``): Django, the views and their libraries (pandas, Plotly …) stay for the
    life of the process, yet every full collection walked them all again. A national overview made one every
    few requests, ~40 ms each: its 90th percentile was nearly twice its median. Frozen before gunicorn forks
    its workers (``preload_app``), the workers also share those pages instead of copying them as the
    collector touched them. Objects made later are collected as before."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the URLconf, and so every view module, imported now
    gc.collect()
    gc.freeze()
