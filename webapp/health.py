"""/healthz: is the database reachable, is Redis reachable?  Says which is down."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from webapp.redis_conn import redis_client


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "down"; the text says why
        return f"down: {exc.__class__.__name__}: {exc}"


def _redis_ok() -> str:
    try:
        redis_client().ping()
        return "ok"
    except Exception as exc:
        return f"down: {exc.__class__.__name__}: {exc}"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)
