from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import system_actor
from accounts.models import Partnership
from accounts.partnerships import PARTNERSHIP_HELP, command_partnership
from accounts.tenancy import partnership_scope
from reports.models import Report, Snapshot
from reports.narrative.services import ReportError, report_create
from reports.packs.build import build_pack_pdf


class Command(BaseCommand):
    help = (
        "Build the board pack PDF of a snapshot's report (the same PDF as the web export). On a snapshot with no "
        "report, the draft report is created from the evidence first (board edition), and the output says so."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--snapshot", type=int, required=True)
        parser.add_argument("--out", required=True, help="the PDF file to write")
        parser.add_argument("--edition", choices=["board", "public"], default="board")
        parser.add_argument("--partnership", metavar="CODE", help=PARTNERSHIP_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        partnership = command_partnership(options["partnership"])
        with partnership_scope(partnership):  # every read, the draft report and its audit: the partnership's
            self.build(partnership, options)

    def build(self, partnership: Partnership, options: dict[str, Any]) -> None:
        snapshot = Snapshot.objects.in_scope().filter(pk=options["snapshot"]).first()
        if snapshot is None:
            raise CommandError(
                f"unknown snapshot {options['snapshot']}"
                + (f" in partnership {partnership.code}" if options["partnership"] else "")
            )
        report = Report.objects.filter(snapshot=snapshot).first()
        if report is None:
            if options["edition"] == "public":
                raise CommandError(f"{snapshot} has no report: the public edition is for published reports only")
            # A scheduled job can build the draft pack the moment a quarter is published: the draft report is
            # created from the evidence as the web's "new report" does, by the system user (audited).
            try:
                report = report_create(actor=system_actor(), snapshot=snapshot)
            except ReportError as exc:  # another process created it meanwhile
                report = Report.objects.filter(snapshot=snapshot).first()
                if report is None:
                    raise CommandError(str(exc)) from None
            else:
                self.stdout.write(
                    f"{snapshot} had no report: created the draft report {report.pk} ({report.title}) from the "
                    "evidence, as the system user. Its findings are generated; edit it on the web before publishing."
                )
        if options["edition"] == "public" and report.state != "published":
            raise CommandError("the public edition is for published reports only")
        pdf = build_pack_pdf(report=report, public=options["edition"] == "public")
        Path(options["out"]).write_bytes(pdf)
        self.stdout.write(f"{options['out']}: {len(pdf):,} bytes")
