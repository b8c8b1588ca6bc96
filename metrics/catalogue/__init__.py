"""The framework file (CONTRACT §1), read and written in one place.

``schema`` (YAML → typed specs, or ``FrameworkFileError`` with every problem's key path; ``checker`` holds the
per-value checks) → ``load`` (``framework_load``: write it all in one transaction, audited, versioned) ·
``export`` (``framework_export``: the same format back). The ``load_framework`` and ``export_framework``
commands call these.
"""
