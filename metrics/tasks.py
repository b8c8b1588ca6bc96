"""Old dotted paths of the upload tasks, for rows queued before the tasks moved to ``metrics.returns.tasks``.

django.tasks stores a task by its dotted path (``metrics.tasks.check_upload_task``) and the worker imports
that path when it runs the row; new work is queued under the new path. Nothing else imports this module.
"""

from metrics.returns.tasks import check_upload_task, commit_upload_task

__all__ = ["check_upload_task", "commit_upload_task"]
