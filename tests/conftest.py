from pathlib import Path

import pytest
from django.apps import apps
from django.db import connections
from django.db.models.signals import post_migrate

from accounts import immutable
from accounts.models import GUARDS as AUDIT_GUARDS
from accounts.models import Role
from reports.models import GUARDS as PUBLISHED_GUARDS

from .factories import AgencyFactory, UserFactory
from .metrics.returns_setup import setup  # noqa: F401  (the returns fixture, shared by several test modules)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


GUARDS = [*AUDIT_GUARDS, *PUBLISHED_GUARDS]


def _install_guards(sender, using, **kwargs):
    """Test databases are made without migrations (``--no-migrations``): install the same immutability
    triggers the migrations install, after the tables are made and after every flush."""
    immutable.install(connections[using], GUARDS)


post_migrate.connect(_install_guards, sender=apps.get_app_config("reports"), dispatch_uid="pcc-test-guards")


@pytest.fixture(autouse=True)
def _no_reads_kept_from_another_test():
    """Each test starts with no prepared read kept (``accounts.prepared``): what one test kept on the
    connection would otherwise serve the next (whose rows, ids and order differ), and a test's counts of
    builds would depend on the order tests run in."""
    from accounts.prepared import forget_prepared_reads

    forget_prepared_reads()
    yield
    forget_prepared_reads()


@pytest.fixture(autouse=True)
def _guards_lifted_for_the_flush(request, django_db_blocker):
    """A transactional test ends with a flush; on SQLite that DELETEs every row, which the triggers refuse
    (PostgreSQL TRUNCATEs, which fires no row trigger). Lift them just before; the flush's post_migrate signal
    puts them back."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if transactional and connections["default"].vendor == "sqlite":
        with django_db_blocker.unblock():
            immutable.uninstall(connections["default"], GUARDS)


@pytest.fixture
def police(db):
    return AgencyFactory(code="police", name="Police")


@pytest.fixture
def users(db, police):
    """One user per role, plus an analyst of another agency."""
    other = AgencyFactory(code="cps", name="CPS")
    return {
        "analyst": UserFactory(username="analyst", role=Role.ANALYST, agency=police),
        "other_analyst": UserFactory(username="other-analyst", role=Role.ANALYST, agency=other),
        "performance_manager": UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER),
        "board_member": UserFactory(username="board", role=Role.BOARD_MEMBER),
        "no_role": UserFactory(username="norole", role=""),
    }
