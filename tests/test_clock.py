"""The pinned clock: a run crossing midnight keeps the module's "today"."""

import datetime as dt

from django.utils import timezone

from .clock import pin_today


def test_after_midnight_the_pinned_clock_is_still_on_the_day_and_still_runs(monkeypatch):
    today = dt.date(2026, 12, 6)
    ticks = iter([dt.datetime(2026, 12, 7, 0, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 7, 0, 2, tzinfo=dt.UTC)])
    monkeypatch.setattr(timezone, "now", lambda: next(ticks))
    pin_today(monkeypatch, today)
    first, second = timezone.now(), timezone.now()
    assert timezone.localtime(first).date() == today
    assert second - first == dt.timedelta(minutes=1)


def test_on_the_day_the_pinned_clock_is_the_real_one(monkeypatch):
    moment = dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    pin_today(monkeypatch, dt.date(2026, 12, 6))
    assert timezone.now() == moment
    assert timezone.localdate() == dt.date(2026, 12, 6)
