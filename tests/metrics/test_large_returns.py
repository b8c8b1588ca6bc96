"""Large returns: the preview's checked rows reused by the commit, the set-based approval (the same outcome as
the model-by-model path it replaced, in a fixed number of queries) and ANALYZE after large writes."""

import datetime as dt
import hashlib
import json
import zlib

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from frameworks.models import Area
from metrics.catalogue.load import framework_load
from metrics.imports.checks import Row
from metrics.imports.commit import ImportPlan, import_commit, import_file, plan_diff
from metrics.imports.parse import parse_file
from metrics.imports.summary import ImportSummary
from metrics.management.commands.bench_returns import synthetic_framework
from metrics.models import ImportBatch, Metric, Observation, Return, ReturnState, ReturnUpload, ReturnValue, UploadState
from metrics.returns import uploads
from metrics.returns.services import return_approve, return_reopen
from metrics.returns.uploads import checked_pack, checked_unpack, upload_write
from metrics.returns.values import check_return_rows

from .returns_setup import GOOD, HEADER, PERIOD, police_return, upload


class Counted:
    """``parse_file`` with a count of its calls."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def __call__(self, **kwargs):
        self.calls += 1
        return self.real(**kwargs)


@pytest.fixture
def parses(monkeypatch):
    counted = Counted(uploads.parse_file)
    monkeypatch.setattr(uploads, "parse_file", counted)
    return counted


def written(r):
    found = r.values.values_list("metric__code", "category__code", "value", "numerator", "denominator")
    return sorted(found, key=lambda v: (v[0], v[1] or ""))


def test_the_commit_after_a_preview_writes_the_checked_rows_without_reading_the_file_again(setup, parses):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    assert parses.calls == 1  # the preview
    assert up.checked
    upload_write(actor=setup["analyst"], upload=up)
    assert parses.calls == 1  # the commit reused the preview's rows
    r.refresh_from_db()
    assert written(r) == [
        ("FAIR03", None, pytest.approx(1400 / 1455 * 100), 1400.0, 1455.0),
        ("OFF01", None, 5300.0, None, None),
        ("OFF01", "robbery", 200.0, None, None),
        ("OFF01", "violence-against-the-person", 5100.0, None, None),
    ]
    up.refresh_from_db()
    assert up.state == UploadState.COMMITTED
    assert up.checked is None  # not kept once written
    event = AuditEvent.objects.get(action=AuditAction.UPLOAD_WRITTEN)
    assert event.summary == "return.csv: 4 added, 0 changed"


def _stale_cache(up, r, *, content=None, version=None):
    """Checked rows kept under another file's hash or another version of the return, with other figures."""
    rows = [
        Row(
            row=2,
            metric=Metric.objects.get(code="OFF01"),
            area_id=Area.objects.get(code="staffordshire").pk,
            period=PERIOD,
            category_id=None,
            value=9999.0,
            numerator=None,
            denominator=None,
            missing="",
            status="provisional",
            note="from the cache",
        )
    ]
    key = uploads._checked_key(content if content is not None else bytes(up.content), r)
    if version is not None:
        key[2] = version
    return checked_pack(rows, key=key, rows_read=1)


def test_rows_kept_for_another_version_of_the_return_are_not_trusted(setup, parses):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    ReturnUpload.objects.filter(pk=up.pk).update(checked=_stale_cache(up, r, version=r.version + 1))
    up.refresh_from_db()
    upload_write(actor=setup["analyst"], upload=up)
    assert parses.calls == 2  # checked again
    r.refresh_from_db()
    assert 9999.0 not in [v[2] for v in written(r)]
    assert len(written(r)) == 4


def test_rows_kept_for_another_file_are_not_trusted(setup, parses):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    other = GOOD.replace(",5300,", ",5301,").encode()
    ReturnUpload.objects.filter(pk=up.pk).update(checked=_stale_cache(up, r, content=other))
    up.refresh_from_db()
    upload_write(actor=setup["analyst"], upload=up)
    assert parses.calls == 2
    r.refresh_from_db()
    assert ("OFF01", None, 5300.0, None, None) in written(r)


