from pathlib import Path

import pytest

from accounts.models import Role

from .factories import AgencyFactory, UserFactory
from .metrics.returns_setup import setup  # noqa: F401  (the returns fixture, shared by several test modules)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


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
