"""SiteCloud.guard: what a failed cloud call becomes for the caller.

An unreachable service is a 503 to retry later; a service the site's
catalog does not have is a 412 that names what to check (retrying cannot
help), never a 503 or a 500.
"""
import types

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
import pytest
import requests

from protector.api import errors
from protector.cloud import connection
from protector import exception

SITE = {"id": "s1", "name": "site-b", "auth_url": "http://127.0.0.1:1/v3"}


def _raise_in_guard(exc, service="compute"):
    # guard reads only the site (no session, no configuration needed).
    cloud = types.SimpleNamespace(site=SITE)
    with connection.SiteCloud.guard(cloud, service):
        raise exc


@pytest.mark.parametrize("exc", [
    ks_exc.EndpointNotFound("no compute endpoint in RegionTwo"),
    sdk_exc.ServiceDisabledException("compute is disabled"),
])
def test_a_service_missing_from_the_catalog_is_412(exc):
    with pytest.raises(exception.SiteServiceMissing) as err:
        _raise_in_guard(exc)
    assert err.value.code == "protector.site.service_missing"
    assert errors.KIND_STATUS[err.value.kind] == 412
    assert "site-b" in err.value.message and "compute" in err.value.message


def test_an_unreachable_service_is_503():
    with pytest.raises(exception.SiteUnreachable) as err:
        _raise_in_guard(ks_exc.ConnectFailure("refused"))
    assert errors.KIND_STATUS[err.value.kind] == 503


def test_a_5xx_of_the_service_is_503():
    with pytest.raises(exception.CloudServiceError) as err:
        response = requests.Response()
        response.status_code = 500
        _raise_in_guard(sdk_exc.HttpException("boom", response=response))
    assert errors.KIND_STATUS[err.value.kind] == 503
