"""WSGI entry point (gunicorn pcc_perf.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pcc_perf.settings")
application = get_wsgi_application()
