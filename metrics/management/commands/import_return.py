import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.access import system_actor
from accounts.models import Agency
from accounts.partnerships import PARTNERSHIP_HELP, PartnershipError, partnership_choose
from accounts.tenancy import partnership_scope
from metrics.imports.commit import import_file
from metrics.imports.parse import FileRejected


class Command(BaseCommand):
    help = (
        "Import a data file (CSV or XLSX, CONTRACT §2) for an agency as approved data, or with --draft into "
        "the agency's return for approval. Exit status: 0 accepted, 1 rejected (nothing written), 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the CSV or XLSX file")
        parser.add_argument("--agency", required=True, help="code of the agency sending the data")
        parser.add_argument("--partnership", metavar="CODE", help=PARTNERSHIP_HELP)
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument(
            "--draft", action="store_true", help="put the values into the agency's open return (for approval) instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            # The partnership the data is for: its metric codes (and the shared ones) are the file's.
            partnership = partnership_choose(options["partnership"])
        except PartnershipError as exc:
            self.stderr.write(f"error: --partnership: {exc}")
            sys.exit(2)
        with partnership_scope(partnership):
            self._import(path, options)

    def _import(self, path: Path, options: dict[str, Any]) -> None:
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            self.stderr.write(f"error: unknown agency '{options['agency']}'")
            sys.exit(2)
        try:
            content = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"error: cannot read {path}: {exc.strerror}")
            sys.exit(2)
        if options["draft"]:
            self._draft(agency, content, path.name, dry_run=options["dry_run"])
            return
        summary = import_file(
            content=content, filename=path.name, agency=agency, actor=system_actor(), dry_run=options["dry_run"]
        )
        self.stdout.write(summary.as_text())
        if not summary.accepted:
            sys.exit(1)

    def _draft(self, agency: Agency, content: bytes, filename: str, *, dry_run: bool) -> None:
        from metrics.imports.parse import parse_file
        from metrics.returns.services import ReturnError
        from metrics.returns.uploads import draft_return_for, return_import_draft
        from metrics.returns.values import check_return_rows

        try:
            return_obj = draft_return_for(agency=agency, content=content, filename=filename)
        except (FileRejected, ReturnError) as exc:
            self.stdout.write(f"Rejected: {exc}. Nothing was written.")
            sys.exit(1)
        if dry_run:
            positions, raw_rows = parse_file(content=content, filename=filename)
            check = check_return_rows(return_obj=return_obj, positions=positions, raw_rows=raw_rows, filename=filename)
            check.summary.dry_run = True
        else:
            try:
                check = return_import_draft(
                    actor=system_actor(), return_obj=return_obj, content=content, filename=filename
                )
            except ReturnError as exc:
                self.stdout.write(f"Rejected: {exc}. Nothing was written.")
                sys.exit(1)
        self.stdout.write(f"Return: {return_obj} ({return_obj.get_state_display()})")
        self.stdout.write(check.summary.as_text())
        for finding in check.findings:
            self.stdout.write(f"  {finding.importance}: {finding.message}")
        if not check.summary.accepted:
            sys.exit(1)
