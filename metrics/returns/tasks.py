"""Background tasks (django.tasks): checking and writing large uploads."""

from django.tasks import task

from accounts.models import User
from metrics.models import ReturnUpload


@task()
def check_upload_task(upload_id: int) -> str:
    from .uploads import upload_check

    upload = ReturnUpload.objects.get(pk=upload_id)
    return str(upload_check(upload=upload).state)


@task()
def commit_upload_task(upload_id: int, actor_id: int) -> str:
    from .services import ReturnError
    from .uploads import upload_fail, upload_write

    upload = ReturnUpload.objects.select_related("return_obj").get(pk=upload_id)
    actor = User.objects.get(pk=actor_id)
    try:
        upload_write(actor=actor, upload=upload)
    except ReturnError as exc:
        upload_fail(actor=actor, upload_id=upload_id, message=str(exc))
        return "rejected"
    return "committed"
