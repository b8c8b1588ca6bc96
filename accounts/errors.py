"""The error pages (400, 403, 404, 500) and the one-line log of refused requests.

403 and 404 use Django's own views with our templates (``templates/403.html``, ``404.html``: the site's
navigation kept). 400 says what was wrong when our code said it (``BadRequest``, e.g. an unknown quarter);
500 is a static page that needs neither the database nor context processors."""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400, with the message when our code raised ``BadRequest`` (a filter it could not read)."""
    message = ""
    if isinstance(exception, BadRequest) and not isinstance(exception, SuspiciousOperation):
        message = str(exception)
    body = loader.get_template("400.html").render({"message": message}, request)
    return HttpResponseBadRequest(body)


class RefusalsInOneLine(logging.Filter):
    """Django logs every 4xx answer to an exception (403 permission denied, 400 bad request) on
    ``django.request`` with the exception's traceback; a refusal is no fault, so keep the line, drop the
    traceback. Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
