from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.partnerships import PARTNERSHIP_HELP, command_partnership
from frameworks.models import Framework
from metrics.catalogue.export import framework_export


class Command(BaseCommand):
    help = "Write a framework in the framework file format (YAML) to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the framework's code")
        parser.add_argument("--partnership", metavar="CODE", help=PARTNERSHIP_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        partnership = command_partnership(options["partnership"])
        try:
            self.stdout.write(framework_export(code=options["code"], partnership=partnership), ending="")
        except Framework.DoesNotExist:
            raise CommandError(
                f"unknown framework '{options['code']}'"
                + (f" in partnership {partnership.code}" if options["partnership"] else "")
            ) from None
