from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError


class Command(BaseCommand):
    help = "Create or update a framework and everything it names from a framework file (YAML). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the framework file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file ({exc})") from None
        try:
            result = framework_load(text=text)
        except FrameworkFileError as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{path}: rejected with {len(exc.errors)} error(s); nothing was written") from None
        fw = result.framework
        self.stdout.write(
            f"Framework {fw.code} version {fw.version}: {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted, {result.unchanged} unchanged"
        )
