"""The many-partnerships benchmark's generator: each partnership its own framework and measures (the same
codes in each), the shared official statistics once, and a partnership's rows the same however many there are."""

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.models import AuditEvent, Partnership
from frameworks.models import Framework
from metrics.models import CollectionRound, FrameworkMetric, Metric, Observation
from reports.models import Snapshot, SnapshotObservation

SMALL = {"areas": 10, "metrics": 6, "shared": 2, "quarters": 4, "snapshot_quarters": 2, "audit_events": 5}


def _values(code):
    partnership = Partnership.objects.get(code=code)
    return sorted(
        Observation.objects.in_scope(partnership)
        .filter(metric__partnership=partnership)
        .values_list("metric__code", "area__code", "period", "value")
    )


@pytest.mark.django_db
def test_partnerships_of_their_own_measures_on_shared_statistics():
    call_command("generate_partnerships_dataset", partnerships=3, **SMALL, stdout=None)
    assert Partnership.objects.filter(code__startswith="lcjb-").count() == 3
    shared = Metric.objects.filter(partnership__isnull=True, code__startswith="OS")
    assert shared.count() == 2
    assert Metric.objects.filter(code="LM000").count() == 3  # the same code in every partnership
    for partnership in Partnership.objects.filter(code__startswith="lcjb-"):
        framework = Framework.objects.get(partnership=partnership, is_current=True)
        placed = FrameworkMetric.objects.filter(framework=framework)
        assert placed.count() == 6
        assert placed.filter(metric__partnership__isnull=True).count() == 2
        assert Metric.objects.in_scope(partnership).count() == 6
        assert CollectionRound.objects.filter(partnership=partnership).count() == 4
        assert AuditEvent.objects.filter(partnership=partnership).count() == 5
        snapshot = Snapshot.objects.get(framework=framework)
        assert snapshot.observation_count == SnapshotObservation.objects.filter(snapshot=snapshot).count() > 0
    # local measures: home area and 8 peers, 4 quarters; shared: 11 areas (one national), one broken down
    assert Observation.objects.filter(metric__partnership__isnull=False).count() == 3 * 4 * 9 * 4
    assert Observation.objects.filter(metric__in=shared).count() == 11 * 4 + 11 * 4 * 6


@pytest.mark.django_db
def test_a_partnership_alone_has_the_rows_it_has_among_many():
    with transaction.atomic():  # published snapshots cannot be deleted: the first run is rolled back
        call_command("generate_partnerships_dataset", partnerships=3, **SMALL, stdout=None)
        among_many = _values("lcjb-01")
        transaction.set_rollback(True)
    assert not Partnership.objects.filter(code="lcjb-01").exists()
    call_command("generate_partnerships_dataset", partnerships=1, first=1, **SMALL, stdout=None)
    assert _values("lcjb-01") == among_many
