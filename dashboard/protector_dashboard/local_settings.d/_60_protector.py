# Horizon settings snippet of protector-dashboard (doc/dashboard.md).
# Copy it into openstack_dashboard/local/local_settings.d/: Horizon runs
# it inside its settings module, where POLICY_FILES and
# DEFAULT_POLICY_FILES are defined. Absolute paths keep the policy files
# in the installed package (os.path.join drops POLICY_FILES_PATH then).
import os as _os

import protector_dashboard as _protector_dashboard

_PROTECTOR_CONF = _os.path.join(
    _os.path.dirname(_protector_dashboard.__file__), "conf")
POLICY_FILES["protector"] = _os.path.join(  # noqa: F821
    _PROTECTOR_CONF, "protector_policy.yaml")
DEFAULT_POLICY_FILES["protector"] = _os.path.join(  # noqa: F821
    _PROTECTOR_CONF, "default_policies", "protector.yaml")
# Seconds a page waits for protector-api.
# PROTECTOR_API_TIMEOUT = 30
# A peer-site token with less than this many seconds left counts as
# absent (the user signs in to the peer site again).
# PROTECTOR_PEER_TOKEN_MARGIN = 120
# The peer-site sign-in keeps the peer's token in the session: use a
# server-side SESSION_ENGINE (file, db, cache), not signed_cookies.
