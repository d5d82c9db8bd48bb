"""Project -> Disaster Recovery (the panel group of the project panels).

This first file also adds the plugin's Django app and its exceptions,
once for all the ``_6*`` files: Horizon does not merge an app listed in
several enabled files (Django then refuses the duplicate label).
"""
from django.utils.translation import gettext_lazy as _

from protector_dashboard import exceptions

PANEL_GROUP = "disaster_recovery"
PANEL_GROUP_NAME = _("Disaster Recovery")
PANEL_GROUP_DASHBOARD = "project"

ADD_INSTALLED_APPS = ["protector_dashboard"]
ADD_EXCEPTIONS = {
    "not_found": exceptions.NOT_FOUND,
    "recoverable": exceptions.RECOVERABLE,
    "unauthorized": exceptions.UNAUTHORIZED,
}
