from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.partnerships import command_partnership
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError


class Command(BaseCommand):
    help = "Create or update a framework and everything it names from a framework file (YAML). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the framework file")
        parser.add_argument(
            "--partnership",
            metavar="CODE",
            help="code of the partnership to load into (the file must name it, or none); without it, the "
            "partnership the file names (framework.partnership), else the default one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        partnership = command_partnership(options["partnership"]) if options["partnership"] else None
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file ({exc})") from None
        try:
            result = framework_load(text=text, partnership=partnership)
        except FrameworkFileError as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{path}: rejected with {len(exc.errors)} error(s); nothing was written") from None
        fw = result.framework
        self.stdout.write(
            f"Framework {fw.code}{_in(fw)} version {fw.version}: {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted, {result.unchanged} unchanged"
        )


def _in(framework: Any) -> str:
    """`` (partnership CODE)`` for a framework outside the default partnership (the output is unchanged for a
    single-partnership installation)."""
    from accounts.partnerships import is_default

    return "" if is_default(framework.partnership) else f" (partnership {framework.partnership.code})"
