"""The data-file import pipeline (CONTRACT §2), shared by the command line and the web upload.

parse (``parse``: read CSV/XLSX, whole-file checks) → row checks (``checks``: map codes, check each row) →
summary (``summary``) → commit in one transaction, or write nothing (``commit``). ``import_plan`` does
everything but the write, so a page can preview a file; ``import_commit`` writes a plan; ``import_file``
does both.
"""
