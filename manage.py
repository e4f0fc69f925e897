#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mall.settings.dev")
    from django.core.management import execute_from_command_line

    from mall.tenancy.scope import all_tenants

    # Management commands are operator tools: they run platform-wide (on PostgreSQL the
    # session setting row-level security reads; migrations' data steps need it too). A
    # server started here (runserver) serves each request in its own tenant's scope.
    with all_tenants():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