def test_missing_or_damaged_kept_rows_mean_checking_again(setup, parses):
    r = police_return(setup)
    key = uploads._checked_key(GOOD.encode(), r)
    assert checked_unpack(None, key=key, period=PERIOD) is None
    assert checked_unpack(b"not zlib", key=key, period=PERIOD) is None
    up = upload(setup, r, GOOD)
    ReturnUpload.objects.filter(pk=up.pk).update(checked=None)
    up.refresh_from_db()
    upload_write(actor=setup["analyst"], upload=up)
    assert parses.calls == 2
    assert len(written(r)) == 4


def test_kept_rows_come_back_as_they_were_checked(setup):
    r = police_return(setup)
    positions, raw_rows = parse_file(content=GOOD.encode(), filename="r.csv")
    check = check_return_rows(return_obj=r, positions=positions, raw_rows=raw_rows, filename="r.csv")
    assert len(check.rows) == 4 and not check.summary.errors
    key = uploads._checked_key(GOOD.encode(), r)
    rows_read, rows = checked_unpack(checked_pack(check.rows, key=key, rows_read=7), key=key, period=PERIOD)
    assert rows_read == 7
    assert rows == check.rows  # every field, the metric the same catalogue row
    assert {type(row.illustrative) for row in rows} == {bool}


def test_kept_rows_are_keyed_by_the_file_the_return_and_its_version(setup):
    r = police_return(setup)
    key = uploads._checked_key(GOOD.encode(), r)
    assert key == [hashlib.sha256(GOOD.encode()).hexdigest(), r.pk, r.version]
    blob = _stale_cache(ReturnUpload(content=GOOD.encode()), r)
    assert checked_unpack(blob, key=key, period=PERIOD) is not None
    for other in ([key[0], r.pk + 1, key[2]], [key[0], key[1], key[2] + 1], ["0" * 64, key[1], key[2]]):
        assert checked_unpack(blob, key=other, period=PERIOD) is None


def test_rows_kept_in_another_form_or_damaged_mean_checking_again(setup, parses):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    key = uploads._checked_key(bytes(up.content), r)
    earlier = {"key": key, "rows_read": 1, "rows": [[2, Metric.objects.get(code="OFF01").pk, 1, None, 9999.0]]}
    assert checked_unpack(zlib.compress(json.dumps(earlier).encode()), key=key, period=PERIOD) is None
    data = json.loads(zlib.decompress(checked_pack([], key=key, rows_read=0)))
    data["columns"]["row"] = [2]  # one field longer than the others
    assert checked_unpack(zlib.compress(json.dumps(data).encode()), key=key, period=PERIOD) is None
    ReturnUpload.objects.filter(pk=up.pk).update(checked=zlib.compress(json.dumps(earlier).encode()))
    up.refresh_from_db()
    upload_write(actor=setup["analyst"], upload=up)
    assert parses.calls == 2  # checked again
    assert 9999.0 not in [v[2] for v in written(r)]
    assert len(written(r)) == 4


def test_a_file_with_errors_keeps_no_rows(setup):
    r = police_return(setup)
    up = ReturnUpload(return_obj=r, filename="bad.csv", content=(HEADER + "NOPE,x,2024-06-30,,,1,,,,\n").encode())
    up.return_version = r.version
    assert uploads._check_into(up) == UploadState.REJECTED
    assert up.checked is None


# --- approval: the set-based write against the path it replaced ---------------------------------------------
def old_approve_values(ret, actor):
    """The approval's write before issue 16: every value loaded as a model, ``plan_diff`` and ``import_commit``."""
    summary = ImportSummary(filename=f"return {ret.agency.code} {ret.round.label}")
    plan = ImportPlan(summary=summary, agency=ret.agency, sha256="", source_return=ret)
    rows = [
        Row(
            row=v.source_row or 0,
            metric=v.metric,
            area_id=v.area_id,
            period=ret.round.period,
            category_id=v.category_id,
            value=v.value,
            numerator=v.numerator,
            denominator=v.denominator,
            missing=v.missing,
            status=v.status,
            note=(v.note + (f" Comment: {v.comment}" if v.comment else "")).strip(),
            illustrative=v.illustrative,
        )
        for v in ret.values.select_related("metric")
    ]
    plan_diff(plan, rows)
    import_commit(plan=plan, actor=actor)
    return summary


