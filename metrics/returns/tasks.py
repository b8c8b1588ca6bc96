"""Background tasks (django.tasks): checking and writing large uploads, each beating a heartbeat on the
upload while it works so a stopped worker's upload is failed, not left "checking" for ever. Each works inside
the partnership of the upload's round (``accounts.tenancy``): its reads are that partnership's, and so are the
audit events it files."""

import contextlib

from django.tasks import TaskContext, task

from accounts.background import heartbeat
from accounts.models import Partnership, User
from accounts.tenancy import partnership_scope
from metrics.models import ReturnUpload, UploadState


def _stopped(exc: BaseException, doing: str) -> str:
    reason = str(exc).strip() or exc.__class__.__name__
    return f"The file could not be {doing}: {reason[:200]}. Nothing was written; check it again."


def _partnership_of(upload_id: int) -> Partnership | None:
    """The partnership of the upload's round (None: no such upload)."""
    return Partnership.objects.filter(rounds__returns__uploads__pk=upload_id).first()


@task(takes_context=True)
def check_upload_task(context: TaskContext, upload_id: int) -> str:
    partnership = _partnership_of(upload_id)
    if partnership is None:
        return "not waiting to be checked"  # no such upload
    with partnership_scope(partnership):
        return _check_upload(context, upload_id)


def _check_upload(context: TaskContext, upload_id: int) -> str:
    from .uploads import UploadSuperseded, upload_check, upload_failed, upload_started, working

    task_id = str(context.task_result.id)
    if not upload_started(upload_id=upload_id, task_id=task_id, state=UploadState.CHECKING):
        return "not waiting to be checked"
    try:
        with heartbeat(working(upload_id, task_id, UploadState.CHECKING)):
            upload = ReturnUpload.objects.in_scope().get(pk=upload_id)
            return str(upload_check(upload=upload, task_id=task_id).state)
    except UploadSuperseded:
        return "superseded"
    except Exception as exc:  # the page must say it stopped, not spin for ever
        with contextlib.suppress(UploadSuperseded):
            upload_failed(upload_id=upload_id, message=_stopped(exc, "checked"), task_id=task_id)
        raise


@task(takes_context=True)
def commit_upload_task(context: TaskContext, upload_id: int, actor_id: int) -> str:
    partnership = _partnership_of(upload_id)
    if partnership is None:
        return "not waiting to be written"  # no such upload
    with partnership_scope(partnership):
        return _commit_upload(context, upload_id, actor_id)


def _commit_upload(context: TaskContext, upload_id: int, actor_id: int) -> str:
    from .services import ReturnError
    from .uploads import UploadSuperseded, upload_fail, upload_failed, upload_started, upload_write, working

    task_id = str(context.task_result.id)
    if not upload_started(upload_id=upload_id, task_id=task_id, state=UploadState.WRITING):
        return "not waiting to be written"
    upload = ReturnUpload.objects.in_scope().select_related("return_obj").get(pk=upload_id)
    actor = User.objects.get(pk=actor_id)
    try:
        with heartbeat(working(upload_id, task_id, UploadState.WRITING)):
            upload_write(actor=actor, upload=upload, task_id=task_id)
    except UploadSuperseded:
        return "superseded"
    except ReturnError as exc:
        try:
            upload_fail(actor=actor, upload_id=upload_id, message=str(exc), task_id=task_id)
        except UploadSuperseded:
            return "superseded"
        return "rejected"
    except Exception as exc:
        with contextlib.suppress(UploadSuperseded):
            upload_failed(upload_id=upload_id, message=_stopped(exc, "written"), task_id=task_id)
        raise
    return "committed"
