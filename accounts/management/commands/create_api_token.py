from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Create a JSON API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the key is for")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"unknown user '{options['username']}'")
        _, key = api_token_create(user=user, name=options["name"])
        self.stderr.write(f"API key for {user.username} (send it as 'Authorization: Token KEY'):")
        self.stdout.write(key)
