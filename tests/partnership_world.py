"""Two partnerships on one installation, each with everything a partnership owns, for the permission matrix
(``tests/test_permission_matrix.py``) and the scope checks of commands and tasks
(``tests/test_partnership_commands.py``).

Every row a partnership owns carries its marker: ``DEF-SECRET`` / ``WM-SECRET`` in what is unpublished (the
framework, its measures and notes, returns, uploads, draft reports, contacts, audit events, user names),
``DEF-PUBLISHED`` / ``WM-PUBLISHED`` in what is published but not shared (snapshots, published reports, packs).
A response to one partnership's user must never contain the other's markers.

Built with the ORM directly (not the services, which are being scoped by partnership as this is written), so
the world does not depend on what it tests. Same codes in both partnerships where they may coincide: the
framework code ``lcjb`` and the local measure ``LOC01``; a measure only each has: ``DEFX01`` / ``WMX01``; the
shared official statistic ``OFF01`` (no partnership) is placed by both frameworks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from accounts.access import system_actor
from accounts.audit import AuditAction, record
from accounts.models import Agency, AgencyContacts, ApiToken, AuditEvent, Membership, Partnership, Role, User
from accounts.tenancy import partnership_scope
from accounts.tokens import api_token_create
from frameworks.models import Area, AreaType, Breakdown, BreakdownCategory, Framework, Priority
from metrics.models import (
    CollectionRound,
    Direction,
    FrameworkMetric,
    ImportBatch,
    Metric,
    Notification,
    Observation,
    ObservationStatus,
    Rebase,
    Return,
    ReturnState,
    ReturnUpload,
    ReturnValue,
    SourceType,
    Unit,
    UploadState,
    ValidationRule,
)
from reports.models import Annotation, BoardPack, PackState, Report, ReportState, Snapshot, SnapshotObservation

TAGS = ("def", "wm")
WM_CODE = "west-mercia"
SECRET = {"def": "DEF-SECRET", "wm": "WM-SECRET"}
PUBLISHED = {"def": "DEF-PUBLISHED", "wm": "WM-PUBLISHED"}
HOME = {"def": "staffordshire", "wm": "west-mercia"}
QUARTERS = [
    dt.date(2022, 9, 30),
    dt.date(2022, 12, 31),
    *[dt.date(y, m, d) for y in (2023, 2024) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))][:-2],
]
ROUND_PERIOD = dt.date(2024, 9, 30)
PASSWORD = "pass-word-123"
ROLES = {"analyst": Role.ANALYST, "manager": Role.PERFORMANCE_MANAGER, "board": Role.BOARD_MEMBER}
OTHER = {"def": "wm", "wm": "def"}


@dataclass
class Side:
    """One partnership's rows (ids and codes to put in URLs)."""

    tag: str
    partnership: Partnership
    framework: Framework
    priority: Priority
    local: Metric  # LOC01: the same code in both partnerships
    unique: Metric  # DEFX01 / WMX01
    rebase_local: Rebase
    rebase_shared: Rebase
    note_local: Annotation
    note_shared: Annotation
    round: CollectionRound
    submitted: Return  # the police return, submitted
    draft_return: Return  # the CPS return, with an upload
    upload: ReturnUpload
    snapshot_old: Snapshot  # with the published report
    snapshot: Snapshot  # the newest, with the draft report
    snapshot_free: Snapshot  # the one before, with no report yet
    report: Report  # published
    draft_report: Report
    pack: BoardPack
    contacts: AgencyContacts
    users: dict[str, User] = field(default_factory=dict)
    token_key: str = ""
    token: ApiToken | None = None


@dataclass
class World:
    sides: dict[str, Side]
    shared: Metric  # OFF01
    police: Agency
    cps: Agency

    def __getitem__(self, tag: str) -> Side:
        return self.sides[tag]


