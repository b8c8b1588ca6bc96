import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import system_actor
from accounts.models import Partnership
from accounts.partnerships import PARTNERSHIP_HELP, command_partnership
from accounts.tenancy import partnership_scope
from frameworks.selectors import current_framework
from metrics.quarters import Quarter, QuarterError
from reports.snapshots.services import SnapshotError, readiness, snapshot_publish


class Command(BaseCommand):
    help = "Publish the quarter's snapshot as the web action does; prints the new snapshot's ID on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help="quarter end date, e.g. 2024-06-30 (or 2024/25 Q1)")
        parser.add_argument("--reason", default="", help="required when returns are missing")
        parser.add_argument("--partnership", metavar="CODE", help=PARTNERSHIP_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = Quarter.parse(options["quarter"]).end_date
        except QuarterError as exc:
            raise CommandError(f"--quarter: {exc}") from None
        partnership = command_partnership(options["partnership"])
        with partnership_scope(partnership):  # every read and the audit event: the partnership's
            self.publish(partnership, period, options)

    def publish(self, partnership: Partnership, period: dt.date, options: dict[str, Any]) -> None:
        framework = current_framework(partnership=partnership)
        if framework is None:
            raise CommandError(
                "no framework is loaded" + (f" for {partnership.code}" if options["partnership"] else "")
            )
        state = readiness(period=period)
        for r in state.returns:
            self.stdout.write(f"{r.agency.name}: {r.get_state_display()}")
        try:
            snapshot = snapshot_publish(
                actor=system_actor(), framework=framework, period=period, reason=options["reason"]
            )
        except SnapshotError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Published {snapshot}: {snapshot.observation_count} observations, {snapshot.revisions.count()} revised"
        )
        self.stdout.write(str(snapshot.pk))
