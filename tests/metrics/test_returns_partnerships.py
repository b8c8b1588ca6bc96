"""Collection rounds and returns with two partnerships on one installation (issue 18): each partnership sees its
own rounds, returns, uploads, contacts and home queue only; another partnership's return or upload is a 404 on
every returns URL (GET and POST) and nothing of it changes; a round for the same quarter exists in each; upload
tasks work in the upload's partnership; reminders go to that partnership's contacts."""

import datetime as dt
import io
import textwrap

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.contacts import agency_contacts, agency_contacts_update, agency_people
from accounts.models import AuditEvent, Membership, Partnership, Role
from accounts.partnerships import default_partnership
from accounts.tenancy import partnership_scope
from metrics.catalogue.load import framework_load
from metrics.models import CollectionRound, Return, ReturnState, ReturnUpload, ReturnValue, UploadState
from metrics.returns import selectors
from metrics.returns.notifications import send_reminders
from metrics.returns.services import ReturnError, return_remind, return_submit, round_open
from metrics.returns.uploads import upload_confirm, upload_create
from metrics.returns.values import return_save_grid

from ..clock import pin_today
from ..factories import UserFactory
from .returns_setup import DUE, GOOD, PERIOD, open_round, upload

WEST = "west-mercia"
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _clock_on_today(monkeypatch):
    pin_today(monkeypatch, TODAY)


WEST_FRAMEWORK = textwrap.dedent(
    """
    framework: {code: west-returns, name: West Mercia returns, home_area: west-mercia, partnership: west-mercia}
    agencies:
      - {code: police, name: Staffordshire Police}
      - {code: hmpps, name: HM Prison and Probation Service}
    areas:
      - {code: england-wales, name: England and Wales, type: national}
      - {code: west-mercia, name: West Mercia, type: police_force_area}
    priorities:
      - code: safer
        name: Safer
        metrics:
          - {code: WM01, name: Domestic abuse incidents, agency: police, unit: count, direction: neutral, source_type: management_information}
          - {code: WM02, name: Prison releases, agency: hmpps, unit: count, direction: neutral, source_type: management_information, areas: [england-wales]}
    """
)
WEST_GOOD = (
    "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"
    "WM01,west-mercia,2024-06-30,,,1200,,,provisional,\n"
)


def member(partnership, username, role, agency=None, **fields):
    """A user whose only role is ``role`` in ``partnership`` (none in the default partnership)."""
    user = UserFactory(username=username, role="", **fields)
    Membership.objects.create(partnership=partnership, user=user, role=role, agency=agency)
    return user


@pytest.fixture
def two(setup):
    """The default partnership (the returns fixture's framework and people) and West Mercia, with its own
    framework, manager and police analyst; a round for the same quarter in each, with a file uploaded to each
    police return."""
    west = Partnership.objects.create(code=WEST, name="West Mercia LCJB")
    west_framework = framework_load(text=WEST_FRAMEWORK).framework
    s = {**setup, "west": west, "west_framework": west_framework}
    s["west_manager"] = member(west, "wm-manager", Role.PERFORMANCE_MANAGER, email="pm@wm.example")
    s["west_analyst"] = member(west, "wm-analyst", Role.ANALYST, s["police"], email="analyst@wm-police.example")
    a_round = open_round(s)
    s["a_round"], s["a_return"] = a_round, a_round.returns.get(agency=s["police"])
    s["a_upload"] = upload(s, s["a_return"], GOOD)
    with partnership_scope(west):
        b_round = round_open(actor=s["west_manager"], framework=west_framework, period=PERIOD, due_date=DUE)
        s["b_round"], s["b_return"] = b_round, b_round.returns.get(agency=s["police"])
        s["b_upload"] = upload_create(
            actor=s["west_analyst"], return_obj=s["b_return"], filename="west.csv", content=WEST_GOOD.encode()
        )
    return s


def in_west(client, user):
    client.force_login(user)
    client.get(reverse("returns"), {"partnership": WEST})  # chosen once, remembered for the session


