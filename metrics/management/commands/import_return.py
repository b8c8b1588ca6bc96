import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from frameworks.models import Agency
from metrics.imports import import_file


class Command(BaseCommand):
    help = (
        "Import a data file (CSV or XLSX, CONTRACT §2) for an agency as approved data. "
        "Exit status: 0 accepted, 1 rejected (nothing written), 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the CSV or XLSX file")
        parser.add_argument("--agency", required=True, help="code of the agency sending the data")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            self.stderr.write(f"error: unknown agency '{options['agency']}'")
            sys.exit(2)
        try:
            content = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"error: cannot read {path}: {exc.strerror}")
            sys.exit(2)
        summary = import_file(content=content, filename=path.name, agency=agency, dry_run=options["dry_run"])
        self.stdout.write(summary.as_text())
        if not summary.accepted:
            sys.exit(1)
