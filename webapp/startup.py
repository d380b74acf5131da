"""What a server process does once, when it starts (webapp/asgi.py calls :func:`server_started`).

* Where static files are served from a manifest (production, class mode), they must have been collected:
  every file the finders know must be in the manifest ``collectstatic`` wrote.
  Otherwise the start fails here, loudly, instead of serving pages that
  answer 500 behind a green ``/healthz``.
* The simulation workers are started, so the first fresh run does not wait for them.
* Everything loaded so far lives as long as the process: ``gc.freeze()`` moves it
  out of the collector's sight, so a full collection no longer walks every
  module, function and template (a pause of 100-200 ms that every stream showed).
"""

from __future__ import annotations

import gc
import json
import logging

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.utils.functional import empty
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

MANIFEST = "staticfiles.json"
_IGNORED = ["CVS", ".*", "*~"]  # what collectstatic leaves out by default


def server_started(*, warm_pool: bool = True) -> None:
    if needs_collected_static():
        require_collected_static()
    if warm_pool:
        from webapp.lab.service import pool

        pool().start()  # in the pool's own thread; /healthz says "starting" until one is ready
    gc.collect()
    gc.freeze()


def needs_collected_static() -> bool:
    """Production and class mode serve hashed names from the manifest that collectstatic writes."""
    storage = staticfiles_storage._wrapped if staticfiles_storage._wrapped is not empty else None
    if storage is None:
        staticfiles_storage._setup()
        storage = staticfiles_storage._wrapped
    return isinstance(storage, ManifestFilesMixin)


def require_collected_static() -> None:
    """ImproperlyConfigured naming what is missing unless ``collectstatic`` has run for this code."""
    root = settings.STATIC_ROOT
    fix = f"run `python manage.py collectstatic --noinput` (STATIC_ROOT={root})"
    try:
        manifest = json.loads((root / MANIFEST).read_text())["paths"]
    except FileNotFoundError:
        raise ImproperlyConfigured(f"The static files were never collected: {fix}.") from None
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"The static files manifest is unreadable ({exc}): {fix}.") from None
    known = {_static_name(path, storage) for finder in finders.get_finders()
             for path, storage in finder.list(_IGNORED)}
    missing = sorted(path for path in known if path not in manifest or not (root / manifest[path]).exists())
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise ImproperlyConfigured(f"{len(missing)} static files are not collected ({shown}): {fix}.")


def _static_name(path: str, storage) -> str:
    prefix = getattr(storage, "prefix", None)  # ("plotly", dir) in STATICFILES_DIRS
    return f"{prefix}/{path}" if prefix else path
