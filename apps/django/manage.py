#!/usr/bin/env python
"""Django's command-line utility (migrate, collectstatic, createsuperuser, ...)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Django's command runner swallows settings errors and fails later with an unrelated
    # traceback; load settings first so a missing variable is reported as such.
    try:
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        sys.exit(f"{exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
