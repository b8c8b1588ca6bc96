"""``migrate``, which first adopts a database made before users moved from frameworks to accounts.

``accounts.0001_initial`` only records in Django's state that the ``frameworks_*`` user, agency, audit and
API-token tables now belong to accounts; it changes no table. On a database made before the move, Django's
admin migration (which depends on the user model's app) is already applied while ``accounts.0001`` is not,
and Django refuses to migrate ("InconsistentMigrationHistory"). Because that migration touches no table,
marking it applied is exactly what applying it would do; this runs before Django's own checks.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

BEFORE_THE_MOVE = ("frameworks", "0004_returns")
STATE_ONLY = ("accounts", "0001_initial")


def adopt_moved_models(connection: BaseDatabaseWrapper) -> bool:
    """Mark ``accounts.0001`` applied on a database whose frameworks tables predate it. True if it did."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    applied = recorder.applied_migrations()
    if STATE_ONLY in applied or BEFORE_THE_MOVE not in applied:
        return False
    recorder.record_applied(*STATE_ONLY)
    return True


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Adopts databases made before users moved to the accounts app."

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if adopt_moved_models(connection) and options.get("verbosity", 1) >= 1:
            self.stdout.write("Users, agencies, audit events and API tokens now belong to accounts (same tables).")
        super().handle(*args, **options)
