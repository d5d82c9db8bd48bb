"""Test-wide settings.

When ``PROTECTOR_REQUIRE_SERVICES=1`` (``.ci/run`` sets it), tests that need
MariaDB or RabbitMQ fail instead of skipping when the server is missing, so
CI can never pass with them silently skipped.
"""
import os

import pytest


def require_or_skip(reason):
    if os.environ.get("PROTECTOR_REQUIRE_SERVICES") == "1":
        pytest.fail("required service missing: %s" % reason)
    pytest.skip(reason)
