"""A stand-in peer protector-api that accepts every push.

For single-server fixtures whose groups name a second site: a policy PUT
(like every protection-group modification) is pushed to the peer and fails
without one (doc/architecture.md, 3). The server is told which site it is
(``[DEFAULT] site_name``) and the other site's ``protector_url`` points
here. ``pushes`` records (method, path, body) of every request.
"""
import http.server
import json
import threading


class StubPeer:
    def __init__(self):
        pushes = self.pushes = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                pushes.append((self.command, self.path, body))
                data = json.dumps({"metadata": {"status": "stored"}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data.encode())

            do_PUT = do_POST = do_DELETE = _answer

            def do_GET(self):
                # A read (the preflight asking the peer for the group):
                # answered, not recorded as a push.
                data = b'{"protection_group": {}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def versions(low, high):
    """A Protector versions document (api/handlers/root.py) of ``low`` to
    ``high``."""
    return {"versions": [{"id": "v1.0", "status": "CURRENT",
                          "min_version": low, "max_version": high}]}


class DocServer:
    """Answers every GET with ``body`` (JSON); ``gets`` counts them. For
    the health and site checks that read a peer's versions document."""

    def __init__(self, body):
        server = self
        self.gets = 0
        data = json.dumps(body).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.gets += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
