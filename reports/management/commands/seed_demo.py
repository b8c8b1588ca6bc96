"""Load the demo: framework, real published figures, users, and a partnership part-way through a quarter.

The demo is read "as at" one quarter, ``DEMO_QUARTER``, the latest one the main published series share
(police recorded crime, stop and search and the national criminal justice series all reach 2023/24 Q4):
- figures up to it are loaded as approved data, and a snapshot of it is published with a draft report;
- the collection round for the next quarter is open, its returns part-way through (one in progress, one
  awaiting approval, one sent back for correction, the rest not started), filled from the real figures the
  sources hold for that quarter and the illustrative local returns;
- later figures in the files (stop and search runs to 2024/25 Q3) are left out, so no page mixes quarters.

Two partnerships of one region share the same published official statistics, so the regional view has something
to show: the demo's partnership (the installation's default one, Staffordshire) and a neighbour, West Mercia, with
a smaller framework of the shared official-statistics measures (``neighbour_framework_text``) and a published
snapshot of the same quarter; both share their published figures with the West Midlands, and the ``regional``
log-in is a board member of both.

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.access import system_actor
from accounts.models import Agency, Membership, Partnership, Role, User
from accounts.partnerships import default_partnership
from accounts.sharing import partnership_sharing_set
from accounts.tenancy import partnership_scope
from frameworks.models import Framework
from frameworks.selectors import local_areas
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.imports.commit import import_file
from metrics.models import CollectionRound, Return
from metrics.quarters import Quarter
from metrics.returns import services as returns
from metrics.returns.uploads import return_import_draft
from reports.models import Snapshot
from reports.narrative.services import report_create
from reports.snapshots.services import snapshot_publish

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_FRAMEWORK = DEMO_DIR / "demo_framework.yaml"
DEMO_QUARTER = Quarter.parse("2023/24 Q4")
# (file, supplying agency)
DEMO_FILES = [
    ("demo/police.csv", "police"),
    ("demo/cps.csv", "cps"),
    ("demo/hmcts.xlsx", "hmcts"),
    ("demo/hmpps.csv", "hmpps"),
    ("demo/victim-services.csv", "victim-services"),
    ("demo/youth-justice.csv", "youth-justice"),
    ("demo/illustrative-police.csv", "police"),
    ("demo/illustrative-victim-services.csv", "victim-services"),
    ("demo/illustrative-hmcts.csv", "hmcts"),
    ("demo/illustrative-probation.csv", "probation"),
    ("demo/illustrative-police-local.csv", "police"),
]
# Local demo log-ins only (listed in the README). Never use them on a server anyone else can reach.
# (username, first name, role, agency)
DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    ("manager", "Performance manager", Role.PERFORMANCE_MANAGER, None),
    ("board", "Board member", Role.BOARD_MEMBER, None),
    ("analyst", "Police analyst", Role.ANALYST, "police"),
    ("cps-analyst", "CPS analyst", Role.ANALYST, "cps"),
    ("courts-analyst", "Courts analyst", Role.ANALYST, "hmcts"),
    ("probation-analyst", "Probation analyst", Role.ANALYST, "probation"),
    ("victims-analyst", "Victim services analyst", Role.ANALYST, "victim-services"),
    ("regional", "Regional board member", Role.BOARD_MEMBER, None),  # also of the neighbour (NEIGHBOUR_USERS)
]
# The region of the demo's two partnerships, and the names the demo gives them.
DEMO_REGION = "West Midlands"
DEMO_PARTNERSHIP_NAME = "Staffordshire LCJB (demo)"
NEIGHBOUR_CODE, NEIGHBOUR_NAME = "west-mercia", "West Mercia LCJB (demo)"
NEIGHBOUR_FRAMEWORK = {
    "code": "lcjb-west-mercia-demo",
    "name": "West Mercia LCJB Performance Framework (demo)",
    "home_area": "west-mercia",
    "partnership": NEIGHBOUR_CODE,
}
# The official statistics the demo files publish for West Mercia too: the neighbour's framework places these
# (the same shared measures as the demo's framework, so the regional view puts the two side by side).
NEIGHBOUR_METRICS = ["FAIR05", "FAIR06", "EFF09", "VW06", "VW07", "OFF01", "OFF02", "OFF08", "OFF09"]
# The neighbour's users: (username, role); their role in the default partnership is in DEMO_USERS.
NEIGHBOUR_USERS = [("regional", Role.BOARD_MEMBER)]
DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105 - documented local demo password
DEMO_MAIL_DOMAIN = "demo.pcc-perf.example"  # a reserved domain: no e-mail can leave for it
PUBLISH_REASON = "Demo: the figures were loaded from published statistics, not collected through a round of returns."
SEND_BACK_REASON = (
    "The reoffending cohort is smaller than last quarter's: please confirm the cohort size with the "
    "Ministry of Justice extract before we approve."
)


def split_by_quarter(content: bytes) -> tuple[bytes, bytes, int]:
    """A CSV data file split at the demo's quarter: (rows up to it, rows of the next quarter, rows after
    that left out), each part with the header."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    at = header.index("period")
    upto, following, later = [header], [header], 0
    next_end = DEMO_QUARTER.shift(1).end_date
    for row in body:
        period = dt.date.fromisoformat(row[at])
        if period <= DEMO_QUARTER.end_date:
            upto.append(row)
        elif period == next_end:
            following.append(row)
        else:
            later += 1
    return _csv(upto), _csv(following) if len(following) > 1 else b"", later


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _home_rows(content: bytes, home: set[str]) -> bytes:
    """Only the rows of the home area and its local areas (a return owes their figures)."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    at = rows[0].index("area")
    kept = [rows[0], *[r for r in rows[1:] if r[at] in home]]
    return _csv(kept) if len(kept) > 1 else b""


def neighbour_framework_text() -> str:
    """The neighbour's framework file: its own code, partnership and home area, with the demo framework's
    definitions of ``NEIGHBOUR_METRICS`` copied as they are (they are shared measures: one definition for every
    partnership, so loading either file never changes the other's)."""
    demo = yaml.safe_load(DEMO_FRAMEWORK.read_text(encoding="utf-8"))
    priorities = []
    for priority in demo["priorities"]:
        metrics = [m for m in priority["metrics"] if m["code"] in NEIGHBOUR_METRICS]
        if metrics:
            priorities.append({**priority, "metrics": metrics})
    doc = {"framework": NEIGHBOUR_FRAMEWORK, "priorities": priorities}
    return "# The demo's neighbour (seed_demo): made from demo_framework.yaml.\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True
    )


