"""Agency data returns: collection rounds, entering and uploading values, validation, approval.

``services`` (rounds and state changes) · ``values`` (the grid's values, drafts) · ``uploads`` (upload,
preview, confirm) · ``selectors`` (tracker, a return's page) · ``validation`` · ``notifications`` ·
``tasks`` · ``views``.

Every state change has one shape: check permission → one transaction (lock the return) → check the
transition is legal (``RETURN_TRANSITIONS``) → save → audit event → side effects (e-mail) after commit.
Values reach approved data (``Observation``) only when a performance manager approves, through the same
write as the import core: a changed value is a revision with the old value kept in the audit trail.
"""