def detail_url(return_obj):
    return reverse("return-detail", args=[return_obj.pk])


# --- rounds ------------------------------------------------------------------------------------------------------
def test_a_round_for_the_same_quarter_is_open_in_each_partnership(two):
    assert two["a_round"].period == two["b_round"].period == PERIOD
    assert two["a_round"].partnership == default_partnership()
    assert two["b_round"].partnership == two["west"]
    assert set(two["b_round"].returns.values_list("agency__code", flat=True)) == {"police", "hmpps"}
    with partnership_scope(two["west"]), pytest.raises(ReturnError, match="already open"):
        round_open(actor=two["west_manager"], framework=two["west_framework"], period=PERIOD, due_date=DUE)
    assert CollectionRound.objects.filter(period=PERIOD).count() == 2


def test_latest_and_next_round_are_each_partnerships_own(two):
    later = PERIOD + dt.timedelta(days=92)  # 2024/25 Q2, in the default partnership only
    open_round(two, period=later, due=later + dt.timedelta(days=31))
    assert selectors.latest_round().period == later
    assert selectors.next_round(today=TODAY)[0].end_date == dt.date(2024, 12, 31)
    with partnership_scope(two["west"]):
        assert selectors.latest_round() == two["b_round"]
        assert selectors.next_round(today=TODAY)[0].end_date == dt.date(2024, 9, 30)


def test_a_round_cannot_be_opened_with_another_partnerships_framework(two):
    with partnership_scope(two["west"]), pytest.raises(ReturnError, match="another partnership"):
        round_open(
            actor=two["west_manager"],
            framework=two["framework"],
            period=dt.date(2024, 9, 30),
            due_date=dt.date(2024, 10, 31),
        )


def test_opening_a_round_on_the_page_opens_it_in_the_current_partnership(client, two):
    in_west(client, two["west_manager"])
    response = client.post(reverse("round-open"), {"period": "2024/25 Q2", "due_date": "2024-10-31"})
    assert response.status_code == 302
    opened = CollectionRound.objects.get(period=dt.date(2024, 9, 30))
    assert opened.partnership == two["west"]
    assert set(opened.returns.values_list("agency__code", flat=True)) == {"police", "hmpps"}


# --- what each side sees ------------------------------------------------------------------------------------------
def test_the_tracker_shows_each_partnership_its_own_returns(client, two):
    client.force_login(two["manager"])
    html = client.get(reverse("returns")).content.decode()
    assert detail_url(two["a_return"]) in html
    assert detail_url(two["b_return"]) not in html
    in_west(client, two["west_manager"])
    html = client.get(reverse("returns")).content.decode()
    assert detail_url(two["b_return"]) in html
    assert detail_url(two["a_return"]) not in html
    with partnership_scope(two["west"]):
        assert {s.return_obj.round_id for s in selectors.tracker(framework=two["west_framework"])} == {
            two["b_round"].pk
        }


def test_the_tracker_download_holds_only_the_partnerships_returns(client, two):
    in_west(client, two["west_manager"])
    rows = client.get(reverse("returns"), {"format": "csv"}).content.decode().splitlines()
    assert len(rows) == 1 + 2  # the header, and West Mercia's two returns
    client.force_login(two["manager"])
    client.get(reverse("returns"), {"partnership": default_partnership().code})
    rows = client.get(reverse("returns"), {"format": "csv"}).content.decode().splitlines()
    assert len(rows) == 1 + 2


def test_each_partnership_sees_its_own_return_and_upload(client, two):
    in_west(client, two["west_manager"])
    assert client.get(detail_url(two["b_return"])).status_code == 200
    assert client.get(reverse("upload-detail", args=[two["b_upload"].pk])).status_code == 200
    client.force_login(two["manager"])
    assert client.get(detail_url(two["a_return"])).status_code == 200
    assert client.get(reverse("upload-detail", args=[two["a_upload"].pk])).status_code == 200