def outcome(since_event):
    """Approved data, batches and audit events as comparable values (ids of new rows left out)."""
    batch_ids = set(ImportBatch.objects.filter(source_return__isnull=False).values_list("pk", flat=True))

    def source(value):
        return "this batch" if value in batch_ids else value

    observations = {
        (o.metric_id, o.area_id, o.period, o.category_id): (
            o.unit,
            o.value,
            o.numerator,
            o.denominator,
            o.missing,
            o.status,
            o.note,
            o.illustrative,
            source(o.source_id),
            o.source_row,
        )
        for o in Observation.objects.all()
    }
    keys = {str(o.pk): (o.metric_id, o.area_id, o.period, o.category_id) for o in Observation.objects.all()}

    def figures(data):
        if data is None or "source" not in data:
            return data
        return {**data, "source": source(data["source"])}

    events = [
        (
            e.action,
            e.object_type,
            keys.get(e.object_id) if e.object_type == "metrics.observation" else "batch",
            e.summary,
            figures(e.old),
            figures(e.new),
            e.return_id,
            e.metric_code,
            e.actor_username,
        )
        for e in AuditEvent.objects.filter(pk__gt=since_event).order_by("pk")
    ]
    batches = list(
        ImportBatch.objects.filter(source_return__isnull=False).values_list(
            "filename", "sha256", "rows_read", "created", "updated", "unchanged", "uploaded_by", "agency"
        )
    )
    return observations, events, batches


class Rollback(Exception):
    pass


def test_the_set_based_approval_writes_what_the_model_path_wrote(setup):
    # Approved data for the quarter already: the total and FAIR03 will change, robbery is the same but was a
    # revision (read as final), violence-against-the-person only changes its status.
    back = (
        HEADER
        + "OFF01,staffordshire,2024-06-30,,,5250,,,provisional,\n"
        + "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,5100,,,provisional,\n"
        + "OFF01,staffordshire,2024-06-30,offence-group,robbery,200,,,final,\n"
        + "FAIR03,staffordshire,2024-06-30,,,,1400,1460,provisional,\n"
    )
    assert import_file(content=back.encode(), filename="back.csv", agency=setup["police"]).accepted
    Observation.objects.filter(category__code="robbery").update(status="revised")
    r = police_return(setup)
    text = (
        HEADER
        + "OFF01,staffordshire,2024-06-30,,,5300,,,provisional,\n"
        + "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,5100,,,final,checked\n"
        + "OFF01,staffordshire,2024-06-30,offence-group,robbery,200,,,final,\n"
        + "FAIR03,staffordshire,2024-06-30,,,,1400,1455,provisional,\n"
    )
    upload_write(actor=setup["analyst"], upload=upload(setup, r, text))
    ReturnValue.objects.filter(metric__code="OFF01", category=None).update(comment="  Two stations merged. ")
    Return.objects.filter(pk=r.pk).update(state=ReturnState.SUBMITTED, submitted_at=timezone.now())
    r = Return.objects.select_related("round", "agency").get(pk=r.pk)
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    try:
        with transaction.atomic():
            old_summary = old_approve_values(r, setup["manager"])
            old = outcome(since)
            raise Rollback
    except Rollback:
        pass
    from metrics.imports.commit import approve_return_values

    new_summary = approve_return_values(
        return_obj=r, actor=setup["manager"], filename=f"return {r.agency.code} {r.round.label}"
    )
    new = outcome(since)
    assert (old_summary.created, old_summary.updated, old_summary.unchanged) == (0, 3, 1)
    assert (new_summary.created, new_summary.updated, new_summary.unchanged) == (0, 3, 1)
    assert new[0] == old[0]  # observations
    assert new[2] == old[2]  # the import batch
    assert new[1] == old[1]  # audit events: revised and updated with old and new figures, then the batch
    assert sorted(e[0] for e in new[1]) == [
        "import.accepted",
        "observation.revised",
        "observation.revised",
        "observation.updated",
    ]
    total = Observation.objects.get(metric__code="OFF01", category=None)
    assert (total.value, total.status, total.note) == (5300, "revised", "Comment:   Two stations merged.")


def test_the_set_based_approval_creates_what_the_model_path_created(setup):
    r = police_return(setup)
    upload_write(actor=setup["analyst"], upload=upload(setup, r, GOOD))
    Return.objects.filter(pk=r.pk).update(state=ReturnState.SUBMITTED, submitted_at=timezone.now())
    r = Return.objects.select_related("round", "agency").get(pk=r.pk)
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    try:
        with transaction.atomic():
            old_approve_values(r, setup["manager"])
            old = outcome(since)
            raise Rollback
    except Rollback:
        pass
    return_approve(actor=setup["manager"], return_obj=r)
    new = outcome(since)
    assert new[0] == old[0]
    assert new[2] == old[2]
    assert new[1][0] == old[1][0]  # import.accepted; then the return's approval
    assert len(new[0]) == 4


