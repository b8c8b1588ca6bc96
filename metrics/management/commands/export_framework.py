from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frameworks.models import Framework
from metrics.catalogue.export import framework_export


class Command(BaseCommand):
    help = "Write a framework in the framework file format (YAML) to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the framework's code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.stdout.write(framework_export(code=options["code"]), ending="")
        except Framework.DoesNotExist:
            raise CommandError(f"unknown framework '{options['code']}'") from None
