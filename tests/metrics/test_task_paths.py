"""Queued background work names its task by dotted path; rows queued before the move must still run."""

from django.tasks import Task
from django.utils.module_loading import import_string

from metrics.returns.tasks import check_upload_task, commit_upload_task


def test_tasks_queued_under_their_old_paths_still_resolve():
    assert import_string("metrics.tasks.check_upload_task") is check_upload_task
    assert import_string("metrics.tasks.commit_upload_task") is commit_upload_task
    assert isinstance(check_upload_task, Task)


def test_new_work_is_queued_under_the_returns_path():
    assert check_upload_task.module_path == "metrics.returns.tasks.check_upload_task"
    assert commit_upload_task.module_path == "metrics.returns.tasks.commit_upload_task"
