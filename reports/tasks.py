"""Background work: building board packs (django.tasks; the database worker runs it), and the sweep every
worker runs for work whose worker stopped."""

import contextlib

from django.tasks import TaskContext, task


@task(takes_context=True)
def build_pack_task(context: TaskContext, pack_id: int) -> str:
    from accounts.tenancy import partnership_scope
    from reports.models import BoardPack

    task_id = str(context.task_result.id)
    # The pack's partnership (its report's snapshot's framework's): every read, write and audit event of the
    # build is that partnership's.
    pack = BoardPack.objects.select_related("report__snapshot__framework__partnership").get(pk=pack_id)
    with partnership_scope(pack.report.snapshot.framework.partnership):
        return _build(pack_id, task_id)


def _build(pack_id: int, task_id: str) -> str:
    from reports.packs.build import build_pack
    from reports.packs.services import PackSuperseded, pack_failed

    try:
        build_pack(pack_id=pack_id, task_id=task_id)
    except PackSuperseded:
        return "superseded"  # failed as stopped meanwhile (and maybe queued again): not this task's any more
    except Exception as exc:  # the page must say it failed, not spin for ever
        with contextlib.suppress(PackSuperseded):
            pack_failed(pack_id=pack_id, error=str(exc) or exc.__class__.__name__, task_id=task_id)
        raise
    return "ready"


def recover_stale_work() -> dict[str, list[int]]:
    """Fail the board packs and uploads whose worker stopped (no heartbeat for PCC_PERF_TASK_STALE_SECONDS):
    each with a message, an audit event and its task marked failed; their pages offer to try again."""
    from metrics.returns.uploads import uploads_recover
    from reports.packs.services import packs_recover

    return {"packs": packs_recover(), "uploads": uploads_recover()}
