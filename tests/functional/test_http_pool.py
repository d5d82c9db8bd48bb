"""Site calls share one HTTP connection pool per process.

A keystoneauth Session made per call opened its own connection pool, and
the idle keep-alive connections lingered until garbage collection: in the
lab, protector-api held ~70 idle connections to one cinder-api, whose
eventlet server (100 green threads) then stopped accepting new ones.
"""
import http.server
import threading
import time

from oslo_config import cfg
import pytest

from protector.cloud import auth
from protector.common import config


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def server():
    peers = set()
    delay = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like cinder-api

        def do_GET(self):
            peers.add(self.client_address)
            if delay:
                time.sleep(delay[0])
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "lb=backend-1; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % srv.server_address[1], peers, delay
    srv.shutdown()
    srv.server_close()


def test_many_sessions_reuse_a_few_connections(server):
    config.register_all(cfg.CONF)
    url, peers, _ = server
    for _ in range(50):
        sess = auth.base_session()
        resp = sess.get(url, authenticated=False)
        assert resp.status_code == 200
    # One connection, reused by every session (sequential calls).
    assert len(peers) == 1, peers
    # No cookie of one caller is sent on behalf of the next.
    assert not list(auth.http_session().cookies)


def test_a_forked_process_gets_its_own_pool(monkeypatch):
    first = auth.http_session()
    assert auth.http_session() is first
    monkeypatch.setattr(auth.os, "getpid", lambda: -1)
    assert auth.http_session() is not first


def test_many_threads_share_at_most_pool_size_connections(server):
    """An engine step runs up to [engine] max_parallel_instances threads
    (100 by default) against one service; beyond POOL_SIZE they wait for
    a connection instead of opening more (an eventlet API server holds a
    green thread per connection)."""
    config.register_all(cfg.CONF)
    url, peers, delay = server
    delay.append(0.2)
    threads = auth.POOL_SIZE * 2
    answers = []

    def call():
        answers.append(auth.base_session().get(
            url, authenticated=False).status_code)
    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert answers == [200] * threads
    assert len(peers) <= auth.POOL_SIZE, len(peers)
