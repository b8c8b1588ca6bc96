"""Moving models between apps changes Django's state, not the tables: users, agencies, audit events and API
tokens to accounts; a metric's place in a framework and validation rules to metrics."""

import importlib

import pytest
from django.db import connection, migrations
from django.db.migrations.recorder import MigrationRecorder

from accounts.management.commands.migrate import adopt_moved_models

STATE_ONLY = [
    ("accounts", "0001_initial"),
    ("metrics", "0005_accounts_move"),
    ("reports", "0005_accounts_move"),
    ("frameworks", "0005_move_to_accounts"),
    ("frameworks", "0006_move_to_metrics"),
    ("metrics", "0008_catalogue_move"),
]


@pytest.mark.parametrize(("app", "name"), STATE_ONLY)
def test_the_move_touches_no_table(app, name):
    migration = importlib.import_module(f"{app}.migrations.{name}").Migration
    for operation in migration.operations:
        assert isinstance(operation, migrations.SeparateDatabaseAndState)
        assert operation.database_operations == []


@pytest.mark.django_db(transaction=True)
def test_migrate_adopts_a_database_made_before_the_move():
    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    recorder.migration_qs.all().delete()
    assert not adopt_moved_models(connection)  # a new database: nothing to adopt
    recorder.record_applied("frameworks", "0004_returns")
    assert adopt_moved_models(connection)
    assert ("accounts", "0001_initial") in recorder.applied_migrations()
    assert not adopt_moved_models(connection)  # once only
    recorder.migration_qs.all().delete()
