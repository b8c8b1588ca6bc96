from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Partnership
from accounts.partnerships import command_partnership
from accounts.tenancy import partnership_scope
from metrics.returns.notifications import send_reminders


class Command(BaseCommand):
    help = (
        "E-mail reminders for returns due within 3 days or late (each once), partnership by partnership: each "
        "partnership's returns to its own contacts. Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--partnership", metavar="CODE", help="code of the one partnership to remind (default: every partnership)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["partnership"]
        if code:
            partnerships = [command_partnership(code)]
        else:
            partnerships = list(Partnership.objects.order_by("code")) or [command_partnership(None)]
        total = 0
        for partnership in partnerships:
            with partnership_scope(partnership):
                sent = send_reminders(partnership=partnership)
            total += sent
            if len(partnerships) > 1:
                self.stdout.write(f"{partnership.code}: {sent}")
        self.stdout.write(f"Reminders sent: {total}")