class Command(BaseCommand):
    help = "Load the demo framework, its real published data, users and a quarter in progress. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = framework_load(text=DEMO_FRAMEWORK.read_text(encoding="utf-8"))
        except FrameworkFileError as exc:
            raise CommandError("demo framework rejected:\n" + "\n".join(exc.errors)) from None
        framework = result.framework
        self.stdout.write(
            f"Framework {framework.code}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
        next_quarter: dict[str, list[bytes]] = {}
        total_created = 0
        for name, agency_code in DEMO_FILES:
            path = DEMO_DIR / name
            content = path.read_bytes()
            later = 0
            if path.suffix == ".csv":
                content, following, later = split_by_quarter(content)
                if following:
                    next_quarter.setdefault(agency_code, []).append(following)
            summary = import_file(content=content, filename=path.name, agency=Agency.objects.get(code=agency_code))
            if not summary.accepted:
                raise CommandError(f"{name} rejected:\n{summary.as_text()}")
            total_created += summary.created
            self.stdout.write(
                f"{name}: {summary.rows_read} rows to {DEMO_QUARTER.label}, {summary.created} created, "
                f"{summary.updated} updated, {summary.unchanged} unchanged, {len(summary.warnings)} warnings"
                + (f"; {later} rows after {DEMO_QUARTER.shift(1).label} left out" if later else "")
            )
        users_created = self._users()
        self.stdout.write(f"Demo users: {users_created} created. Observations created: {total_created}")
        self._quarter_in_progress(framework, next_quarter)
        self._neighbour()

    def _users(self) -> int:
        created = 0
        with transaction.atomic():
            for username, first_name, role, user_agency in DEMO_USERS:
                email = f"{username}@{DEMO_MAIL_DOMAIN}"
                user = User.objects.filter(username=username).first()
                if user is not None:
                    if not user.email:  # a demo loaded before users had addresses
                        user.email = email
                        user.save(update_fields=["email"])
                    continue
                user = User(username=username, first_name=first_name, role=role, email=email)
                if user_agency:
                    user.agency = Agency.objects.get(code=user_agency)
                user.is_staff = role == Role.PERFORMANCE_MANAGER
                user.set_password(DEMO_PASSWORD)
                user.save()
                created += 1
        return created

    def _quarter_in_progress(self, framework: Framework, next_quarter: dict[str, list[bytes]]) -> None:
        """The snapshot and draft report of the demo's quarter, and the next quarter's round part-way through."""
        if Snapshot.objects.filter(framework=framework, period=DEMO_QUARTER.end_date).exists():
            self.stdout.write(f"{DEMO_QUARTER.label}: snapshot already published; round already set up.")
            return
        manager = User.objects.get(username="manager")
        snapshot = snapshot_publish(
            actor=system_actor(), framework=framework, period=DEMO_QUARTER.end_date, reason=PUBLISH_REASON
        )
        report = report_create(actor=manager, snapshot=snapshot)
        self.stdout.write(
            f"{DEMO_QUARTER.label}: snapshot {snapshot.number} published ({snapshot.observation_count} figures); "
            f"draft report '{report.title}'"
        )
        following = DEMO_QUARTER.shift(1)
        if CollectionRound.objects.filter(period=following.end_date).exists():
            return
        today = timezone.localdate()
        round_ = returns.round_open(
            actor=manager,
            framework=framework,
            period=following.end_date,
            due_date=max(today + dt.timedelta(days=21), following.end_date + dt.timedelta(days=30)),
        )
        home = {framework.home_area.code, *(a.code for a in local_areas(framework))}
        states: list[str] = []
        for ret in Return.objects.filter(round=round_).select_related("agency", "round").order_by("agency__name"):
            files = [_home_rows(content, home) for content in next_quarter.get(ret.agency.code, [])]
            for content in [f for f in files if f]:
                check = return_import_draft(
                    actor=system_actor(), return_obj=ret, content=content, filename=f"{ret.agency.code}-return.csv"
                )
                if check.summary.errors:
                    raise CommandError(f"{ret.agency.code} return rejected:\n{check.summary.as_text()}")
            ret.refresh_from_db()
            analyst = User.objects.filter(agency=ret.agency, role=Role.ANALYST).order_by("username").first()
            if ret.agency.code in {"victim-services", "probation"} and analyst is not None:
                ret = returns.return_submit(actor=analyst, return_obj=ret)
                if ret.agency.code == "probation":
                    ret = returns.return_send_back(actor=manager, return_obj=ret, reason=SEND_BACK_REASON)
            states.append(f"{ret.agency.code} {ret.get_state_display().lower()} ({ret.values.count()} values)")
        self.stdout.write(f"{following.label} round open, due {round_.due_date:%d %B %Y}: " + "; ".join(states))

    def _neighbour(self) -> None:
        """The second partnership of the region: its framework of shared measures, its published snapshot of the
        demo's quarter, sharing turned on for both, and the regional board member."""
        ours = default_partnership()
        changed = []
        if ours.name == "Default partnership":  # the migration's name: the demo names it (a host's name stays)
            ours.name = DEMO_PARTNERSHIP_NAME
            changed.append("name")
        if not ours.region:
            ours.region = DEMO_REGION
            changed.append("region")
        if changed:
            ours.save(update_fields=changed)
        neighbour, _ = Partnership.objects.get_or_create(
            code=NEIGHBOUR_CODE, defaults={"name": NEIGHBOUR_NAME, "region": DEMO_REGION}
        )
        with partnership_scope(neighbour):
            try:
                result = framework_load(text=neighbour_framework_text())
            except FrameworkFileError as exc:
                raise CommandError("neighbour's framework rejected:\n" + "\n".join(exc.errors)) from None
            framework = result.framework
            published = "already published"
            if not Snapshot.objects.filter(framework=framework, period=DEMO_QUARTER.end_date).exists():
                snapshot = snapshot_publish(
                    actor=system_actor(), framework=framework, period=DEMO_QUARTER.end_date, reason=PUBLISH_REASON
                )
                published = f"snapshot {snapshot.number} published"
        for partnership in (ours, neighbour):
            if not partnership.shares_published_with_region:
                partnership_sharing_set(actor=system_actor(), partnership=partnership, shares=True)
        added = 0
        for username, role in NEIGHBOUR_USERS:
            user = User.objects.get(username=username)
            _, created = Membership.objects.get_or_create(partnership=neighbour, user=user, defaults={"role": role})
            added += created
        self.stdout.write(
            f"{neighbour.name} ({DEMO_REGION}): framework {framework.code}: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged; {DEMO_QUARTER.label} {published}; "
            f"sharing with the region on for both; {added} memberships added"
        )
