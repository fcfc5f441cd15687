"""Deployed settings (DJANGO_SETTINGS_MODULE=config.settings.production): base plus hardening."""

from __future__ import annotations

from . import env
from .base import *  # noqa: F403 - settings modules are flat by design
from .base import (
    API_TOKENS,
    APP_NAME,
    APP_VERSION,
    CORS_ORIGINS,
    DEBUG,
    ENVIRONMENT,
    SECRET_KEY,
    SECRET_KEY_FALLBACKS,
    SENTRY_DSN,
)

# API tokens are random strings the platform generates; 32 characters leave guessing hopeless.
MIN_API_TOKEN_LENGTH = 32

if ENVIRONMENT in ("staging", "production"):
    if DEBUG:
        env.problem(f"DEBUG: must be false when ENVIRONMENT={ENVIRONMENT}")
    if SECRET_KEY and len(SECRET_KEY) < 50:
        env.problem("SECRET_KEY: must be at least 50 characters outside development")
    if any(len(key) < 50 for key in SECRET_KEY_FALLBACKS):
        env.problem("SECRET_KEY_FALLBACKS: every key must be at least 50 characters outside development")
    if "*" in CORS_ORIGINS:
        env.problem("CORS_ORIGINS: '*' is not allowed outside development")
    for _number, _token in enumerate(API_TOKENS, 1):
        if len(_token) < MIN_API_TOKEN_LENGTH:
            env.problem(
                f"API_TOKENS: token {_number} of {len(API_TOKENS)} is shorter than {MIN_API_TOKEN_LENGTH} "
                "characters, the minimum in staging and production"
            )

# TLS ends at the Ingress. No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from
# any client in the cluster. Gunicorn sets the request's scheme from it only when the peer is in
# FORWARDED_ALLOW_IPS, and Django uses that scheme.
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
