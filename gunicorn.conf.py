"""gunicorn's configuration for running pcc_perf for real (``make serve``; see README "Running for real").

Every value can be overridden on the command line or with ``GUNICORN_CMD_ARGS``; the ones below also read
the environment variables named.
"""

import os

# Behind a reverse proxy (TLS, public port) on the same host; GUNICORN_BIND=0.0.0.0:8000 to listen wider.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
wsgi_app = "pcc_perf.wsgi:application"

# Workers = cores + 1 (requests are a mix of SQL waits and Python); each with a few threads so a slow
# download or a page waiting on the database does not hold a whole process. Each thread keeps its own
# database connection open (DATABASE_CONN_MAX_AGE), so connections = workers x threads.
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Keep-alive longer than the proxy's idle timeout for upstream connections (nginx's keepalive_timeout is 60 s
# by default; AWS ALB's 60 s): the proxy, not gunicorn, closes an idle connection, so a request is never sent
# down a connection gunicorn has just closed (the connection errors seen with gunicorn's 2 s default).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = 60  # a board pack or a large upload runs in the task worker, not in a request
graceful_timeout = 30

# The app is imported once, before the workers fork (shared memory, fast restarts); no database connection
# is opened at import, so none is shared between workers.
preload_app = True
# Workers are recycled now and then, so memory a long run accumulates is given back.
max_requests = 2000
max_requests_jitter = 200

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
