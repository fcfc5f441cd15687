"""WSGI entry point for gunicorn (config.wsgi:application)."""

import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django.setup(set_prefix=False)

from config.tracing import init_tracing  # noqa: E402 - needs configured settings

# Instrumentation adds its middleware, so it must run before the handler is built.
init_tracing()
application = get_wsgi_application()
