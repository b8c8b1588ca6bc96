"""Helper processes for tests/reports/test_worker_killed.py, run as ``python -m tests.reports.worker_driver``:

- ``setup``: a framework, approved figures, a published snapshot and report; queues the board pack (prints its id)
- ``request``: queues the report's public pack (prints its id)
- ``retry PACK_ID``: the performance manager's "Try again"
- ``worker``: a real ``manage.py db_worker``
- ``slow-worker MARKER``: the same worker, with the PDF build stopped at 20% (after writing MARKER) for an hour,
  so the test can kill it mid-build

The database is the one ``DATABASE_URL`` names (a file, shared with the test and the other processes).
"""

import os
import sys
import time
from pathlib import Path

import django


def main(command: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pcc_perf.settings")
    django.setup()  # before anything imports pytest: the settings must not think they are under test
    from django.core.management import call_command

    if command in ("worker", "slow-worker"):
        if command == "slow-worker":
            marker = Path(args[0])

            def stuck_build(*, report, public, use_browser=True, progress=None, parts=None, laid_out=None):
                progress(20, "Drawing 2 charts")
                marker.write_text("building")
                time.sleep(3600)  # until killed

            import reports.packs.build

            reports.packs.build.build_pack_pdf = stuck_build  # type: ignore[assignment]
        call_command("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", "--worker-id", command)
        return

    from accounts.models import User
    from reports.models import Report
    from reports.packs.services import pack_request, pack_retry

    if command == "setup":
        print(_setup())
    elif command == "request":
        manager = User.objects.get(username="manager")
        pack, _ = pack_request(actor=manager, report=Report.objects.get(), public=True)
        print(pack.pk)
    elif command == "retry":
        print(pack_retry(actor=User.objects.get(username="manager"), pack_id=int(args[0])).pk)
    else:
        raise SystemExit(f"unknown command {command}")


def _setup() -> int:
    from accounts.models import Agency, Role
    from metrics.catalogue.load import framework_load
    from metrics.imports.commit import import_file
    from reports.packs.services import pack_request
    from reports.snapshots.services import snapshot_publish
    from tests.factories import UserFactory
    from tests.metrics.returns_setup import FRAMEWORK, HEADER, PERIOD
    from tests.reports.test_reporting import publish_report

    framework = framework_load(text=FRAMEWORK).framework
    manager = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER)
    rows = HEADER + "".join(
        f"OFF01,staffordshire,{q},,,{v},,,final,\n"
        for q, v in [("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212), ("2024-06-30", 20800)]
    )
    assert import_file(content=rows.encode(), filename="data.csv", agency=Agency.objects.get(code="police")).accepted
    snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason="Test: no round")
    report = publish_report({"manager": manager, "snapshot": snapshot})
    pack, _ = pack_request(actor=manager, report=report, public=False)
    return pack.pk


if __name__ == "__main__":
    main(*sys.argv[1:])
