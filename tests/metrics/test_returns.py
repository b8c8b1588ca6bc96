"""The returns workflow through its services."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent
from metrics.imports.parse import FileRejected
from metrics.models import (
    RETURN_TRANSITIONS,
    Notification,
    Observation,
    Return,
    ReturnState,
    ReturnUpload,
    ReturnValue,
    UploadState,
)
from metrics.returns.notifications import send_reminders
from metrics.returns.selectors import owed_lines, tracker
from metrics.returns.services import (
    Conflict,
    ReturnError,
    return_approve,
    return_reopen,
    return_send_back,
    return_submit,
    round_open,
)
from metrics.returns.uploads import UploadRejected, upload_confirm, upload_create
from metrics.returns.values import return_save_comments, return_save_grid

from .returns_setup import DUE, GOOD, HEADER, PERIOD, approved_history, open_round, police_return, upload


def db_state():
    return (
        list(ReturnValue.objects.order_by("pk").values_list("pk", "value", "comment")),
        list(Observation.objects.order_by("pk").values_list("pk", "value", "status")),
        ReturnUpload.objects.count(),
        AuditEvent.objects.count(),
        list(Return.objects.order_by("pk").values_list("pk", "state", "version")),
    )


def test_opening_a_round_makes_a_return_per_agency_and_emails_them(
    setup, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        round_ = open_round(setup)
    assert sorted(r.agency.code for r in round_.returns.all()) == ["hmpps", "police"]
    assert all(r.state == ReturnState.DRAFT for r in round_.returns.all())
    assert sorted(m.to[0] for m in mailoutbox) == ["a@hmpps.example", "analyst@police.example"]
    assert "due on Wednesday 31 July 2024" in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="round.opened").count() == 1


def test_round_rules(setup):
    open_round(setup)
    with pytest.raises(ReturnError, match="already open"):
        open_round(setup)
    with pytest.raises(ReturnError, match="after the quarter ends"):
        open_round(setup, period=dt.date(2024, 9, 30), due=dt.date(2024, 9, 1))
    with pytest.raises(PermissionDenied):
        round_open(actor=setup["analyst"], framework=setup["framework"], period=dt.date(2024, 9, 30), due_date=DUE)


def test_owed_lines(setup):
    lines = owed_lines(framework=setup["framework"], agency=setup["police"])
    assert [(line.metric.code, line.area.code, line.category.code if line.category else None) for line in lines] == [
        ("OFF01", "staffordshire", None),
        ("OFF01", "staffordshire", "violence-against-the-person"),
        ("OFF01", "staffordshire", "robbery"),
        ("FAIR03", "staffordshire", None),
    ]
    national = owed_lines(framework=setup["framework"], agency=setup["hmpps"])
    assert {line.area.code for line in national} == {"england-wales"}


def test_tracker_states_completeness_and_lateness(setup):
    r = police_return(setup)
    rows = {s.return_obj.agency.code: s for s in tracker(framework=setup["framework"], today=dt.date(2024, 7, 15))}
    assert rows["police"].state == "not_started"
    assert (rows["police"].owed, rows["police"].supplied) == (4, 0)
    assert not rows["police"].late
    upload_and_confirm(
        setup, r, GOOD.replace("OFF01,staffordshire,2024-06-30,offence-group,robbery,200,,,provisional,\n", "")
    )
    rows = {s.return_obj.agency.code: s for s in tracker(framework=setup["framework"], today=dt.date(2024, 8, 2))}
    assert rows["police"].state == "draft"
    assert rows["police"].completeness == 75
    assert rows["police"].late
    assert rows["police"].state_label == "Draft (late)"


def upload_and_confirm(s, return_obj, text):
    up = upload(s, return_obj, text)
    assert up.state == UploadState.READY, up.summary
    return upload_confirm(actor=s["analyst"], upload=up)


def test_upload_preview_then_confirm(setup):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    assert up.state == UploadState.READY
    assert (up.summary["created"], up.summary["updated"], up.summary["unchanged"]) == (4, 0, 0)
    assert not ReturnValue.objects.exists()  # the preview writes no value
    upload_confirm(actor=setup["analyst"], upload=up)
    assert ReturnValue.objects.filter(return_obj=r).count() == 4
    fair = ReturnValue.objects.get(metric__code="FAIR03")
    assert fair.value == pytest.approx(1400 / 1455 * 100)
    assert fair.source == "return.csv"
    assert fair.source_row == 5
    r.refresh_from_db()
    assert r.version == 1
    again = upload(setup, r, GOOD.replace(",5300,", ",5400,").replace(",5100,", ",5200,"))
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (0, 2, 2)


REJECTED = [
    ("OFF99,staffordshire,2024-06-30,,,1,,,,", "unknown_metric"),
    ("OFF05,england-wales,2024-06-30,,,1,,,,", "not_owned"),
    ("OFF01,stafford,2024-06-30,,,1,,,,", "unknown_area"),
    ("OFF01,staffordshire,2024-03-31,,,1,,,,", "bad_period"),
    ("OFF01,staffordshire,2024-06-30,offence-group,burglary,1,,,,", "bad_category"),
    ("OFF01,staffordshire,2024-06-30,,,lots,,,,", "bad_number"),
    ("OFF01,staffordshire,2024-06-30,,,-3,,,,", "negative"),
    ("FAIR03,staffordshire,2024-06-30,,,,1500,1455,,", "numerator_above_denominator"),
    ("FAIR03,staffordshire,2024-06-30,,,101%,,,,", "out_of_range"),
    ("OFF01,staffordshire,2024-06-30,,,1,,,maybe,", "bad_status"),
    ("OFF01,staffordshire,2024-06-30,,,7,,,,", "duplicate"),
]


@pytest.mark.parametrize(("line", "kind"), REJECTED)
def test_a_rejected_file_never_changes_the_database(setup, line, kind):
    r = police_return(setup)
    upload_and_confirm(setup, r, GOOD)
    before = db_state()
    with pytest.raises(UploadRejected) as excinfo:
        upload(setup, r, GOOD.replace(",5300,", ",5301,") + line + "\n")
    errors = excinfo.value.summary["errors"]
    assert [e["kind"] for e in errors] == [kind]
    assert errors[0]["row"] == 6
    assert db_state() == before


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"PK\x03\x04junk", "r.xlsx", "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "r.xls", "old .xls"),
        (b"metric\x00area", "r.csv", "not text"),
        (b"\xff\xfe\xfa", "r.csv", "not UTF-8"),
        (b"   ", "r.csv", "empty"),
    ],
)
def test_uploads_are_checked_by_content(setup, content, name, message):
    r = police_return(setup)
    before = db_state()
    with pytest.raises(FileRejected, match=message):
        upload_create(actor=setup["analyst"], return_obj=r, filename=name, content=content)
    assert db_state() == before


def test_macro_enabled_workbooks_and_disguised_files(setup):
    import io
    import zipfile

    r = police_return(setup)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/vbaProject.bin", "evil")
    with pytest.raises(FileRejected, match="macro-enabled"):
        upload_create(actor=setup["analyst"], return_obj=r, filename="innocent.xlsx", content=buffer.getvalue())
    # A CSV is a CSV whatever it is called.
    up = upload_create(actor=setup["analyst"], return_obj=r, filename="return.xlsx", content=GOOD.encode())
    assert up.state == UploadState.READY
    assert up.filename == "return.xlsx.csv"


def test_upload_size_limit(setup, settings):
    settings.PCC_PERF_MAX_UPLOAD_MB = 0.001
    r = police_return(setup)
    with pytest.raises(FileRejected, match=r"the limit is 0\.001 MB"):
        upload(setup, r, GOOD * 10)


def test_large_files_are_checked_and_written_in_the_background(setup, settings, django_capture_on_commit_callbacks):
    settings.PCC_PERF_BACKGROUND_ROWS = 2
    r = police_return(setup)
    with django_capture_on_commit_callbacks(execute=True):
        up = upload(setup, r, GOOD)
    up.refresh_from_db()
    assert up.state == UploadState.READY
    assert up.rows_done == up.rows_total == 4
    with django_capture_on_commit_callbacks(execute=True):
        upload_confirm(actor=setup["analyst"], upload=up)
    up.refresh_from_db()
    assert up.state == UploadState.COMMITTED
    assert ReturnValue.objects.count() == 4


def test_grid_saves_drafts_and_reports_errors(setup):
    r = police_return(setup)
    entries = [
        {
            "metric": "OFF01",
            "area": "staffordshire",
            "period": "2024-06-30",
            "breakdown": "",
            "category": "",
            "value": "5,300",
        },
        {
            "metric": "FAIR03",
            "area": "staffordshire",
            "period": "2024-06-30",
            "breakdown": "",
            "category": "",
            "value": "",
            "numerator": "1400",
            "denominator": "1455",
        },
        {
            "metric": "OFF01",
            "area": "staffordshire",
            "period": "2024-06-30",
            "breakdown": "offence-group",
            "category": "robbery",
            "value": "[x]",
        },
    ]
    check = return_save_grid(actor=setup["analyst"], return_obj=r, version=0, entries=entries)
    assert not check.summary.errors
    assert ReturnValue.objects.count() == 3
    assert ReturnValue.objects.get(category__code="robbery").missing == "x"
    bad = [dict(entries[0], value="five")]
    before = db_state()
    check = return_save_grid(actor=setup["analyst"], return_obj=r, version=1, entries=bad)
    assert [(e.column, e.kind) for e in check.summary.errors] == [("value", "bad_number")]
    assert db_state() == before
    cleared = [dict(entries[2], value="")]
    return_save_grid(actor=setup["analyst"], return_obj=r, version=1, entries=cleared)
    assert not ReturnValue.objects.filter(category__code="robbery").exists()


def test_two_people_saving_at_once_cannot_overwrite_each_other(setup):
    r = police_return(setup)
    entry = {"metric": "OFF01", "area": "staffordshire", "period": "2024-06-30", "breakdown": "", "category": ""}
    return_save_grid(actor=setup["analyst"], return_obj=r, version=0, entries=[dict(entry, value="5300")])
    with pytest.raises(Conflict, match="Someone else saved this return"):
        return_save_grid(actor=setup["manager"], return_obj=r, version=0, entries=[dict(entry, value="9999")])
    assert ReturnValue.objects.get().value == 5300


def test_only_the_agency_edits_its_return(setup):
    r = police_return(setup)
    for who in ("hmpps_analyst", "board"):
        with pytest.raises(PermissionDenied):
            upload(dict(setup, analyst=setup[who]), r, GOOD)
        with pytest.raises(PermissionDenied):
            return_submit(actor=setup[who], return_obj=r)


def test_submit_needs_every_owed_value_no_errors_and_comments_on_warnings(setup):
    r = police_return(setup)
    upload_and_confirm(setup, r, GOOD.replace("FAIR03,staffordshire,2024-06-30,,,,1400,1455,provisional,\n", ""))
    with pytest.raises(ReturnError, match="1 owed value"):
        return_submit(actor=setup["analyst"], return_obj=r)
    r.refresh_from_db()
    # The groups do not add up (an error) and the share recorded is implausibly low (a warning).
    upload_and_confirm(setup, r, GOOD.replace(",5300,", ",5350,").replace(",,,,1400,1455,", ",,,,400,1455,"))
    with pytest.raises(ReturnError, match="add up to 5,300, the total is 5,350"):
        return_submit(actor=setup["analyst"], return_obj=r)
    r.refresh_from_db()
    upload_and_confirm(setup, r, GOOD.replace(",,,,1400,1455,", ",,,,400,1455,"))
    r.refresh_from_db()
    with pytest.raises(ReturnError, match="1 warning"):
        return_submit(actor=setup["analyst"], return_obj=r)
    fair = ReturnValue.objects.get(metric__code="FAIR03")
    return_save_comments(
        actor=setup["analyst"],
        return_obj=r,
        version=r.version,
        comments={fair.pk: "New recording system: most ethnicity fields blank."},
    )
    r.refresh_from_db()
    submitted = return_submit(actor=setup["analyst"], return_obj=r, version=r.version)
    assert submitted.state == ReturnState.SUBMITTED
    assert submitted.submitted_by == setup["analyst"]
    with pytest.raises(ReturnError, match="cannot be changed"):
        upload(setup, submitted, GOOD)


def test_unusual_figures_are_warnings(setup, settings):
    approved_history(setup)
    r = police_return(setup)
    up = upload(setup, r, GOOD.replace(",5300,", ",8000,").replace(",5100,", ",7800,"))
    kinds = {w["kind"] for w in up.summary["warnings"]}
    assert {"big_change", "outside_limits"} <= kinds
    big = next(w for w in up.summary["warnings"] if w["kind"] == "big_change")
    assert "+60% on 2023/24 Q4" in big["message"]
    assert big["row"] == 2


def test_at_most_rule_uses_the_return_or_approved_data(setup):
    round_ = open_round(setup)
    r = round_.returns.get(agency=setup["hmpps"])
    text = HEADER + "OFF05,england-wales,2024-06-30,,,87000,,,,\nOFF06,england-wales,2024-06-30,,,90000,,,,\n"
    up = upload_create(actor=setup["hmpps_analyst"], return_obj=r, filename="hmpps.csv", content=text.encode())
    finding = next(w for w in up.summary["warnings"] if w["kind"] == "remand-within-population")
    assert finding["importance"] == "error"
    assert "90,000 is above 87,000" in finding["message"]


def full_submit(s, r, text=GOOD):
    upload_and_confirm(s, r, text)
    r.refresh_from_db()
    return return_submit(actor=s["analyst"], return_obj=r, version=r.version)


def test_send_back_approve_lock_reopen_and_revise(setup, mailoutbox, django_capture_on_commit_callbacks):
    r = police_return(setup)
    r = full_submit(setup, r)
    with pytest.raises(PermissionDenied):
        return_approve(actor=setup["analyst"], return_obj=r)
    with pytest.raises(ReturnError, match="Say what needs correcting"):
        return_send_back(actor=setup["manager"], return_obj=r, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        r = return_send_back(actor=setup["manager"], return_obj=r, reason="Robbery looks low: check the Stoke figures.")
    assert r.state == ReturnState.RETURNED
    assert mailoutbox[-1].to == ["analyst@police.example"]
    assert "Robbery looks low" in mailoutbox[-1].body
    r = full_submit(setup, r, GOOD.replace(",5300,", ",5310,").replace(",200,", ",210,"))
    with django_capture_on_commit_callbacks(execute=True):
        r = return_approve(actor=setup["manager"], return_obj=r)
    assert r.state == ReturnState.APPROVED
    assert "approved" in mailoutbox[-1].subject
    total = Observation.objects.get(metric__code="OFF01", category=None, period=PERIOD)
    assert total.value == 5310
    assert total.source.source_return == r
    with pytest.raises(ReturnError, match="cannot be changed"):
        return_save_grid(actor=setup["analyst"], return_obj=r, version=r.version, entries=[])
    with pytest.raises(ReturnError, match="reason"):
        return_reopen(actor=setup["manager"], return_obj=r, reason="")
    r = return_reopen(actor=setup["manager"], return_obj=r, reason="Police found 12 more robberies.")
    assert r.state == ReturnState.DRAFT
    r = full_submit(setup, r, GOOD.replace(",5300,", ",5322,").replace(",200,", ",222,"))
    total.refresh_from_db()
    assert total.value == 5310  # approved data does not change until approval
    return_approve(actor=setup["manager"], return_obj=r)
    total.refresh_from_db()
    assert total.value == 5322
    assert total.status == "revised"
    event = AuditEvent.objects.get(action="observation.revised", object_id=str(total.pk))
    assert event.old["value"] == 5310
    assert event.new["value"] == 5322
    assert event.actor == setup["manager"]
    assert event.return_id == r.pk
    assert event.metric_code == "OFF01"
    reasons = list(AuditEvent.objects.filter(return_id=r.pk).exclude(reason="").values_list("reason", flat=True))
    assert reasons == ["Police found 12 more robberies.", "Robbery looks low: check the Stoke figures."]


def test_illegal_transitions_are_refused(setup):
    r = police_return(setup)
    with pytest.raises(ReturnError, match="cannot become approved"):
        return_approve(actor=setup["manager"], return_obj=r)
    with pytest.raises(ReturnError, match="cannot become"):
        return_reopen(actor=setup["manager"], return_obj=r, reason="x")
    with pytest.raises(ReturnError, match="cannot become"):
        return_send_back(actor=setup["manager"], return_obj=r, reason="x")
    assert ReturnState.SUBMITTED not in RETURN_TRANSITIONS[ReturnState.APPROVED]


def test_reminders_are_sent_once(setup, mailoutbox):
    police_return(setup)
    assert send_reminders(today=dt.date(2024, 7, 20)) == 0
    assert send_reminders(today=dt.date(2024, 7, 28)) == 2
    assert send_reminders(today=dt.date(2024, 7, 29)) == 0
    assert send_reminders(today=dt.date(2024, 8, 1)) == 2
    assert send_reminders(today=dt.date(2024, 8, 2)) == 0
    assert Notification.objects.filter(kind="late").count() == 2
    late = [m for m in mailoutbox if "late" in m.subject]
    assert "pm@opcc.example" in late[0].to