def _urls(s):
    """Every returns URL about one return or upload (``s``: its return and upload): (method, url, data)."""
    r, up = s["return"], s["upload"]
    return [
        ("get", reverse("return-detail", args=[r.pk]), {}),
        ("post", reverse("return-detail", args=[r.pk]), {"action": "save", "version": r.version}),
        ("post", reverse("return-detail", args=[r.pk]), {"action": "comments", "version": r.version}),
        ("get", reverse("return-template", args=[r.pk, "csv"]), {}),
        ("get", reverse("return-template", args=[r.pk, "xlsx"]), {}),
        ("post", reverse("return-upload", args=[r.pk]), {}),
        ("post", reverse("return-remind", args=[r.pk]), {}),
        *(
            ("post", reverse("return-action", args=[r.pk, action]), {"version": r.version, "reason": "Because"})
            for action in ("submit", "approve", "send-back", "reopen")
        ),
        ("get", reverse("upload-detail", args=[up.pk]), {}),
        ("post", reverse("upload-detail", args=[up.pk]), {}),
        ("get", reverse("upload-progress", args=[up.pk]), {}),
        ("post", reverse("upload-retry", args=[up.pk]), {}),
        ("get", reverse("audit"), {"return": r.pk}),
    ]


def _state(return_obj, upload_obj):
    r = Return.objects.get(pk=return_obj.pk)
    return (r.state, r.version, r.values.count(), ReturnUpload.objects.get(pk=upload_obj.pk).state)


@pytest.mark.parametrize(
    ("who", "theirs"),
    [("manager", "b"), ("analyst", "b"), ("west_manager", "a"), ("west_analyst", "a")],
)
def test_another_partnerships_return_and_upload_are_not_found_on_every_url(client, two, who, theirs):
    """A manager or analyst of one partnership (each with every permission there) asking for the other's return
    or upload by its id: 404 on every URL, GET and POST, and nothing of it changes."""
    other = {"return": two[f"{theirs}_return"], "upload": two[f"{theirs}_upload"]}
    if who.startswith("west"):
        in_west(client, two[who])
    else:
        client.force_login(two[who])
    before = _state(other["return"], other["upload"])
    events = AuditEvent.objects.count()
    for method, url, data in _urls(other):
        response = getattr(client, method)(url, data)
        # An analyst may chase no return at all: refused before any return is looked for (as for an id that is
        # no return anywhere), so the answer says nothing of the other partnership's.
        expected = 403 if "analyst" in who and url.endswith("/remind/") else 404
        assert response.status_code == expected, (method, url, response.status_code)
    assert _state(other["return"], other["upload"]) == before
    assert AuditEvent.objects.count() == events


def test_an_analyst_of_police_in_one_partnership_cannot_see_the_other(client, two):
    """The default partnership's police analyst has no role in West Mercia, whose police return exists too."""
    client.force_login(two["analyst"])
    assert client.get(reverse("returns"), {"partnership": WEST}).status_code == 404
    assert client.get(detail_url(two["b_return"])).status_code == 404
    assert client.get(detail_url(two["b_return"]), {"partnership": WEST}).status_code == 404
    assert client.get(reverse("upload-detail", args=[two["b_upload"].pk])).status_code == 404
    html = client.get(reverse("returns")).content.decode()
    assert detail_url(two["a_return"]) in html and detail_url(two["b_return"]) not in html
    html = client.get(reverse("home")).content.decode()
    assert detail_url(two["a_return"]) in html and detail_url(two["b_return"]) not in html


def test_an_analyst_supplying_two_partnerships_sees_each_ones_return_in_it(client, two):
    Membership.objects.create(partnership=two["west"], user=two["analyst"], role=Role.ANALYST, agency=two["police"])
    client.force_login(two["analyst"])
    assert client.get(detail_url(two["a_return"])).status_code == 200
    assert client.get(detail_url(two["b_return"])).status_code == 404  # another partnership's, until chosen
    assert client.get(detail_url(two["b_return"]), {"partnership": WEST}).status_code == 200
    assert client.get(detail_url(two["a_return"])).status_code == 404  # West Mercia is remembered now
    html = client.get(reverse("home")).content.decode()
    assert detail_url(two["b_return"]) in html and detail_url(two["a_return"]) not in html


