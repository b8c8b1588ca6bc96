"""The database itself refuses impossible observations (on SQLite and PostgreSQL alike)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from metrics.models import Unit

from ..factories import AreaFactory, CategoryFactory, MetricFactory, ObservationFactory


def refused(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        ObservationFactory(**kwargs)


@pytest.mark.django_db
def test_one_total_per_metric_area_quarter():
    obs = ObservationFactory()
    refused(metric=obs.metric, area=obs.area, period=obs.period, value=5)
    ObservationFactory(metric=obs.metric, area=obs.area, period=dt.date(2024, 9, 30))


@pytest.mark.django_db
def test_one_value_per_category():
    category = CategoryFactory(code="white")
    obs = ObservationFactory(category=category)
    refused(metric=obs.metric, area=obs.area, period=obs.period, category=category)
    # The total and another category of the same quarter are different observations.
    ObservationFactory(metric=obs.metric, area=obs.area, period=obs.period)
    ObservationFactory(metric=obs.metric, area=obs.area, period=obs.period, category=CategoryFactory(code="black"))


@pytest.mark.django_db
def test_checks():
    pct = MetricFactory(unit=Unit.PERCENTAGE)
    area = AreaFactory()
    refused(metric=pct, area=area, value=100.1)
    refused(metric=pct, area=area, value=-1)
    refused(metric=pct, area=area, value=50, numerator=6, denominator=5)
    refused(metric=pct, area=area, value=50, numerator=0, denominator=0)
    refused(metric=pct, area=area, value=50, numerator=-1, denominator=5)
    refused(metric=pct, area=area, value=None, missing="")
    refused(metric=pct, area=area, value=5, missing="x")
    refused(metric=pct, area=area, value=None, missing="q")
    ObservationFactory(metric=pct, area=area, value=None, missing="x")
    ObservationFactory(metric=pct, area=area, period=dt.date(2024, 9, 30), value=100, numerator=5, denominator=5)
    ratio = MetricFactory(unit=Unit.RATIO)
    ObservationFactory(metric=ratio, area=area, value=1.2, numerator=6, denominator=5)


@pytest.mark.django_db
def test_an_analyst_must_belong_to_an_agency():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="lost", role=Role.ANALYST)
