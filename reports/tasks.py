"""Background work: building board packs (django.tasks; the database worker runs it)."""

from django.tasks import task


@task()
def build_pack_task(pack_id: int) -> str:
    from reports.packs.build import build_pack
    from reports.packs.services import pack_failed

    try:
        build_pack(pack_id=pack_id)
    except Exception as exc:  # the page must say it failed, not spin for ever
        pack_failed(pack_id=pack_id, error=str(exc) or exc.__class__.__name__)
        raise
    return "ready"