def test_an_analyst_of_another_agency_in_the_partnership_gets_403_not_another_partnerships_404(client, two):
    hmpps_west = member(two["west"], "wm-hmpps", Role.ANALYST, two["hmpps"])
    in_west(client, hmpps_west)
    assert client.get(detail_url(two["b_return"])).status_code == 403
    html = client.get(reverse("returns")).content.decode()
    hmpps_return = two["b_round"].returns.get(agency=two["hmpps"])
    assert detail_url(hmpps_return) in html and detail_url(two["b_return"]) not in html


# --- the home page's work queue -------------------------------------------------------------------------------------
@pytest.fixture
def late(two):
    """Both rounds a week late; the default partnership's hmpps return submitted."""
    CollectionRound.objects.update(due_date=TODAY - dt.timedelta(days=7))
    Return.objects.filter(round=two["a_round"], agency=two["hmpps"]).update(
        state=ReturnState.SUBMITTED, submitted_at=timezone.now()
    )
    return two


def test_the_managers_home_queue_is_the_current_partnerships(client, late):
    a_hmpps = late["a_round"].returns.get(agency=late["hmpps"])
    b_hmpps = late["b_round"].returns.get(agency=late["hmpps"])
    client.force_login(late["manager"])
    html = client.get(reverse("home")).content.decode()
    assert detail_url(a_hmpps) in html and detail_url(late["a_return"]) in html  # awaiting approval; late
    assert detail_url(late["b_return"]) not in html and detail_url(b_hmpps) not in html
    in_west(client, late["west_manager"])
    html = client.get(reverse("home")).content.decode()
    assert detail_url(late["b_return"]) in html and detail_url(b_hmpps) in html  # both late
    assert detail_url(late["a_return"]) not in html and detail_url(a_hmpps) not in html
    ready = html.split('id="q-ready"')[1].split("</section>")[0]
    assert "2 of 2 returns not yet approved" in ready  # West Mercia's two, not the default partnership's
    with partnership_scope(late["west"]):
        assert selectors.awaiting_approval() == []
        assert {q.return_obj.pk for q in selectors.late_returns()} == {late["b_return"].pk, b_hmpps.pk}
        assert selectors.returns_to_do_count(late["west_manager"]) == 0
        assert selectors.returns_to_do_count(late["west_analyst"]) == 1
    assert selectors.returns_to_do_count(late["manager"]) == 1
    assert selectors.returns_to_do_count(late["west_manager"]) == 0  # no role in the default partnership


def test_the_analysts_home_queue_is_the_current_partnerships(client, late):
    in_west(client, late["west_analyst"])
    html = client.get(reverse("home")).content.decode()
    assert detail_url(late["b_return"]) in html and detail_url(late["a_return"]) not in html
    with partnership_scope(late["west"]):
        queue = selectors.analyst_queue(framework=late["west_framework"], agency=late["police"])
    assert [q.return_obj for q in queue.due] == [late["b_return"]]


# --- uploads and values -------------------------------------------------------------------------------------------
def test_an_upload_is_checked_and_written_in_its_partnership_by_the_background_tasks(
    two, settings, django_capture_on_commit_callbacks
):
    """A large file goes to the worker, which is given only the upload's id: it works in the partnership of the
    upload's round (its reads, and its audit events, are West Mercia's) whatever scope queued it."""
    settings.PCC_PERF_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        with partnership_scope(two["west"]):
            up = upload_create(
                actor=two["west_analyst"], return_obj=two["b_return"], filename="big.csv", content=WEST_GOOD.encode()
            )
        assert up.state == UploadState.CHECKING
    up.refresh_from_db()
    assert up.state == UploadState.READY, up.summary
    checked = AuditEvent.objects.get(action=AuditAction.UPLOAD_CHECKED, object_id=str(up.pk))
    assert checked.partnership == two["west"]
    with django_capture_on_commit_callbacks(execute=True), partnership_scope(two["west"]):
        upload_confirm(actor=two["west_analyst"], upload=up)
    up.refresh_from_db()
    assert up.state == UploadState.COMMITTED
    written = AuditEvent.objects.get(action=AuditAction.UPLOAD_WRITTEN, object_id=str(up.pk))
    assert written.partnership == two["west"]
    assert list(ReturnValue.objects.filter(return_obj=two["b_return"]).values_list("metric__code", "value")) == [
        ("WM01", 1200.0)
    ]


