"""Gunicorn settings for `make serve`, read from the environment.

GUNICORN_BIND     address to listen on (default 127.0.0.1:8000: a proxy in front does TLS)
GUNICORN_WORKERS  worker processes (default 2 x cores + 1, at most 12)
GUNICORN_THREADS  threads per worker (default 1: the formula sandbox forks, plain processes are simplest)
GUNICORN_TIMEOUT  seconds a silent worker may take before it is restarted (default 30)
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_workers() -> int:
    """2 x cores + 1 (gunicorn's advice for sync workers), capped so a big host does not exhaust the database's connections."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cores + 1, 12)


wsgi_app = "backprop_site.wsgi:application"
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
        if address.strip()]
workers = _int("GUNICORN_WORKERS", default_workers())
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak can never take the site down at once.
max_requests = 2000
max_requests_jitter = 200
# The app is imported once, in the master, and each worker is forked from it: a recycled or
# replaced worker starts in milliseconds instead of re-importing Django, numpy and matplotlib
# (about a second of CPU each, taken from the requests around it, at a deadline too), and the
# workers share the imported code's memory. Nothing opens a database connection or a thread at
# import. A code change needs a restart of the service (not a HUP), as deployments do anyway.
preload_app = True
# Bodies are bounded in Django (DATA_UPLOAD_MAX_MEMORY_SIZE); these bound the request line and headers.
limit_request_line = 8190
limit_request_fields = 100
# Logs to stdout/stderr: the service manager (systemd, a container) collects them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The heartbeat file lives in memory where there is /dev/shm: a slow disk must not look like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Several gunicorns on one host (app servers, tests, a load test) must not share one control socket.
control_socket_disable = True
proc_name = "backprop-grader"
