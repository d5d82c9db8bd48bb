"""SiteCloud.warm: one first request per service, before a fan-out.

A service validates a new token with Keystone at its first request and
caches it only once validated, so threads that start together on a new
session would make it validate the same token once each. ``warm`` makes
that first request once, on the calling thread; other threads asking at
the same time wait for it, and a refusal does not stop the step.
"""
import threading
import time

from openstack import exceptions as sdk_exc
import pytest

from protector.cloud import connection
from protector import exception

SITE = {"id": "s1", "name": "site-b", "auth_url": "http://127.0.0.1:1/v3"}


class _Proxy:
    def __init__(self, conn, service, answer=None):
        self.conn, self.service, self.answer = conn, service, answer

    def _first_page(self, **query):
        with self.conn.lock:
            self.conn.calls.append((self.service, query))
        time.sleep(self.conn.delay)
        if isinstance(self.answer, Exception):
            raise self.answer
        # A generator, as the SDK's lists: only the first item is taken.
        yield "first"
        raise AssertionError("warm read past the first page")

    volumes = servers = networks = images = _first_page


class _Conn:
    def __init__(self, delay=0.0, answers=None):
        self.lock = threading.Lock()
        self.calls = []
        self.delay = delay
        answers = answers or {}
        for attr, service in (("block_storage", "block-storage"),
                              ("compute", "compute"),
                              ("network", "network"), ("image", "image")):
            setattr(self, attr, _Proxy(self, service, answers.get(service)))


def _cloud(conn):
    cloud = connection.SiteCloud.__new__(connection.SiteCloud)
    cloud.site, cloud.conn = SITE, conn
    cloud._warm_lock = threading.Lock()
    return cloud


def test_one_first_request_per_service():
    conn = _Conn()
    cloud = _cloud(conn)
    cloud.warm("compute", "block-storage")
    cloud.warm("compute", "network")
    assert conn.calls == [
        ("compute", {"details": False, "limit": 1}),
        ("block-storage", {"details": False, "limit": 1}),
        ("network", {"limit": 1})]


def test_threads_wait_for_the_one_first_request():
    conn = _Conn(delay=0.2)
    cloud = _cloud(conn)
    done = []

    def worker():
        cloud.warm("block-storage")
        # Past warm only once the first request has been answered.
        done.append(len(conn.calls))
    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(conn.calls) == 1
    assert done == [1] * 10


@pytest.mark.parametrize("answer", [
    sdk_exc.ForbiddenException("policy does not allow"),
    sdk_exc.HttpException("internal error", http_status=500),
])
def test_a_refused_or_failed_first_request_does_not_stop_the_step(answer):
    conn = _Conn(answers={"compute": answer})
    cloud = _cloud(conn)
    cloud.warm("compute")
    cloud.warm("compute")
    assert len(conn.calls) == 1


def test_an_unreachable_service_says_so():
    from keystoneauth1 import exceptions as ks_exc
    conn = _Conn(answers={"network": ks_exc.ConnectFailure("refused")})
    with pytest.raises(exception.SiteUnreachable):
        _cloud(conn).warm("network")
