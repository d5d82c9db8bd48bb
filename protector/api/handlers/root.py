"""The versions document at ``/`` (served without authentication)."""
from protector.api import microversion
from protector.api import util


def home(req):
    base = req.application_url.rstrip("/")
    version = {
        "id": "v1.0",
        "status": "CURRENT",
        "min_version": microversion.MIN_VERSION_STRING,
        "max_version": microversion.MAX_VERSION_STRING,
        "links": [{"rel": "self", "href": base + "/v1/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.protector+json;"
                                 "version=1"}],
    }
    return util.json_response(req, {"versions": [version]})
