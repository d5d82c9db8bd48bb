#!/usr/bin/env python
"""Django's manage.py for the dashboard's own tests and development:
``python manage.py test protector_dashboard`` (doc/dashboard.md)."""
import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE",
                          "protector_dashboard.test.settings")
    execute_from_command_line(sys.argv)
