"""A write the database keeps from happening (a published snapshot or report, the audit trail) reads as a
clear refusal, never a server error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .immutable import ImmutableError, immutable_message
from .models import Partnership


class ImmutableRefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        message = str(exception) if isinstance(exception, ImmutableError) else immutable_message(exception)
        if message is None:
            return None
        return render(request, "accounts/immutable.html", {"message": message}, status=409)


class CurrentPartnershipMiddleware:
    """Every request works in one partnership (``accounts.tenancy``), chosen here, after authentication:

    1. a public page names it in its path (``/public/<partnership>/…``: the view's ``partnership`` argument);
    2. else ``?partnership=CODE`` in the URL, when the user has a role there (remembered for their next pages);
    3. else the one the user chose last (kept in their session) while they still have a role there;
    4. else the first of the user's partnerships, or the installation's default one.

    ``?partnership=`` naming one the user has no role in is refused (404, whether or not it exists), so a link
    never shows one partnership's page under another's name. ``request.partnership`` is the choice."""

    SESSION_KEY = "pcc_partnership"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .tenancy import _current

        try:
            partnership = self.choose(request)
        except Http404 as exc:
            from django.views.defaults import page_not_found

            return page_not_found(request, exc)
        request.partnership = partnership  # type: ignore[attr-defined]
        token = _current.set(partnership)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)

    def choose(self, request: HttpRequest) -> Partnership:
        from .access import user_partnerships
        from .partnerships import default_partnership

        user = getattr(request, "user", None)
        mine = user_partnerships(user) if user is not None and user.is_authenticated else []
        asked = request.GET.get("partnership", "").strip()
        if asked:
            for partnership in mine:
                if partnership.code == asked:
                    if request.session.get(self.SESSION_KEY) != partnership.code:
                        request.session[self.SESSION_KEY] = partnership.code
                    return partnership
            if not (request.path.startswith("/public/") or request.path.startswith("/api/")):
                raise Http404("No such partnership for you.")
        remembered = request.session.get(self.SESSION_KEY) if hasattr(request, "session") else None
        if remembered:
            for partnership in mine:
                if partnership.code == remembered:
                    return partnership
        if mine:
            default = next((p for p in mine if p.code == settings.PCC_PERF_DEFAULT_PARTNERSHIP), None)
            return default or mine[0]
        return default_partnership()

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        """A public page's partnership is the one its path names (404 when there is none of that code)."""
        code = kwargs.get("partnership")
        if isinstance(code, str):
            from .tenancy import _current

            found = Partnership.objects.filter(code=code).first()
            if found is None:
                raise Http404("No such partnership.")
            request.partnership = found  # type: ignore[attr-defined]
            _current.set(found)  # the __call__ above resets it after the response
        return None
