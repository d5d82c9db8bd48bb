"""capacity.build_width: the target's compute hosts times Nova's builds
per host, within [engine] max_parallel_instances, counted once per run.

Nova keeps the list of compute services to admins by default, so the
tenant's trust is asked first and Protector's service user after it."""
import contextlib
import types

from openstack import exceptions as sdk_exc
from oslo_config import cfg
import pytest

from protector.common import config
from protector.engine.tasks import capacity
from protector import exception

SITE = {"id": "s1", "name": "site-b"}


def _service(binary="nova-compute", state="up", status="enabled"):
    return types.SimpleNamespace(binary=binary, state=state, status=status)


class _Cloud:
    def __init__(self, answer):
        self.site = SITE
        self.calls = 0
        self.answer = answer
        self.conn = types.SimpleNamespace(
            compute=types.SimpleNamespace(services=self._services))

    def _services(self):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    @contextlib.contextmanager
    def guard(self, service_type):
        yield


FORBIDDEN = sdk_exc.ForbiddenException("Policy doesn't allow "
                                       "os_compute_api:os-services:list")


@pytest.fixture
def conf():
    config.register_all(cfg.CONF)
    yield cfg.CONF
    cfg.CONF.clear_override("max_parallel_instances", group="engine")
    cfg.CONF.clear_override("builds_per_compute_host", group="engine")


def _with_service_user(monkeypatch, answer):
    service = _Cloud(answer)
    monkeypatch.setattr(capacity, "service_cloud", lambda cloud: service)
    return service


def test_counts_up_and_enabled_compute_services(conf, monkeypatch):
    _with_service_user(monkeypatch, AssertionError("not needed"))
    cloud = _Cloud([_service() for _ in range(7)] + [
        _service(state="down"), _service(status="disabled"),
        _service(binary="nova-conductor")])
    assert capacity.compute_hosts(cloud) == 7
    assert capacity.build_width({}, cloud) == 70


def test_the_service_user_counts_where_the_trust_may_not(conf, monkeypatch):
    service = _with_service_user(monkeypatch, [_service()] * 3)
    cloud = _Cloud(FORBIDDEN)
    assert capacity.build_width({}, cloud) == 30
    assert (cloud.calls, service.calls) == (1, 1)


def test_neither_may_list_them_builds_one_hosts_worth(conf, monkeypatch):
    _with_service_user(monkeypatch, FORBIDDEN)
    assert capacity.compute_hosts(_Cloud(FORBIDDEN)) is None
    assert capacity.build_width({}, _Cloud(FORBIDDEN)) == 10
    conf.set_override("builds_per_compute_host", 4, group="engine")
    assert capacity.build_width({}, _Cloud(FORBIDDEN)) == 4


def test_a_failing_listing_does_not_fail_the_step(conf, monkeypatch):
    _with_service_user(monkeypatch, AssertionError("not asked"))
    for error in (sdk_exc.HttpException("500"),
                  exception.SiteUnreachable(site="site-b",
                                            reason="nova down")):
        assert capacity.build_width({}, _Cloud(error)) == 10


def test_no_compute_host_up_still_builds(conf, monkeypatch):
    # The builds will fail and say why; a width of 0 would hang.
    assert capacity.build_width({}, _Cloud([_service(state="down")])) == 10


def test_bounded_by_max_parallel_instances(conf):
    cloud = _Cloud([_service()] * 50)
    assert capacity.build_width({}, cloud) == 100  # the default bound
    conf.set_override("max_parallel_instances", 32, group="engine")
    assert capacity.build_width({}, cloud) == 32
    conf.set_override("max_parallel_instances", 1, group="engine")
    assert capacity.build_width({}, cloud) == 1


def test_counted_once_per_run(conf):
    cloud = _Cloud([_service()] * 2)
    store = {}
    assert capacity.build_width(store, cloud) == 20
    cloud.answer = [_service()] * 5
    assert capacity.build_width(store, cloud) == 20
    assert cloud.calls == 1
    assert capacity.build_width({}, cloud) == 50  # a new run counts again


def test_one_service_cloud_per_site_and_process(conf, monkeypatch):
    """Its token is validated once by each service, not once per call."""
    from protector.cloud import auth
    from protector.cloud import connection
    made = []

    class _SiteCloud:
        def __init__(self, site, plugin):
            made.append(site["id"])
            self.site = site
    monkeypatch.setattr(capacity, "_SERVICE_CLOUDS", {})
    monkeypatch.setattr(connection, "SiteCloud", _SiteCloud)
    monkeypatch.setattr(auth, "service_plugin", lambda site: object())
    b = types.SimpleNamespace(site={"id": "s1", "auth_url": "http://b/v3"})
    a = types.SimpleNamespace(site={"id": "s2", "auth_url": "http://a/v3"})
    first = capacity.service_cloud(b)
    assert capacity.service_cloud(b) is first
    assert capacity.service_cloud(a) is not first
    assert made == ["s1", "s2"]
    # A forked process (an API worker) makes its own.
    monkeypatch.setattr(capacity.os, "getpid", lambda: -1)
    assert capacity.service_cloud(b) is not first
    assert made == ["s1", "s2", "s1"]
