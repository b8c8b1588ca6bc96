"""Background work: building board packs (django.tasks; the database worker runs it)."""

from django.tasks import task
from django.utils import timezone

from reports.models import BoardPack, PackState


@task()
def build_pack_task(pack_id: int) -> str:
    from reports.packs.build import build_pack

    pack = BoardPack.objects.select_related("report__snapshot").get(pk=pack_id)
    try:
        build_pack(pack=pack)
    except Exception as exc:  # the page must say it failed, not spin for ever
        BoardPack.objects.filter(pk=pack_id).update(
            state=PackState.FAILED, message=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    return "ready"