def _user(tag: str, role: str, partnership: Partnership, agency: Agency) -> User:
    name = f"{tag}-secret-{role}"  # the user list of the other partnership must not name them
    user = User(username=name, email=f"{name}@example.org", first_name=name)
    agency_for = agency if ROLES[role] == Role.ANALYST else None
    if tag == "def":
        user.role = ROLES[role]
        user.agency = agency_for
    else:
        user.role = ""
    user.set_password(PASSWORD)
    user.save()
    if tag != "def":
        Membership.objects.create(partnership=partnership, user=user, role=ROLES[role], agency=agency_for)
    return user


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", f"<w:document>{text}</w:document>")
    return buffer.getvalue()


def _side(tag: str, partnership: Partnership, shared: Metric, police: Agency, cps: Agency) -> Side:
    s, p = SECRET[tag], PUBLISHED[tag]
    home = Area.objects.get(code=HOME[tag])
    users = {role: _user(tag, role, partnership, police) for role in ROLES}
    manager = users["manager"]
    framework = Framework.objects.create(
        code="lcjb", name=f"{s} framework", home_area=home, is_current=True, partnership=partnership
    )
    priority = Priority.objects.create(framework=framework, code=f"{tag}-priority", name=f"{s} priority", order=0)
    common = {
        "agency": police,
        "unit": Unit.COUNT,
        "direction": Direction.LOWER_IS_BETTER,
        "source_type": SourceType.MANAGEMENT_INFORMATION,
        "partnership": partnership,
        "public": True,
    }
    local = Metric.objects.create(code="LOC01", name=f"{s} local measure", description=f"{s} definition", **common)
    unique = Metric.objects.create(code=f"{tag.upper()}X01", name=f"{s} own measure", **common)
    for order, metric in enumerate([local, unique, shared]):
        FrameworkMetric.objects.create(framework=framework, priority=priority, metric=metric, order=order)
    ValidationRule.objects.create(
        framework=framework, code="local-range", kind="range", metric=local, minimum=0, message=f"{s} rule"
    )
    batch = ImportBatch.objects.create(
        agency=police, partnership=partnership, filename=f"{s}-import.csv", sha256="0" * 64, uploaded_by=manager
    )
    base = 700000 if tag == "def" else 900000
    for metric, offset in ((local, 0), (unique, 5000)):
        Observation.objects.bulk_create(
            Observation(
                metric=metric,
                area=home,
                period=q,
                unit=Unit.COUNT,
                value=base + offset + i,
                status=ObservationStatus.FINAL,
                note=f"{s} observation note",
                source=batch,
            )
            for i, q in enumerate(QUARTERS)
        )
    rebase_local = Rebase.objects.create(
        partnership=partnership, metric=local, period=QUARTERS[4], reason=f"{s} rebase of the local measure"
    )
    rebase_shared = Rebase.objects.create(
        partnership=partnership, metric=shared, period=QUARTERS[3], reason=f"{s} rebase of the shared statistic"
    )
    note_local = Annotation.objects.create(
        partnership=partnership, metric=local, period=QUARTERS[5], text=f"{s} note on the local measure"
    )
    note_shared = Annotation.objects.create(
        partnership=partnership, metric=shared, period=QUARTERS[5], text=f"{s} note on the shared statistic"
    )
    contacts = AgencyContacts.objects.create(
        partnership=partnership, agency=police, shared_mailbox=f"{tag}-secret-mailbox@police.example"
    )
    contacts.users.add(users["analyst"])

    round_ = CollectionRound.objects.create(
        partnership=partnership, period=ROUND_PERIOD, due_date=dt.date(2024, 10, 31), opened_by=manager
    )
    now = timezone.now()
    submitted = Return.objects.create(
        round=round_,
        agency=police,
        state=ReturnState.SUBMITTED,
        version=2,
        submitted_at=now,
        first_submitted_at=now,
        submitted_by=users["analyst"],
        reason=f"{s} return reason",
    )
    ReturnValue.objects.create(
        return_obj=submitted,
        metric=local,
        area=home,
        unit=Unit.COUNT,
        value=base + 99,
        status=ObservationStatus.PROVISIONAL,
        comment=f"{s} return comment",
        note=f"{s} return note",
        source="Web form",
        updated_by=users["analyst"],
    )
    draft_return = Return.objects.create(round=round_, agency=cps, state=ReturnState.DRAFT)
    content = f"metric,area,period,value\nLOC01,{HOME[tag]},2024-09-30,{base + 7}\n# {s} upload\n".encode()
    upload = ReturnUpload.objects.create(
        return_obj=draft_return,
        filename=f"{s}-upload.csv",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        state=UploadState.REJECTED,
        summary={"errors": [f"{s} upload error"]},
        return_version=0,
        created_by=users["analyst"],
    )

    snapshots = []
    for period in (QUARTERS[-2], QUARTERS[-1]):
        snapshot = Snapshot.objects.create(
            period=period,
            number=1,
            framework=framework,
            framework_version=1,
            framework_file=f"framework: {{code: lcjb, name: {p} framework file}}\n",
            published_by=manager,
            reason=f"{p} snapshot reason",
            observation_count=1,
        )
        SnapshotObservation.objects.create(
            snapshot=snapshot,
            metric=local,
            area=home,
            period=period,
            unit=Unit.COUNT,
            value=base + 55,
            status=ObservationStatus.FINAL,
            note=f"{p} snapshot note",
        )
        snapshots.append(snapshot)
    snapshot_free = Snapshot.objects.create(
        period=QUARTERS[-3],
        number=1,
        framework=framework,
        framework_version=1,
        framework_file="",
        published_by=manager,
        reason=f"{p} snapshot without a report",
        observation_count=1,
    )
    SnapshotObservation.objects.create(
        snapshot=snapshot_free,
        metric=local,
        area=home,
        period=QUARTERS[-3],
        unit=Unit.COUNT,
        value=base + 54,
        status=ObservationStatus.FINAL,
    )
    report = Report.objects.create(
        snapshot=snapshots[0],
        title=f"{p} report",
        state=ReportState.PUBLISHED,
        executive_summary=f"{p} executive summary",
        public_summary=f"{p} public summary",
        published_at=now,
        published_by=manager,
        created_by=manager,
    )
    draft_report = Report.objects.create(
        snapshot=snapshots[1],
        title=f"{s} draft report",
        state=ReportState.DRAFT,
        executive_summary=f"{s} draft summary",
        created_by=manager,
    )
    pdf = f"%PDF-1.4\n% {p} pack\n".encode()
    pack = BoardPack.objects.create(
        report=report,
        state=PackState.READY,
        progress=100,
        message=f"{p} pack message",
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        docx=_zip(f"{p} pack document"),
        finished_at=now,
        created_by=manager,
    )
    with partnership_scope(partnership):
        record(AuditAction.ADMIN_CHANGED, actor=manager, obj=framework, summary=f"{s} audit event")
        token, key = api_token_create(user=users["board"], name=f"{s} token")
    ApiToken.objects.filter(pk=token.pk).update(partnership=partnership)
    side = Side(
        tag=tag,
        partnership=partnership,
        framework=framework,
        priority=priority,
        local=local,
        unique=unique,
        rebase_local=rebase_local,
        rebase_shared=rebase_shared,
        note_local=note_local,
        note_shared=note_shared,
        round=round_,
        submitted=submitted,
        draft_return=draft_return,
        upload=upload,
        snapshot_old=snapshots[0],
        snapshot=snapshots[1],
        snapshot_free=snapshot_free,
        report=report,
        draft_report=draft_report,
        pack=pack,
        contacts=contacts,
        users=users,
        token_key=key,
        token=token,
    )
    return side


