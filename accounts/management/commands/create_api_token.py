from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import user_partnerships
from accounts.models import User
from accounts.partnerships import command_partnership
from accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Create a JSON API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument(
            "--partnership",
            default=None,
            help="code of the partnership the key reads, one the user has a role in (left out: each call names "
            "one with ?partnership=CODE, or the user's only one is read)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"unknown user '{options['username']}'")
        partnership = None
        if options["partnership"]:
            partnership = command_partnership(options["partnership"])
            if partnership.pk not in {p.pk for p in user_partnerships(user)}:
                raise CommandError(
                    f"--partnership: {user.username} has no role in partnership '{partnership.code}'", returncode=2
                )
        _, key = api_token_create(user=user, name=options["name"], partnership=partnership)
        within = f" in partnership {partnership.code}" if partnership is not None else ""
        self.stderr.write(f"API key for {user.username}{within} (send it as 'Authorization: Token KEY'):")
        self.stdout.write(key)
