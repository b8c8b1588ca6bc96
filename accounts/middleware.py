"""A write the database keeps from happening (a published snapshot or report, the audit trail) reads as a
clear refusal, never a server error."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .immutable import ImmutableError, immutable_message


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
