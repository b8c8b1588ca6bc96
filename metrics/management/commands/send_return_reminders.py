from typing import Any

from django.core.management.base import BaseCommand

from metrics.returns.notifications import send_reminders


class Command(BaseCommand):
    help = "E-mail reminders for returns due within 3 days or late (each once). Run it daily, e.g. from cron."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Reminders sent: {send_reminders()}")
