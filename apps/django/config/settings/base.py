"""Settings shared by every environment, read from environment variables and, for the secrets,
from files in SECRETS_DIR (config/settings/env.py)."""

from __future__ import annotations

from pathlib import Path

from . import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Where the pod mounts the Kubernetes Secret; these settings are read from there first.
SECRET_NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "SENTRY_DSN", "API_TOKENS")
SECRETS_DIR = env.read_secret_files(SECRET_NAMES)

ENVIRONMENT = env.choice("ENVIRONMENT", "production", ("development", "test", "staging", "production"))
APP_NAME = env.optional("APP_NAME", "api-stack-django")
APP_VERSION = env.optional("APP_VERSION", "0.0.0")
DEBUG = env.boolean("DEBUG", False)

SECRET_KEY = env.required("SECRET_KEY")
# Previous keys, comma-separated: Django still accepts what they signed (sessions, signed links) and
# signs nothing new with them. Rotation: deploy the new SECRET_KEY with the old one here, wait until
# what the old key signed has expired, then drop it.
SECRET_KEY_FALLBACKS = env.csv("SECRET_KEY_FALLBACKS")
DATABASE_URL = env.required("DATABASE_URL")
REDIS_URL = env.required("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://")):
    env.problem("REDIS_URL: must start with redis:// or rediss://")
SENTRY_DSN = env.optional("SENTRY_DSN")
# The bearer tokens that may use the notes API (core.auth), comma-separated. Several, so a token can
# be rotated without downtime: add the new one, move the clients, remove the old one. Required in
# every environment: without a token nobody could use the API, and no default is safe.
API_TOKENS = env.tokens("API_TOKENS")
# The admin site (/admin/) logs staff users in with a password and a session cookie, outside the
# API tokens: off unless asked for.
DJANGO_ADMIN_ENABLED = env.boolean("DJANGO_ADMIN_ENABLED", False)
OTEL_EXPORTER_OTLP_ENDPOINT = env.optional("OTEL_EXPORTER_OTLP_ENDPOINT")

DB_POOL_SIZE = env.integer("DB_POOL_SIZE", 5, minimum=1, maximum=100)
DB_MAX_OVERFLOW = env.integer("DB_MAX_OVERFLOW", 10, minimum=0, maximum=100)
ACCESS_TOKEN_EXPIRE_MINUTES = env.integer("ACCESS_TOKEN_EXPIRE_MINUTES", 30, minimum=1)
REFRESH_TOKEN_EXPIRE_DAYS = env.integer("REFRESH_TOKEN_EXPIRE_DAYS", 7, minimum=1)

CORS_ORIGINS = env.csv("CORS_ORIGINS")
for _origin in CORS_ORIGINS:
    if _origin != "*" and not _origin.startswith(("http://", "https://")):
        env.problem(f"CORS_ORIGINS: origin {_origin!r} must start with http:// or https://")
# Django checks Origin on unsafe requests against this list too.
CSRF_TRUSTED_ORIGINS = [o for o in CORS_ORIGINS if o != "*"]

# Requests for any other host get 400. The platform lists the Ingress host and the Service's names.
# Probes address the pod IP: health is answered before host validation (core.middleware.
# HealthMiddleware), and /metrics is on its own port outside Django, so neither depends on the list.
ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS") or ["*"]

# The peers whose X-Forwarded-For / X-Forwarded-Proto are believed (gunicorn.conf.py hands the same
# list to gunicorn, which alone decides the scheme); None means any peer.
FORWARDED_ALLOW_IPS = env.networks("FORWARDED_ALLOW_IPS", "127.0.0.1")
# /metrics is served by the gunicorn master on this port, never on the app port.
METRICS_PORT = env.integer("METRICS_PORT", 9000, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core",
    "notes",
]

MIDDLEWARE = [
    "core.middleware.TrustedProxyMiddleware",
    "core.middleware.PrometheusMiddleware",
    "core.middleware.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.auth.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database = env.database_from_url("DATABASE_URL", DATABASE_URL)
if _database:
    _database["OPTIONS"] = {
        # How long a request waits for a new connection, and for one from the pool. Generous on
        # purpose: TCP, TLS and SCRAM on a starved node took over 3 s (the earlier bound), and
        # every request that needed a connection then answered 500, which counts against a
        # release's analysis. A database that refuses fails at once whatever the bound; one that
        # does not answer is found by /health/ready, which has its own bound (core/health.py).
        "connect_timeout": 10,
        # Django's native psycopg pool, one per worker process, shared by its threads.
        "pool": {
            "min_size": 1,
            "max_size": DB_POOL_SIZE + DB_MAX_OVERFLOW,
            "timeout": 10,
            "max_idle": 300,
        },
    }
    # Check each pooled connection before handing it out (one round trip): after a database
    # restart or failover the pool would otherwise serve dead connections, one 500 each.
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 3},
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected at image build time and served by WhiteNoise from the read-only filesystem.
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "DEBUG" if DEBUG else "INFO"},
}
