"""gunicorn settings shared by the Dockerfile, docker-compose.yml and bench/load.py (``gunicorn -c`` this file).

    gunicorn -c newsnotes/gunicorn.conf.py newsnotes.wsgi:application --bind 0.0.0.0:8000

What a request costs here is CPU in Python (a workspace page or a span create: ~65 ms, bench/annotate.py) plus
a few milliseconds waiting on PostgreSQL; docs/scaling.md (Serving) has the measurements behind each choice.

- **Processes, not threads, for CPU**: ``workers`` defaults to 2 x cores + 1 (``WEB_CONCURRENCY`` overrides
  it), so both cores stay busy while some workers wait on PostgreSQL. Threads share one GIL: CPU-bound
  requests in one process take turns and each one's latency grows.
- **gthread with 2 threads** per worker: a slow client, a streamed download or a lock wait holds a thread,
  not the worker; and keep-alive works (the sync worker closes every connection), which matters behind
  Caddy and for a browser's htmx requests.
- **preload**: the app is imported once, before the fork; wsgi.py's ``gc.freeze()`` then leaves the shared
  pages alone, and a recycled worker starts in milliseconds. No connection is opened at import (Django
  connects on first query), so no socket is shared between workers.
- **max_requests**: a worker is replaced after ~2,000 requests (jittered, so not all at once): a slow leak in a
  dependency stays bounded.
- **keep-alive 130 s**, longer than the proxy keeps an idle connection (Caddy: 2 minutes), so the proxy, not
  gunicorn, closes an idle one: a server closing it just as the next request goes out loses that request
  (seen in bench/load.py with 5 s: an editor's relabel after a 2-5 s pause, "connection closed"). An idle
  connection costs the gthread worker a socket in its poller, not a thread.
- The control socket is off: its default path is per machine user, so two servers on one host collide.

Each thread holds its own PostgreSQL connection for ``CONN_MAX_AGE`` (60 s, newsnotes/database.py), so a web
process needs up to workers x threads connections; behind PgBouncer these are client connections only.
"""

import os

_cores = len(os.sched_getaffinity(0))  # the cores this process may use (a container's cpuset), not the host's

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cores + 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
keepalive = 130
preload_app = True
max_requests = 2000
max_requests_jitter = 200
timeout = 30
graceful_timeout = 20
control_socket_disable = True