def build_world() -> World:
    """Both partnerships, the shared reference data and the shared official statistic."""
    default, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Staffordshire LCJB"}
    )
    west_mercia = Partnership.objects.create(code=WM_CODE, name="West Mercia LCJB")
    system_actor()  # made now: the commands' actor appearing later is no change to either partnership
    police, _ = Agency.objects.get_or_create(code="police", defaults={"name": "Police"})
    cps, _ = Agency.objects.get_or_create(code="cps", defaults={"name": "Crown Prosecution Service"})
    england = Area.objects.create(code="england-wales", name="England and Wales", type=AreaType.NATIONAL)
    for tag in TAGS:
        Area.objects.create(code=HOME[tag], name=HOME[tag].replace("-", " ").title(), type=AreaType.POLICE_FORCE_AREA)
    ethnicity = Breakdown.objects.create(code="ethnicity", name="Ethnicity")
    for order, code in enumerate(["white", "black"]):
        BreakdownCategory.objects.create(breakdown=ethnicity, code=code, name=code.title(), order=order)
    shared = Metric.objects.create(
        code="OFF01",
        name="Police recorded crime",
        agency=police,
        unit=Unit.COUNT,
        direction=Direction.LOWER_IS_BETTER,
        source_type=SourceType.OFFICIAL_STATISTICS,
        partnership=None,
        public=True,
    )
    Observation.objects.bulk_create(
        Observation(metric=shared, area=area, period=q, unit=Unit.COUNT, value=20000 + 10 * i, status="final")
        for area in Area.objects.filter(code__in=[*HOME.values(), england.code])
        for i, q in enumerate(QUARTERS)
    )
    sides = {
        "def": _side("def", default, shared, police, cps),
        "wm": _side("wm", west_mercia, shared, police, cps),
    }
    return World(sides=sides, shared=shared, police=police, cps=cps)


