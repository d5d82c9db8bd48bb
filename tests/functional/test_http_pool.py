"""Site calls share one HTTP connection pool per process.

A keystoneauth Session made per call opened its own connection pool, and
the idle keep-alive connections lingered until garbage collection: in the
lab, protector-api held ~70 idle connections to one cinder-api, whose
eventlet server (100 green threads) then stopped accepting new ones.
"""
import http.server
import threading

from oslo_config import cfg
import pytest

from protector.cloud import auth
from protector.common import config


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def server():
    peers = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like cinder-api

        def do_GET(self):
            peers.add(self.client_address)
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
    yield "http://127.0.0.1:%d/" % srv.server_address[1], peers
    srv.shutdown()
    srv.server_close()


def test_many_sessions_reuse_a_few_connections(server):
    config.register_all(cfg.CONF)
    url, peers = server
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
