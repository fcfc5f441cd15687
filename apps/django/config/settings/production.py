"""Deployed settings (DJANGO_SETTINGS_MODULE=config.settings.production): base plus hardening."""

from __future__ import annotations

from . import env
from .base import *  # noqa: F403 - settings modules are flat by design
from .base import DEBUG, ENVIRONMENT, SECRET_KEY, SENTRY_DSN, APP_NAME, APP_VERSION, CORS_ORIGINS

if ENVIRONMENT in ("staging", "production"):
    if DEBUG:
        env.problem(f"DEBUG: must be false when ENVIRONMENT={ENVIRONMENT}")
    if SECRET_KEY and len(SECRET_KEY) < 50:
        env.problem("SECRET_KEY: must be at least 50 characters outside development")
    if "*" in CORS_ORIGINS:
        env.problem("CORS_ORIGINS: '*' is not allowed outside development")

# TLS ends at the Ingress; trust its X-Forwarded-Proto so Django knows requests were HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS is left to the Ingress (which knows whether every host under it is HTTPS-only), and
# redirects to HTTPS likewise: probes speak plain HTTP to the pod.
SECURE_SSL_REDIRECT = False

env.check()

if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        release=f"{APP_NAME}@{APP_VERSION}",
        # No user identity and no request bodies in error reports; other data is collected with
        # the SDK's sensitive-value scrubbing.
        data_collection={"user_info": False, "http_bodies": []},
        traces_sample_rate=0.0,
    )
