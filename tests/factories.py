"""factory_boy factories for the domain model."""

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from accounts.models import Agency, Role, User
from frameworks.models import Area, AreaType, Breakdown, BreakdownCategory, Framework, Priority
from metrics.models import Direction, FrameworkMetric, Metric, Observation, ObservationStatus, SourceType, Unit


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


class AreaFactory(DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"area-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())
    type = AreaType.POLICE_FORCE_AREA


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.BOARD_MEMBER
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BreakdownFactory(DjangoModelFactory):
    class Meta:
        model = Breakdown
        django_get_or_create = ("code",)

    code = "ethnicity"
    name = "Ethnicity"


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = BreakdownCategory
        django_get_or_create = ("breakdown", "code")

    breakdown = factory.SubFactory(BreakdownFactory)
    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class MetricFactory(DjangoModelFactory):
    class Meta:
        model = Metric
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Metric {o.code}")
    agency = factory.SubFactory(AgencyFactory, code="police")
    unit = Unit.COUNT
    direction = Direction.LOWER_IS_BETTER
    source_type = SourceType.OFFICIAL_STATISTICS


class FrameworkFactory(DjangoModelFactory):
    class Meta:
        model = Framework
        django_get_or_create = ("code",)

    code = "test-framework"
    name = "Test framework"
    home_area = factory.SubFactory(AreaFactory, code="staffordshire", name="Staffordshire")


class PriorityFactory(DjangoModelFactory):
    class Meta:
        model = Priority

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Sequence(lambda n: f"priority-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class PlacementFactory(DjangoModelFactory):
    class Meta:
        model = FrameworkMetric

    priority = factory.SubFactory(PriorityFactory)
    framework = factory.LazyAttribute(lambda o: o.priority.framework)
    metric = factory.SubFactory(MetricFactory)


class ObservationFactory(DjangoModelFactory):
    class Meta:
        model = Observation

    metric = factory.SubFactory(MetricFactory)
    area = factory.SubFactory(AreaFactory, code="staffordshire", name="Staffordshire")
    period = dt.date(2024, 6, 30)
    unit = factory.LazyAttribute(lambda o: o.metric.unit)
    value = 100.0
    status = ObservationStatus.FINAL