def test_the_grid_and_submission_work_in_the_partnership_of_the_return(two):
    with partnership_scope(two["west"]):
        check = return_save_grid(
            actor=two["west_analyst"],
            return_obj=two["b_return"],
            version=two["b_return"].version,
            entries=[
                {
                    "metric": "WM01",
                    "area": "west-mercia",
                    "period": PERIOD.isoformat(),
                    "value": "1300",
                    "status": "provisional",
                }
            ],
        )
        assert not check.summary.errors
        ret = return_submit(actor=two["west_analyst"], return_obj=Return.objects.get(pk=two["b_return"].pk))
    assert ret.state == ReturnState.SUBMITTED
    assert AuditEvent.objects.get(action=AuditAction.RETURN_SUBMITTED, return_id=ret.pk).partnership == two["west"]
    # The default partnership's analyst of the same agency cannot act on it, even by calling the service.
    with pytest.raises(Return.DoesNotExist):
        return_submit(actor=two["analyst"], return_obj=two["b_return"])


def test_a_return_takes_no_figures_for_another_partnerships_own_metric(two):
    """A metric that belongs to one partnership is unknown in the other's returns."""
    from metrics.models import Metric

    Metric.objects.filter(code="WM01").update(partnership=two["west"])
    check = return_save_grid(
        actor=two["analyst"],
        return_obj=two["a_return"],
        version=Return.objects.get(pk=two["a_return"].pk).version,
        entries=[{"metric": "WM01", "area": "west-mercia", "period": PERIOD.isoformat(), "value": "5"}],
    )
    assert [(i.kind, i.message) for i in check.summary.errors] == [("unknown_metric", "unknown metric 'WM01'")]
    assert not ReturnValue.objects.filter(return_obj=two["a_return"], metric__code="WM01").exists()


# --- contacts and reminders ---------------------------------------------------------------------------------------
def test_contacts_are_each_partnerships_own(client, two):
    with partnership_scope(two["west"]):
        agency_contacts_update(
            actor=two["west_manager"], agency_id=two["police"].pk, user_ids=[], shared_mailbox="team@wm-police.example"
        )
        west = agency_contacts(agency_ids=[two["police"].pk])[two["police"].pk]
        assert west.addresses == ["analyst@wm-police.example", "team@wm-police.example"]
        assert list(agency_people(two["police"])) == [two["west_analyst"]]
    default = agency_contacts(agency_ids=[two["police"].pk])[two["police"].pk]
    assert default.addresses == ["analyst@police.example"]
    assert list(agency_people(two["police"])) == [two["analyst"]]
    in_west(client, two["west_manager"])
    html = client.get(reverse("agencies")).content.decode()
    assert "team@wm-police.example" in html and "analyst@police.example" not in html
    form = client.get(reverse("agency-contacts", args=["police"])).content.decode()
    assert "analyst@wm-police.example" in form and "analyst@police.example" not in form
    # A person of the other partnership cannot be named as a contact here.
    response = client.post(
        reverse("agency-contacts", args=["police"]), {"users": [two["analyst"].pk], "shared_mailbox": ""}
    )
    assert response.status_code == 400