# --- a fixed number of queries, whatever the size -------------------------------------------------------------
def synthetic_return(people, *, metrics, areas, categories, period):
    from metrics.returns.services import round_open

    manager, analyst, framework = people
    r = round_open(
        actor=manager, framework=framework, period=period, due_date=period + dt.timedelta(days=40)
    ).returns.get(agency=analyst.agency)
    lines = ["metric,area,period,breakdown,category,value,status"]
    for m in range(metrics):
        for a in range(areas):
            lines.append(f"B{m:03d},area-{a:02d},{period},,,{(m + a) * 100},provisional")
            lines += [
                f"B{m:03d},area-{a:02d},{period},group,c{c:02d},{m + a + c},provisional" for c in range(categories)
            ]
    up = uploads.upload_create(
        actor=analyst, return_obj=r, filename="big.csv", content=("\n".join(lines) + "\n").encode()
    )
    upload_write(actor=analyst, upload=up)
    Return.objects.filter(pk=r.pk).update(state=ReturnState.SUBMITTED, submitted_at=timezone.now())
    return Return.objects.get(pk=r.pk)


def approve_queries(manager, r):
    with CaptureQueriesContext(connection) as captured:
        return_approve(actor=manager, return_obj=r)
    return len(captured)


@pytest.fixture
def bench_people(db, settings):
    from accounts.models import Agency, Role

    from ..factories import UserFactory

    settings.PCC_PERF_BACKGROUND_ROWS = 10**6
    framework = framework_load(text=synthetic_framework(4, 6, 5)).framework
    agency = Agency.objects.get(code="bench-police")
    manager = UserFactory(username="pm", role=Role.PERFORMANCE_MANAGER)
    analyst = UserFactory(username="bench-analyst", role=Role.ANALYST, agency=agency)
    return manager, analyst, framework


def test_approval_takes_the_same_number_of_queries_for_12_and_144_values(bench_people):
    manager = bench_people[0]
    small = synthetic_return(bench_people, metrics=1, areas=2, categories=5, period=dt.date(2024, 3, 31))
    large = synthetic_return(bench_people, metrics=4, areas=6, categories=5, period=dt.date(2024, 6, 30))
    assert small.values.count() == 12 and large.values.count() == 144
    created = (approve_queries(manager, small), approve_queries(manager, large))
    assert Observation.objects.count() == 156
    # Reopened, every value changed, approved again: revisions, with their audit events.
    counts = []
    for r in (small, large):
        r = return_reopen(actor=manager, return_obj=r, reason="Revised figures")
        ReturnValue.objects.filter(return_obj=r).update(value=F("value") + 1)
        Return.objects.filter(pk=r.pk).update(state=ReturnState.SUBMITTED, submitted_at=timezone.now())
        counts.append(approve_queries(manager, Return.objects.get(pk=r.pk)))
    assert created[0] == created[1]
    assert counts[0] == counts[1]
    assert AuditEvent.objects.filter(action="observation.revised").count() == 156
    assert Observation.objects.filter(status="revised").count() == 156


# --- ANALYZE after large writes (PostgreSQL) ----------------------------------------------------------------
def test_analyze_after_a_large_approval_on_postgresql(bench_people, settings, django_capture_on_commit_callbacks):
    manager = bench_people[0]
    settings.PCC_PERF_ANALYZE_ROWS = 100
    small = synthetic_return(bench_people, metrics=1, areas=2, categories=5, period=dt.date(2024, 3, 31))
    large = synthetic_return(bench_people, metrics=4, areas=6, categories=5, period=dt.date(2024, 6, 30))
    analyzed = []
    for r in (small, large):
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
            return_approve(actor=manager, return_obj=r)
        analyzed.append(sorted(q["sql"] for q in captured if q["sql"].startswith("ANALYZE")))
    assert analyzed[0] == []  # 12 values: under the threshold
    if connection.vendor == "postgresql":
        assert analyzed[1] == ['ANALYZE "frameworks_auditevent"', 'ANALYZE "metrics_observation"']
    else:
        assert analyzed[1] == []  # SQLite keeps no planner statistics to refresh here
