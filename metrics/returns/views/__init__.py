"""Pages for data returns. Thin: permissions through accounts.access, work in the returns services.

``tracker`` (the tracker, opening a round) · ``returns`` (a return's page and grid, its template file,
its state changes) · ``uploads`` (upload, preview, confirm, progress) · ``audit`` (the audit trail).
"""
