"""Settings for LLM Ops Lab.

Everything that differs between a laptop and a classroom server comes from the
environment.  The helpers below fail loudly on a value they cannot read, so a
typo in an env var stops the start-up instead of being silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import plotly
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from simulations.clock import DEFAULT_WALL_LIMIT_S
from simulations.redis_server import ensure_redis_url

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


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# A laptop run is in debug mode by default; a classroom server sets DJANGO_DEBUG=false
# and must then give a real secret key and its host names.
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=false")
    SECRET_KEY = "insecure-key-for-local-development-only"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

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
    }
}

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
# In debug the files are served straight from the finders; in production from
# STATIC_ROOT, filled by `collectstatic`, with hashed names for long caching.
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

# A provider-style rate limit on the mock endpoint, shared by every process through
# Redis, for demonstrating 429s to a class.  0 means no limit.
MOCK_LLM_REQUESTS_PER_MINUTE = env_int("MOCK_LLM_REQUESTS_PER_MINUTE", 0)

# An OpenAI-compatible endpoint for instructors who want live models.  Empty means
# the app's own mock endpoint at /mock/v1 is used.
LIVE_LLM_BASE_URL = env_str("LIVE_LLM_BASE_URL", "")
LIVE_LLM_API_KEY = env_str("LIVE_LLM_API_KEY", "")

if not DEBUG:
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
