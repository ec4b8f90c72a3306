"""Gunicorn settings: gunicorn -c gunicorn.conf.py 'symptomcheck:create_app()'."""

import os

bind = os.environ.get("SYMPTOMCHECK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SYMPTOMCHECK_WORKERS", "2"))
# Threads, not sync workers: a client that sends its headers a byte at a time holds one thread, not a whole
# worker, so two slow clients no longer stop the site when gunicorn is reached directly (tests/test_slow_clients.py).
worker_class = "gthread"
threads = int(os.environ.get("SYMPTOMCHECK_THREADS", "4"))
timeout = 30
graceful_timeout = 30
# No worker recycling (max_requests): a worker restart loads the app again, which
# costs more than any leak we have seen; restart the service on each release instead.
# Client address, scheme and host come from the proxy through Werkzeug's ProxyFix
# (SYMPTOMCHECK_PROXY_HOPS), not from gunicorn.
forwarded_allow_ips = "127.0.0.1"
accesslog = os.environ.get("SYMPTOMCHECK_ACCESS_LOG", "-")  # a file, or "-" for standard output
# The time, and the path only (%(U)s), never the query string: nothing private belongs in a log line.
# Control characters in the path are escaped (symptomcheck/web/logs.py), so a path cannot forge a line.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
limit_request_line = 4094
limit_request_fields = 50
