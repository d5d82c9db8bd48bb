"""Microversions: ``OpenStack-API-Version: protector X.Y``.

1.1 is the minimum (and what a request without the header gets); the last of
``VERSIONS`` is the current version. A malformed value is 400, one outside
the range is 406.
History (keep in step with doc/api-ref.md):

* 1.1 - initial API.
* 1.2 - sites show ``status_reason`` and ``last_checked_at``; operations
  show per-step detail.
* 1.3 - ``POST /sites`` takes an optional ``id``, so both sites can hold a
  site under one ID (``site create --secondary-cloud``).
* 1.4 - boot tiers: members have a ``priority`` (1-5, default 3; taken by
  member add, changed by the new ``PUT .../members/{id}``), groups a
  ``tier_delay`` (0-3600 seconds; create and update), and operations show
  ``tiers`` (per-tier and per-VM timings of the recreate step). Below 1.4
  these fields are neither shown nor accepted (400 naming 1.4).
* 1.5 - the list of protection groups shows each group's RPO state as
  protector-engine's periodic check (``[engine] rpo_check_interval``) or
  the latest show found it: ``rpo_status``, ``rpo_detail``,
  ``replication_lag_seconds`` and ``rpo_checked_at`` (show adds
  ``rpo_checked_at``). Below 1.5 these fields are not in the list.
* 1.6 - the list of protection groups pages: ``limit`` (1 to ``[api]
  max_limit``, its default) and ``marker`` (the ID of the last group of
  the previous page), and ``protection_groups_links`` with a ``next``
  link when the page is full. Below 1.6 both are ignored and the list
  stops at ``max_limit`` groups.
"""
import re

import microversion_parse

from protector import exception
from protector import version

# The version vocabulary is below every layer (the cloud probe uses it).
SERVICE_TYPE = version.SERVICE_TYPE
Version = version.Version
HEADER = "OpenStack-API-Version"
ENV_KEY = "protector.microversion"

VERSIONS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
MIN_VERSION_STRING = VERSIONS[0]
MAX_VERSION_STRING = VERSIONS[-1]

_NAMED_RE = re.compile(r"(^|,)\s*%s(\s|,|$)" % SERVICE_TYPE, re.IGNORECASE)

MIN_VERSION = Version.parse(MIN_VERSION_STRING)
MAX_VERSION = Version.parse(MAX_VERSION_STRING)


class InvalidVersion(exception.Invalid):
    code = "protector.microversion.invalid"
    msg_fmt = ("Invalid OpenStack-API-Version header '%(value)s': use "
               "'protector X.Y', for example 'protector %(max)s'.")


class UnsupportedVersion(exception.ProtectorException):
    kind = "not_acceptable"  # 406
    code = "protector.microversion.unsupported"
    msg_fmt = ("API version %(version)s is not supported: this server "
               "supports protector %(min)s to %(max)s.")


def extract_version(headers):
    """Return the requested Version; raise on malformed or unsupported."""
    try:
        text = microversion_parse.get_version(
            headers, service_type=SERVICE_TYPE)
    except ValueError as exc:
        raise InvalidVersion(value=str(exc), max=MAX_VERSION_STRING)
    if text is None:
        # microversion_parse ignores "protector" with no version; that is a
        # malformed request for this service, not an absent header.
        raw = next((v for k, v in headers.items()
                    if k.lower() == HEADER.lower()), "")
        if _NAMED_RE.search(raw):
            raise InvalidVersion(value=raw, max=MAX_VERSION_STRING)
        return MIN_VERSION
    if text.strip() == "latest":
        return MAX_VERSION
    try:
        version = Version.parse(text)
    except ValueError:
        raise InvalidVersion(value=text, max=MAX_VERSION_STRING)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise UnsupportedVersion(version=text, min=MIN_VERSION_STRING,
                                 max=MAX_VERSION_STRING)
    return version


def header_value(version):
    return "%s %s" % (SERVICE_TYPE, version)
