from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.models import Report, Snapshot
from reports.packs.build import build_pack_pdf


class Command(BaseCommand):
    help = "Build the board pack PDF of a snapshot's report (the same PDF as the web export)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--snapshot", type=int, required=True)
        parser.add_argument("--out", required=True, help="the PDF file to write")
        parser.add_argument("--edition", choices=["board", "public"], default="board")

    def handle(self, *args: Any, **options: Any) -> None:
        snapshot = Snapshot.objects.filter(pk=options["snapshot"]).first()
        if snapshot is None:
            raise CommandError(f"unknown snapshot {options['snapshot']}")
        report = Report.objects.filter(snapshot=snapshot).first()
        if report is None:
            raise CommandError(f"{snapshot} has no report yet: write it first")
        if options["edition"] == "public" and report.state != "published":
            raise CommandError("the public edition is for published reports only")
        pdf = build_pack_pdf(report=report, public=options["edition"] == "public")
        Path(options["out"]).write_bytes(pdf)
        self.stdout.write(f"{options['out']}: {len(pdf):,} bytes")
