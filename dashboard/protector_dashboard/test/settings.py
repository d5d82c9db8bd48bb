"""Django settings of the dashboard's unit tests: Horizon's test
settings, with this plugin's enabled files and policy files added."""
import os

from horizon.test.settings import *  # noqa: F401,F403
from openstack_dashboard.test.settings import *  # noqa: F401,F403

import openstack_dashboard.enabled
from openstack_dashboard.utils import settings as settings_utils

from protector_dashboard import enabled

# Filled again by update_dashboards below.
HORIZON_CONFIG.pop("dashboards", None)  # noqa: F405
HORIZON_CONFIG.pop("default_dashboard", None)  # noqa: F405

settings_utils.update_dashboards(
    [enabled, openstack_dashboard.enabled],
    HORIZON_CONFIG,  # noqa: F405
    INSTALLED_APPS)  # noqa: F405
# Horizon's test settings list its own dashboards' apps already.
# (test_enabled.py checks that the plugin adds its app once.)
INSTALLED_APPS = list(dict.fromkeys(INSTALLED_APPS))  # noqa: F405

# The files the local_settings.d snippet points at, so the policy test
# reads what operators get.
_CONF = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "conf")
POLICY_FILES = dict(POLICY_FILES,  # noqa: F405
                    protector=os.path.join(_CONF, "protector_policy.yaml"))
DEFAULT_POLICY_FILES = dict(
    DEFAULT_POLICY_FILES,  # noqa: F405
    protector=os.path.join(_CONF, "default_policies", "protector.yaml"))

# django-compressor: each page a test renders compiled Horizon's SCSS and
# hashed its scripts (a third of these tests' time); the tests read the
# page's content, not its assets, which the browser tests serve for real.
COMPRESS_ENABLED = False
COMPRESS_PRECOMPILERS = ()
