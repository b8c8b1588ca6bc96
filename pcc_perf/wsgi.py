"""WSGI entry point (gunicorn pcc_perf.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from accounts.heap import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pcc_perf.settings")
application = get_wsgi_application()
settle_heap()  # the app loaded (and, under gunicorn's preload_app, before the workers fork)
