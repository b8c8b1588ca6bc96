"""Prepared reads (``accounts.prepared``): compiled once per connection, partnership and shape, run with the
call's values, and always the rows the ORM would give for the same arguments."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Partnership, Role
from accounts.partnerships import default_partnership
from accounts.prepared import PreparedReadError, prepared_read
from accounts.tenancy import partnership_scope
from metrics.models import Metric, Observation

from ..factories import AgencyFactory, AreaFactory, MetricFactory, ObservationFactory, UserFactory

BUILT: list[dict] = []


@prepared_read
def members(*, roles, agency_id, username):
    """Every kind of argument: a set, None or an id, a string."""
    BUILT.append({"roles": roles, "agency_id": agency_id, "username": username})
    query = Membership.objects.filter(partnership_id=_current_id(), role__in=roles, user__username__gt=username)
    query = query.filter(agency__isnull=True) if agency_id is None else query.filter(agency_id=agency_id)
    return query.select_related("user", "agency").order_by("user__username")


def _current_id():
    from accounts.tenancy import current_partnership_id

    return current_partnership_id()


@prepared_read
def usernames(*, roles):
    return Membership.objects.filter(role__in=roles).order_by("user__username").values_list("user__username", flat=True)


@prepared_read
def figures_between(*, after, up_to, metric_id):
    return (
        Observation.objects.filter(metric_id=metric_id, period__gt=after, period__lte=up_to)
        .order_by("period")
        .values_list("period", "value")
    )


@prepared_read(scoped=False)
def wrongly_unscoped(*, role):
    return Membership.objects.filter(partnership_id=_current_id(), role=role)


@prepared_read
def by_name_ignoring_case(*, name):
    """On SQLite a LIKE whose value is escaped (``%`` and ``_``); on PostgreSQL UPPER(…) = UPPER(…)."""
    return Partnership.objects.filter(name__iexact=name)


@prepared_read
def by_part_of_name(*, part):
    return Partnership.objects.filter(name__contains=part)


@pytest.fixture
def people(db):
    home = default_partnership()
    other = Partnership.objects.create(code="west-mercia", name="West Mercia")
    police, cps = AgencyFactory(code="police", name="Police"), AgencyFactory(code="cps", name="CPS")
    roles = [(Role.ANALYST, police), (Role.ANALYST, cps), (Role.BOARD_MEMBER, None), (Role.PERFORMANCE_MANAGER, None)]
    for i, (role, agency) in enumerate(roles):
        UserFactory(username=f"h-{i}-{role}", role=role, agency=agency)  # the default partnership's: its role
        user = UserFactory(username=f"w-{i}-{role}", role="")
        Membership.objects.create(partnership=other, user=user, role=role, agency=agency)
    BUILT.clear()
    return {"home": home, "other": other, "police": police, "cps": cps}


def _orm(read, **arguments):
    """What the ORM gives for the same arguments (built and run afresh)."""
    normal = {
        k: tuple(dict.fromkeys(x for x in v if x is not None)) if isinstance(v, list) else v
        for k, v in arguments.items()
    }
    return list(read.build(**normal))


def test_a_prepared_read_gives_the_orms_rows_and_is_built_once_per_shape(people, django_assert_num_queries):
    calls = [
        {"roles": [Role.ANALYST], "agency_id": people["police"].pk, "username": ""},
        {"roles": [Role.ANALYST], "agency_id": people["cps"].pk, "username": ""},  # same shape, new values
        {"roles": [Role.BOARD_MEMBER], "agency_id": None, "username": "a"},  # None: another SQL
        {
            "roles": [Role.BOARD_MEMBER, Role.PERFORMANCE_MANAGER, None, Role.BOARD_MEMBER],
            "agency_id": None,
            "username": "h-2",
        },
    ]
    with partnership_scope(people["home"]):
        expected = [_orm(members, **c) for c in calls]
        BUILT.clear()
        for call, want in zip(calls, expected, strict=True):
            with django_assert_num_queries(1):  # one query: the user and agency come with it
                got = members.read(**call)
                assert [(m.user.username, m.agency and m.agency.code) for m in got] == [
                    (m.user.username, m.agency and m.agency.code) for m in want
                ]
        assert [len(x) for x in expected] == [1, 1, 1, 2]  # past "h-2": h-2-board_member and h-3-…
        assert expected[0][0].user.username == "h-0-analyst" and expected[1][0].user.username == "h-1-analyst"
        # Built (and compiled) once per shape: the two analyst calls share one; None and a longer set do not.
        assert len(BUILT) == 3
        again = members.read(**calls[0])
        assert [m.pk for m in again] == [m.pk for m in expected[0]] and len(BUILT) == 3


def test_each_partnership_reads_its_own_rows(people):
    call = {"roles": [Role.BOARD_MEMBER], "agency_id": None, "username": ""}
    with partnership_scope(people["home"]):
        home = [m.user.username for m in members.read(**call)]
    with partnership_scope(people["other"]):
        other = [m.user.username for m in members.read(**call)]
    assert home == ["h-2-board_member"] and other == ["w-2-board_member"]


def test_dates_and_flat_rows_on_either_database(people):
    metric = MetricFactory(code="M1")
    area = AreaFactory(code="a1")
    for year, value in [(2021, 1), (2022, 2), (2023, 3), (2024, 4)]:
        ObservationFactory(metric=metric, area=area, period=dt.date(year, 3, 31), value=value)
    with partnership_scope(people["home"]):
        got = figures_between.read(after=dt.date(2021, 3, 31), up_to=dt.date(2023, 3, 31), metric_id=metric.pk)
        assert got == _orm(figures_between, after=dt.date(2021, 3, 31), up_to=dt.date(2023, 3, 31), metric_id=metric.pk)
        assert [(p, float(v)) for p, v in got] == [(dt.date(2022, 3, 31), 2.0), (dt.date(2023, 3, 31), 3.0)]
        later = figures_between.read(after=dt.date(2022, 3, 31), up_to=dt.date(2030, 1, 1), metric_id=metric.pk)
        assert [p.year for p, _ in later] == [2023, 2024]
        assert usernames.read(roles=[Role.PERFORMANCE_MANAGER]) == [
            "h-3-performance_manager",
            "w-3-performance_manager",
        ]


def test_an_empty_set_reads_nothing_without_a_query(people, django_assert_num_queries):
    with partnership_scope(people["home"]), django_assert_num_queries(0):
        assert usernames.read(roles=[]) == []


def test_a_read_is_counted_and_wrapped_like_any_query(people):
    with partnership_scope(people["home"]):
        usernames.read(roles=[Role.ANALYST])
        seen = []
        with (
            CaptureQueriesContext(connection) as captured,
            connection.execute_wrapper(
                lambda execute, sql, params, many, context: seen.append(params) or execute(sql, params, many, context)
            ),
        ):
            usernames.read(roles=[Role.BOARD_MEMBER])
    assert len(captured) == 1 and [list(p) for p in seen] == [[Role.BOARD_MEMBER]]


def test_outside_a_scope_it_is_the_orm_every_time(people):
    BUILT.clear()
    call = {"roles": [Role.BOARD_MEMBER], "agency_id": None, "username": ""}
    assert [m.user.username for m in members.read(**call)] == ["h-2-board_member"]
    members.read(**call)
    assert len(BUILT) == 2


def test_a_lookup_that_transforms_its_value_is_refused(people):
    with partnership_scope(people["home"]), pytest.raises(PreparedReadError, match="made from a stand-in"):
        by_part_of_name.read(part="Mercia")
    with partnership_scope(people["home"]):
        try:
            found = by_name_ignoring_case.read(name="west_mercia")
        except PreparedReadError:  # SQLite: the LIKE's value is escaped, refused
            assert connection.vendor == "sqlite"
        else:  # verbatim: kept, and "_" is no wildcard
            assert connection.vendor == "postgresql" and found == []
            assert [p.code for p in by_name_ignoring_case.read(name="WEST MERCIA")] == ["west-mercia"]


def test_an_argument_it_cannot_keep_is_refused(people):
    with partnership_scope(people["home"]), pytest.raises(PreparedReadError, match="not <class 'float'>"):
        usernames.read(roles=1.5)


def test_an_unscoped_read_may_not_read_the_partnership(people):
    with partnership_scope(people["home"]), pytest.raises(PreparedReadError, match="reads the partnership"):
        wrongly_unscoped.read(role=Role.ANALYST)
    with pytest.raises(PreparedReadError, match="reads the partnership"):
        wrongly_unscoped.read(role=Role.ANALYST)


def _members_of(partnership_id):
    """Builders made in a function: one name (``_members_of.<locals>.read``), each its own SQL."""

    @prepared_read(scoped=False)
    def read():
        return Membership.objects.filter(partnership_id=partnership_id).order_by("user__username")

    return read


def test_two_builders_of_one_name_never_share_sql(people):
    home, other = people["home"], people["other"]
    with partnership_scope(home):
        assert {m.partnership_id for m in _members_of(home.pk).read()} == {home.pk}
        assert {m.partnership_id for m in _members_of(other.pk).read()} == {other.pk}


@prepared_read
def by_precision(*, decimals):
    return Metric.objects.filter(decimals=decimals)


def test_a_stand_in_out_of_its_fields_range_is_refused_not_kept_as_no_rows(people):
    MetricFactory(code="M1", decimals=1)
    with partnership_scope(people["home"]), pytest.raises(PreparedReadError, match="out of its field's range"):
        by_precision.read(decimals=1)


@prepared_read
def partnerships_with(*, role):
    return (
        Partnership.objects.filter(memberships__role=role)
        .distinct()
        .order_by("pk")
        .prefetch_related(Prefetch("memberships", queryset=Membership.objects.filter(role=role), to_attr="picked"))
    )


@prepared_read
def partnerships_prefetched():
    return Partnership.objects.order_by("pk").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.filter(role=Role.BOARD_MEMBER), to_attr="picked")
    )


def test_a_prefetch_may_not_hold_an_argument(people):
    with partnership_scope(people["home"]):
        with pytest.raises(PreparedReadError, match="Prefetch"):
            partnerships_with.read(role=Role.BOARD_MEMBER)
        # A Prefetch of fixed values is run by the ORM as it would be: kept, and the same rows.
        got = [[m.user.username for m in p.picked] for p in partnerships_prefetched.read()]
        assert got == [[m.user.username for m in p.picked] for p in partnerships_prefetched.build()]
        assert ["w-2-board_member"] in got


def test_a_datetime_is_refused_on_every_call(people):
    with partnership_scope(people["home"]):
        figures_between.read(after=dt.date(2021, 3, 31), up_to=dt.date(2023, 3, 31), metric_id=1)
        with pytest.raises(PreparedReadError, match="datetime"):
            figures_between.read(after=dt.date(2021, 3, 31), up_to=dt.datetime(2023, 3, 31, 12), metric_id=1)


@prepared_read
def year_to(*, metric_id, up_to):
    rows = Observation.objects.filter(metric_id=metric_id, period__lte=up_to, period__gt=up_to - dt.timedelta(days=366))
    return rows.values_list("period", flat=True)


@prepared_read
def beyond(*, position):
    return Partnership.objects.filter(pk__gt=position + 1)


def test_a_value_made_from_an_argument_is_refused_even_beside_the_argument(people):
    with partnership_scope(people["home"]):
        with pytest.raises(PreparedReadError, match="made from a stand-in"):
            year_to.read(metric_id=1, up_to=dt.date(2023, 3, 31))
        with pytest.raises(PreparedReadError, match="made from a stand-in"):
            beyond.read(position=1)


@prepared_read
def named(*, name):
    query = Partnership.objects.order_by("pk").values_list("code", flat=True)
    return query.filter(name=name) if name else query


def test_an_empty_string_has_its_own_sql(people):
    with partnership_scope(people["home"]):
        assert named.read(name="West Mercia") == ["west-mercia"]
        assert named.read(name="") == list(named.build(name="")) and len(named.read(name="")) == 2
        assert named.read(name="West Mercia") == ["west-mercia"]


def test_the_least_recently_used_read_is_dropped_first(people, monkeypatch):
    import accounts.prepared as kit

    monkeypatch.setattr(kit, "KEPT", 2)
    with partnership_scope(people["home"]):
        BUILT.clear()
        first = {"roles": [Role.ANALYST], "agency_id": None, "username": ""}
        members.read(**first)  # built: 1
        members.read(**{**first, "agency_id": people["police"].pk})  # built: 2
        members.read(**first)  # used again: now the most recent
        members.read(**{**first, "roles": [Role.ANALYST, Role.BOARD_MEMBER]})  # built: 3, drops the police one
        members.read(**first)
        assert len(BUILT) == 3
        members.read(**{**first, "agency_id": people["cps"].pk})  # dropped before: built again
        assert len(BUILT) == 4