def test_a_reminder_from_the_tracker_goes_to_the_partnerships_contacts(
    two, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True), partnership_scope(two["west"]):
        reminded = return_remind(actor=two["west_manager"], return_id=two["b_return"].pk)
    assert [r.address for r in reminded.contacts.recipients] == ["analyst@wm-police.example"]
    (mail,) = mailoutbox
    assert mail.to == ["analyst@wm-police.example"]
    assert f"/returns/{two['b_return'].pk}/?partnership={WEST}" in mail.body
    with pytest.raises(Return.DoesNotExist):  # the other partnership's return, from the default one
        return_remind(actor=two["manager"], return_id=two["b_return"].pk)


def test_daily_reminders_go_partnership_by_partnership_to_each_ones_contacts(late, mailoutbox):
    mailoutbox.clear()
    out = io.StringIO()
    call_command("send_return_reminders", "--partnership", WEST, stdout=out)
    assert out.getvalue() == "Reminders sent: 2\n"
    assert sorted(tuple(m.to) for m in mailoutbox) == [
        ("analyst@wm-police.example", "pm@wm.example"),
        ("pm@wm.example",),  # West Mercia's hmpps return: no one at hmpps there, its manager is told
    ]
    assert all(f"?partnership={WEST}" in m.body for m in mailoutbox)
    mailoutbox.clear()
    out = io.StringIO()
    call_command("send_return_reminders", stdout=out)  # every partnership; West Mercia's were sent already
    assert out.getvalue() == f"{default_partnership().code}: 1\n{WEST}: 0\nReminders sent: 1\n"
    assert [tuple(m.to) for m in mailoutbox] == [("analyst@police.example", "pm@opcc.example")]
    assert "?partnership=" not in mailoutbox[0].body
    assert send_reminders() == 0 and send_reminders(partnership=late["west"]) == 0  # each once


def test_the_home_queues_show_only_the_partnerships_reports_and_packs(client, two):
    from ..reports.test_home import published_reports

    p = published_reports(two)  # the default partnership's snapshots, draft and published reports, and pack
    links = [
        reverse("report-detail", args=[p["draft"].pk]),
        reverse("report-detail", args=[p["report"].pk]),
        reverse("pack-detail", args=[p["pack"].pk]),
        reverse("pack-download", args=[p["pack"].pk]),
    ]
    client.force_login(two["manager"])
    html = client.get(reverse("home")).content.decode()
    assert links[0] in html and links[2] in html
    in_west(client, two["west_manager"])
    html = client.get(reverse("home")).content.decode()
    assert not [link for link in links if link in html]
    in_west(client, member(two["west"], "wm-board", Role.BOARD_MEMBER))
    html = client.get(reverse("home")).content.decode()
    assert "No report has been published yet." in html
    assert not [link for link in links if link in html]


def test_a_stopped_upload_is_failed_in_its_own_partnership_by_the_sweep(two):
    """The worker's sweep (every partnership's uploads, outside any scope) fails each in its own partnership."""
    from metrics.returns.uploads import uploads_recover

    stale = timezone.now() - dt.timedelta(hours=1)
    for up in (two["a_upload"], two["b_upload"]):
        ReturnUpload.objects.filter(pk=up.pk).update(state=UploadState.CHECKING, heartbeat_at=stale, task_id="")
    assert sorted(uploads_recover()) == sorted([two["a_upload"].pk, two["b_upload"].pk])
    failed = dict(
        AuditEvent.objects.filter(action=AuditAction.UPLOAD_FAILED).values_list("object_id", "partnership__code")
    )
    assert failed == {str(two["a_upload"].pk): default_partnership().code, str(two["b_upload"].pk): WEST}


def test_the_round_opened_email_goes_to_the_partnerships_contacts(two, mailoutbox, django_capture_on_commit_callbacks):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True), partnership_scope(two["west"]):
        opened = round_open(
            actor=two["west_manager"],
            framework=two["west_framework"],
            period=dt.date(2024, 9, 30),
            due_date=dt.date(2024, 10, 31),
        )
    (mail,) = mailoutbox  # West Mercia's police analyst; nobody at hmpps in West Mercia
    assert mail.to == ["analyst@wm-police.example"]
    police = opened.returns.get(agency=two["police"])
    assert f"/returns/{police.pk}/?partnership={WEST}" in mail.body
