"""/healthz: is the database reachable, is Redis reachable, can simulations run?  Says which is not.

Redis is asked through the breaker: while it is open the answer comes at once
("down"), and one request per second probes it, so a hung Redis never makes the
probe itself hang, and /healthz turns green within about a second of its return.
"simulations" is "starting" until the first worker process can take a run, so a
server is not sent learners before it can answer them.
"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from webapp.lab.service import pool
from webapp.redis_conn import guarded


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "down"; the text says why
        return f"down: {exc.__class__.__name__}: {exc}"


def _redis_ok() -> str:
    try:
        guarded(lambda client: client.ping())
        return "ok"
    except Exception as exc:
        return f"down: {exc.__class__.__name__}: {exc}"


def _simulations_ok() -> str:
    runs = pool()
    runs.start()
    return "ok" if runs.ready() else "starting"


@never_cache
@require_safe
def healthz(request):
    checks = {"database": _database_ok(), "redis": _redis_ok(), "simulations": _simulations_ok()}
    healthy = all(v == "ok" for v in checks.values())
    status = "ok" if healthy else "starting" if checks["simulations"] == "starting" and \
        checks["database"] == checks["redis"] == "ok" else "down"
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)
