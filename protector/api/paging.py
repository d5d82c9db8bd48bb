"""``limit`` and ``marker`` of a list (microversion 1.6), and its ``next``
link: a project with more groups than ``[api] max_limit`` can list them
all, and a client that pages reads the same page size whatever the
project holds (doc/api-ref.md "Paging").

Keyset paging: the marker is the ID of the last item of the previous
page; the next page starts after it in the list's order, so a group
created or deleted meanwhile neither repeats nor skips another.
"""
from urllib import parse

from oslo_config import cfg

from protector import exception

PAGING_VERSION = "1.6"


def params(req):
    """``(limit, marker)`` of the request: both from 1.6 on, else the
    whole list up to ``[api] max_limit`` as before."""
    most = cfg.CONF.api.max_limit
    if not req.microversion.matches(PAGING_VERSION):
        return most, None
    value = req.GET.get("limit")
    limit = most
    if value is not None:
        try:
            limit = int(value)
        except ValueError:
            raise exception.InvalidLimit(max=most, value=value[:40])
        if not 1 <= limit <= most:
            raise exception.InvalidLimit(max=most, value=value[:40])
    marker = req.GET.get("marker") or None
    return limit, marker


def links(req, rows, limit):
    """``[{"rel": "next", "href": ...}]`` when the page is full (there may
    be more), else ``[]``; 1.6 on only (None below: no links field)."""
    if not req.microversion.matches(PAGING_VERSION):
        return None
    if len(rows) < limit:  # limit >= 1: an empty page ends here too
        return []
    query = [(k, v) for k, v in req.GET.items()
             if k not in ("limit", "marker")]
    query += [("limit", str(limit)), ("marker", rows[-1]["id"])]
    return [{"rel": "next",
             "href": req.path_url + "?" + parse.urlencode(query)}]
