"""The database itself refuses impossible figures (on SQLite and PostgreSQL alike), with the same checks on
observations, return values and snapshot observations (``metrics.models.figure_constraints``)."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import CheckConstraint

from accounts.models import Agency, Role, User
from frameworks.models import Area, AreaType, Framework
from metrics.models import CollectionRound, Observation, Return, ReturnValue, StoredFigure, Unit
from reports.models import Snapshot, SnapshotObservation

from ..factories import CategoryFactory, MetricFactory, ObservationFactory

PERIOD = dt.date(2024, 6, 30)
RULES = [
    "denominator_positive",
    "numerator_not_negative",
    "value_not_negative",
    "percentage_in_range",
    "numerator_within_denominator",
    "value_or_missing",
]
PREFIXES = {Observation: "observation", ReturnValue: "return_value", SnapshotObservation: "snapobs"}

Make = Callable[..., StoredFigure]


def refused(**kwargs: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ObservationFactory(**kwargs)


@pytest.fixture(params=[Observation, ReturnValue, SnapshotObservation], ids=lambda m: m.__name__)
def make(request, db) -> Make:
    """``make(unit, value=…, numerator=…, …)`` stores one figure in the table under test, for a metric of
    its own (so no two rows of a test collide on the uniqueness rules)."""
    model = request.param
    agency = Agency.objects.create(code="police", name="Police")
    area = Area.objects.create(code="staffordshire", name="Staffordshire", type=AreaType.POLICE_FORCE_AREA)
    parent: dict[str, Any] = {}
    if model is ReturnValue:
        round_ = CollectionRound.objects.create(period=PERIOD, due_date=dt.date(2024, 7, 31))
        parent = {"return_obj": Return.objects.create(round=round_, agency=agency)}
    elif model is SnapshotObservation:
        framework = Framework.objects.create(code="lcjb", name="LCJB", home_area=area)
        snapshot = Snapshot.objects.create(period=PERIOD, framework=framework, framework_version=1, framework_file="")
        parent = {"snapshot": snapshot, "period": PERIOD}
    else:
        parent = {"period": PERIOD}

    def stored(unit: str = Unit.COUNT, **figure: Any) -> StoredFigure:
        figure.setdefault("status", "final")
        metric = MetricFactory(unit=unit, agency=agency)
        return model.objects.create(metric=metric, area=area, unit=unit, **parent, **figure)

    return stored


def refuses(make: Make, unit: str = Unit.COUNT, **figure: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make(unit, **figure)


def test_the_three_tables_carry_the_same_named_checks():
    def checks(model: type[StoredFigure]) -> dict[str, Any]:
        prefix = PREFIXES[model]
        found = {c.name: c for c in model._meta.constraints if isinstance(c, CheckConstraint)}
        assert set(found) == {f"{prefix}_{rule}" for rule in RULES}
        return {name.removeprefix(f"{prefix}_"): c.condition for name, c in found.items()}

    assert checks(Observation) == checks(ReturnValue) == checks(SnapshotObservation)


def test_the_denominator_is_positive(make):
    refuses(make, Unit.PERCENTAGE, value=50, numerator=0, denominator=0)
    refuses(make, Unit.COUNT, value=50, denominator=0)
    refuses(make, Unit.RATIO, value=1, numerator=5, denominator=-5)
    make(Unit.RATIO, value=1.2, numerator=6, denominator=5)


def test_the_numerator_is_not_negative(make):
    refuses(make, Unit.PERCENTAGE, value=50, numerator=-1, denominator=5)
    refuses(make, Unit.SCORE, value=-1, numerator=-1, denominator=1)
    make(Unit.PERCENTAGE, value=0, numerator=0, denominator=5)


@pytest.mark.parametrize("unit", [u for u in Unit if u != Unit.SCORE])
def test_values_are_not_negative_except_scores(make, unit):
    refuses(make, unit, value=-1)
    make(unit, value=0)
    make(Unit.SCORE, value=-12.5)


def test_percentages_are_between_0_and_100(make):
    refuses(make, Unit.PERCENTAGE, value=100.1)
    refuses(make, Unit.PERCENTAGE, value=-1)
    make(Unit.PERCENTAGE, value=100, numerator=5, denominator=5)
    make(Unit.PERCENTAGE, value=0)
    make(Unit.COUNT, value=100.1)  # only percentages are capped


@pytest.mark.parametrize("unit", [Unit.PERCENTAGE, Unit.RATE_PER_1000, Unit.RATE_PER_100000])
def test_a_numerator_is_within_its_denominator_for_percentages_and_rates(make, unit):
    refuses(make, unit, value=50, numerator=6, denominator=5)
    make(unit, value=1, numerator=5, denominator=5)


def test_a_ratio_or_count_may_have_a_numerator_above_its_denominator(make):
    make(Unit.RATIO, value=1.2, numerator=6, denominator=5)
    make(Unit.COUNT, value=6, numerator=6, denominator=5)


def test_a_figure_is_a_value_or_a_missing_symbol_not_both(make):
    refuses(make, Unit.PERCENTAGE, value=None, missing="")
    refuses(make, Unit.PERCENTAGE, value=5, missing="x")
    refuses(make, Unit.PERCENTAGE, value=None, missing="q")
    make(Unit.PERCENTAGE, value=None, missing="x")
    make(Unit.COUNT, value=None, missing="z")


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
def test_an_analyst_must_belong_to_an_agency():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="lost", role=Role.ANALYST)
