"""Load the demo: framework, real published figures and one user per role. Idempotent."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Agency, Role, User
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.imports.commit import import_file

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_FRAMEWORK = DEMO_DIR / "demo_framework.yaml"
# (file, supplying agency)
DEMO_FILES = [
    ("demo/police.csv", "police"),
    ("demo/cps.csv", "cps"),
    ("demo/hmcts.xlsx", "hmcts"),
    ("demo/hmpps.csv", "hmpps"),
]
# Local demo log-ins only (listed in the README). Never use them on a server anyone else can reach.
DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    ("manager", "Performance manager", Role.PERFORMANCE_MANAGER, None),
    ("board", "Board member", Role.BOARD_MEMBER, None),
    ("analyst", "Police analyst", Role.ANALYST, "police"),
    ("cps-analyst", "CPS analyst", Role.ANALYST, "cps"),
]
DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105 - documented local demo password


class Command(BaseCommand):
    help = "Load the demo framework, its real published data and demo users. Running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = framework_load(text=DEMO_FRAMEWORK.read_text(encoding="utf-8"))
        except FrameworkFileError as exc:
            raise CommandError("demo framework rejected:\n" + "\n".join(exc.errors)) from None
        self.stdout.write(
            f"Framework {result.framework.code}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
        total_created = 0
        for name, agency_code in DEMO_FILES:
            path = DEMO_DIR / name
            summary = import_file(
                content=path.read_bytes(), filename=path.name, agency=Agency.objects.get(code=agency_code)
            )
            if not summary.accepted:
                raise CommandError(f"{name} rejected:\n{summary.as_text()}")
            total_created += summary.created
            self.stdout.write(
                f"{name}: {summary.rows_read} rows, {summary.created} created, {summary.updated} updated, "
                f"{summary.unchanged} unchanged, {len(summary.warnings)} warnings"
            )
        users_created = 0
        with transaction.atomic():
            for username, first_name, role, user_agency in DEMO_USERS:
                if User.objects.filter(username=username).exists():
                    continue
                user = User(username=username, first_name=first_name, role=role)
                if user_agency:
                    user.agency = Agency.objects.get(code=user_agency)
                user.is_staff = role == Role.PERFORMANCE_MANAGER
                user.set_password(DEMO_PASSWORD)
                user.save()
                users_created += 1
        self.stdout.write(f"Demo users: {users_created} created. Observations created: {total_created}")
