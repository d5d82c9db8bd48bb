"""Package version, and the REST API's version vocabulary.

``Version`` and ``PEER_VERSION`` live here, below every layer, because
both the API (``api/microversion.py``, which serves the range) and the
cloud probe (``cloud/probe.py``, which checks a peer's range) use them.
"""
from importlib import metadata
import re

try:
    version_string = metadata.version("protector")
except metadata.PackageNotFoundError:  # a source tree, not installed
    version_string = "0.0.0"

SERVICE_TYPE = "protector"

_VERSION_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class Version(tuple):
    """A microversion ``X.Y``, ordered as a tuple."""

    def __new__(cls, major, minor):
        return super().__new__(cls, (major, minor))

    def __str__(self):
        return "%d.%d" % self

    @classmethod
    def parse(cls, text):
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    def matches(self, low=None, high=None):
        return ((low is None or self >= Version.parse(low)) and
                (high is None or self <= Version.parse(high)))


# What this site calls a peer's protector-api with (pgroups/peers.py): the
# API's minimum, so any peer serves it; a peer whose range leaves it out
# refuses every push (406).
PEER_VERSION = Version(1, 1)
