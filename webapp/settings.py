"""Settings for LLM Ops Lab.

Everything that differs between a laptop and a classroom server comes from the
environment.  The helpers below fail loudly on a value they cannot read, so a
typo in an env var stops the start-up instead of being silently ignored.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import math
import os
import secrets
from pathlib import Path

import dj_database_url
import plotly
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from simulations.clock import DEFAULT_WALL_LIMIT_S
from simulations.redis_server import client_options, ensure_redis_url
from webapp.netaddr import local_hosts

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a finite number of at least {minimum:g}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_networks(name: str, default: str) -> list[str]:
    """A comma-separated list of addresses or networks (CIDR), each checked."""
    networks = env_list(name, default)
    for item in networks:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network") from None
    return networks


VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

# Class mode: one laptop serves a classroom over its local network, in plain HTTP
# (`make run HOST=0.0.0.0` turns it on).  Not debug; its secret key is kept under
# var/; the laptop's own addresses are its host names.
CLASS_MODE = env_bool("CLASS_MODE", False)

# A laptop run is in debug mode by default; a classroom server sets DJANGO_DEBUG=false
# and must then give a real secret key and its host names.
DEBUG = env_bool("DJANGO_DEBUG", not CLASS_MODE)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if CLASS_MODE:
        key_file = VAR_DIR / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        SECRET_KEY = key_file.read_text().strip()
    elif not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=false")
    else:
        SECRET_KEY = "insecure-key-for-local-development-only"
_LOOPBACK_HOSTS = "127.0.0.1,localhost,[::1]"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _LOOPBACK_HOSTS if DEBUG else "")
if CLASS_MODE:
    ALLOWED_HOSTS = list(dict.fromkeys([*ALLOWED_HOSTS, *_LOOPBACK_HOSTS.split(","), *local_hosts()]))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# One Redis serves the result cache, the channel layer and the simulations.  Without
# REDIS_URL an embedded redis-server is started under var/ and stops with this process.
REDIS_URL = ensure_redis_url(VAR_DIR)

INSTALLED_APPS = [
    "daphne",  # first, so its runserver serves ASGI and WebSockets
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, found through TEMPLATES below
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "webapp.lessons",
    "webapp.lab",
    "webapp.mockllm",
    "webapp.classroom",
]

MIDDLEWARE = [
    "webapp.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    }
]

# Widgets render through TEMPLATES, so the project's slider widget template is found.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several daphne processes write to one SQLite file in a class: wait for the
    # lock rather than fail, take it at the start of a transaction, and let
    # readers work while one process writes (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "llmopslab",
        "OPTIONS": client_options(0.5),  # a dead or hung Redis costs a caller half a second, once
    }
}

# A learner is a browser session (the database keeps it), so rate limits count per learner.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # A class of a few hundred sockets joins and leaves at once: redis-py's asyncio
        # pool refuses (rather than waits) past its default of 100 connections.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "max_connections": 1000}], "prefix": "llmopslab:channels"},
    },
    # Classrooms broadcast one state to hundreds of sockets: over Redis pub/sub each
    # process receives a broadcast once and hands it to its own sockets, instead of
    # popping one message per socket from Redis.  A missed message costs nothing:
    # clients resync from the database.
    "classroom": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "llmopslab:classroom"},
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic for production
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js as shipped inside the plotly package: no CDN, so a classroom
    # without internet still draws charts.
    ("plotly", Path(plotly.__file__).parent / "package_data"),
]
# In debug the files are served straight from the finders; in production (and class
# mode) from STATIC_ROOT, filled by `collectstatic`: hashed names cached for a year,
# and gzip copies, so a class's first visits move plotly.js compressed (about a third).
# A start without collectstatic fails (webapp/startup.py).
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Instructors log in; students join a classroom with a code and stay anonymous.
LOGIN_URL = "classroom:login"
LOGIN_REDIRECT_URL = "classroom:rooms"
LOGOUT_REDIRECT_URL = "lessons:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Attempts per client address: a whole class may share one school address, so
# joining allows a class-sized burst; wrong codes and logins are held tighter.
CLASSROOM_JOINS_PER_MINUTE = env_int("CLASSROOM_JOINS_PER_MINUTE", 300, minimum=1)
CLASSROOM_WRONG_CODES_PER_10_MIN = env_int("CLASSROOM_WRONG_CODES_PER_10_MIN", 60, minimum=1)
CLASSROOM_LOGINS_PER_10_MIN = env_int("CLASSROOM_LOGINS_PER_10_MIN", 20, minimum=1)

# Simulations: real seconds one run may take, and how long results stay cached.
SIMULATION_WALL_LIMIT_S = float(env_int("SIMULATION_WALL_LIMIT_S", int(DEFAULT_WALL_LIMIT_S), minimum=1))
RESULT_CACHE_TTL_S = env_int("RESULT_CACHE_TTL_S", 24 * 3600, minimum=0)
# Fresh runs happen in worker processes, one per core by default (0: in the server's
# own threads, for debugging).  More requests wait only while the runs ahead of them
# should finish within SIMULATION_QUEUE_WAIT_S, and never more than SIMULATION_QUEUE;
# past that the answer is 503 "busy" with Retry-After.
SIMULATION_WORKERS = env_int("SIMULATION_WORKERS", os.cpu_count() or 1)
SIMULATION_QUEUE = env_int("SIMULATION_QUEUE", 64)
SIMULATION_QUEUE_WAIT_S = env_float("SIMULATION_QUEUE_WAIT_S", 1.0)

# Per-learner rate limits on the simulation endpoints (token buckets in Redis): a
# session may re-run CLIENT_RATE_PER_S times a second on average, in bursts of
# CLIENT_BURST; requests without a session share their address's allowance, sized
# for a class behind one NAT.  0 turns a limit off.
CLIENT_RATE_PER_S = env_float("CLIENT_RATE_PER_S", 2.0)
CLIENT_BURST = env_int("CLIENT_BURST", 30)
ADDRESS_RATE_PER_S = env_float("ADDRESS_RATE_PER_S", 40.0)
ADDRESS_BURST = env_int("ADDRESS_BURST", 400)

# /metrics: open in debug; otherwise only for this bearer token or these addresses.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS", "127.0.0.1,::1" if CLASS_MODE else "")

# A provider-style rate limit on the mock endpoint, shared by every process through
# Redis, for demonstrating 429s to a class.  0 means no limit.
MOCK_LLM_REQUESTS_PER_MINUTE = env_int("MOCK_LLM_REQUESTS_PER_MINUTE", 0)

# An OpenAI-compatible endpoint for instructors who want live models.  Empty means
# the app's own mock endpoint at /mock/v1 is used.
LIVE_LLM_BASE_URL = env_str("LIVE_LLM_BASE_URL", "")
LIVE_LLM_API_KEY = env_str("LIVE_LLM_API_KEY", "")

# No inline script, no eval; styles only from our files, plus the <style> elements
# plotly.js fills through the CSS object model, which carry the page's nonce.  Style
# attributes: only the few exact values plotly.js sets on rich chart text (<b>, <sup>...),
# by hash ('unsafe-hashes' admits those values and nothing else).
PLOTLY_TEXT_STYLES = ("", "font-size:70%", "text-decoration:line-through", "text-decoration:underline",
                      "font-weight:bold", "font-style:italic", "cursor:pointer",
                      "font-style:italic;font-weight:bold")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": ["'unsafe-hashes'", *(
            "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"
            for value in PLOTLY_TEXT_STYLES)],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

if not DEBUG and not CLASS_MODE:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Behind a TLS-terminating reverse proxy, which says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz answers probes over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