# --- what one partnership owns, as a fingerprint: unchanged by anything done in the other -----------------------
def _rows(queryset: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(str(v) for v in row) for row in queryset.values_list())


def fingerprint(world: World, tag: str) -> dict[str, str]:
    """A checksum of every row partnership ``tag`` owns (and of the shared official statistic both frameworks
    place, which neither partnership may change), per model."""
    side = world[tag]
    p = side.partnership
    member_ids = list(Membership.objects.filter(partnership=p).values_list("user_id", flat=True))
    member_ids += [u.pk for u in side.users.values()]
    querysets: dict[str, Any] = {
        "framework": Framework.objects.in_scope(p),
        "priority": Priority.objects.in_scope(p),
        "framework_metric": FrameworkMetric.objects.in_scope(p),
        "rule": ValidationRule.objects.in_scope(p),
        "metric": Metric.objects.in_scope(p),
        "rebase": Rebase.objects.in_scope(p),
        "import_batch": ImportBatch.objects.filter(partnership=p),
        "observation": Observation.objects.in_scope(p),
        "round": CollectionRound.objects.in_scope(p),
        "return": Return.objects.in_scope(p),
        "return_value": ReturnValue.objects.in_scope(p),
        "upload": ReturnUpload.objects.in_scope(p).defer("content", "checked"),
        "snapshot": Snapshot.objects.in_scope(p),
        "snapshot_observation": SnapshotObservation.objects.in_scope(p),
        "report": Report.objects.in_scope(p),
        "pack": BoardPack.objects.in_scope(p),
        "annotation": Annotation.objects.in_scope(p),
        "contacts": AgencyContacts.objects.in_scope(p),
        "contacts_users": AgencyContacts.users.through.objects.filter(agencycontacts__partnership=p),
        "audit": AuditEvent.objects.filter(partnership=p),
        "membership": Membership.objects.filter(partnership=p),
        "users": User.objects.filter(pk__in=member_ids).defer("last_login"),
        "api_token": ApiToken.objects.filter(partnership=p).defer("last_used_at"),
        "notification": Notification.objects.filter(return_obj__round__partnership=p),
    }
    out = {}
    for name, qs in querysets.items():
        if name == "users":
            rows = _rows(qs.values_list("pk", "username", "password", "is_active", "role", "agency_id", "email"))
        elif name == "api_token":
            rows = _rows(qs.values_list("pk", "user_id", "key_hash", "revoked_at", "partnership_id"))
        elif name == "upload":
            rows = _rows(qs.values_list("pk", "filename", "sha256", "state", "rows_done", "return_version"))
        else:
            rows = _rows(qs)
        out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16] + f" ({len(rows)} rows)"
    return out


def model_label(obj: Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"
