"""The test clock kept on one day."""

import datetime as dt

import pytest
from django.utils import timezone


def pin_today(monkeypatch: pytest.MonkeyPatch, today: dt.date) -> None:
    """Keep the clock on ``today`` (a module's ``TODAY``, taken when it was imported): a run that crosses
    midnight would otherwise have the fixtures' "today" and the pages' a day apart. The clock still runs
    (events keep their order); only whole days are taken off."""
    real_now = timezone.now

    def now() -> dt.datetime:
        moment = real_now()
        return moment - dt.timedelta(days=(timezone.localtime(moment).date() - today).days)

    monkeypatch.setattr(timezone, "now", now)
