import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from accounts.access import system_actor
from accounts.models import Agency, Role
from accounts.partnerships import MembershipError, PartnershipError, membership_add, partnership_choose


class Command(BaseCommand):
    help = (
        "Create a user, or give an existing one a role in a partnership (idempotent), and print a one-time "
        "set-password link while the user has no password. Audited as the system user. Exit status: 0 done, "
        "2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the user's e-mail address (also their username)")
        parser.add_argument("--partnership", required=True, help="code of the partnership")
        parser.add_argument(
            "--role", required=True, help=f"the user's role in the partnership: {' | '.join(Role.values)}"
        )
        parser.add_argument("--agency", help="code of the user's agency (required for an analyst)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partnership = partnership_choose(options["partnership"])
        except PartnershipError as exc:
            self._usage(str(exc))
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                self._usage(f"unknown agency '{options['agency']}'")
        try:
            added = membership_add(
                actor=system_actor(),
                email=options["email"],
                partnership=partnership,
                role=options["role"],
                agency=agency,
            )
        except MembershipError as exc:
            self._usage(str(exc))
        role = Role(added.membership.role).label.lower()
        where = f"{role}{f' ({agency.name})' if agency else ''} in {partnership.name} ({partnership.code})"
        who = added.user.username
        if added.user_created:
            self.stdout.write(f"Created {who}: {where}.")
        elif added.outcome == "added":
            self.stdout.write(f"{who} is now {where}.")
        elif added.outcome == "changed":
            self.stdout.write(f"{who}'s role changed: now {where}.")
        else:
            self.stdout.write(f"{who} was already {where}: nothing changed.")
        if added.link:
            self.stdout.write(f"One-time link to choose a password (pass it on privately):\n{added.link}")
        else:
            self.stdout.write(f"{who} has a password already: they sign in as before.")

    def _usage(self, message: str) -> NoReturn:
        self.stderr.write(f"error: {message}")
        sys.exit(2)
