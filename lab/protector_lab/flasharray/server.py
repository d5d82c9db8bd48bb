"""HTTPS front end: one listening port per simulated array.

``ArrayService.dispatch`` is the transport-free core (version discovery,
login/sessions, auth, fault knobs, routing, envelope, errors); the
``ArrayServer`` puts it behind a threaded stdlib HTTPS server on
127.0.0.1. Every exchange is reported to ``fabric.observers`` so tests can
validate each reply against the OpenAPI spec.
"""
import json
import logging
import re
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import control
from .query import ApiError, Query, envelope
from .routes import ROUTES, Request, load_all

LOG = logging.getLogger(__name__)
_VERSIONED = re.compile(r"^/api/(\d+\.\d+)(/.*)$")


class Exchange:
    """One request/response pair, as handed to observers."""

    def __init__(self, array, method, path, query, req_headers, req_body,
                 status, headers, body):
        self.array, self.method = array, method
        self.path, self.query = path, query
        self.request_headers, self.request_body = req_headers, req_body
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body) if self.body else None


def _error(status, message, context=None):
    return status, {}, ApiError(status, message, context).body()


class ArrayService:
    def __init__(self, sim, array):
        self.sim = sim
        self.fabric = sim.fabric
        self.array = array
        load_all()

    def dispatch(self, method, raw_path, headers, raw_body):
        """Answer one request: (status, headers, json-able body | None).

        Returns None when the array is down in 'refuse' mode: the caller
        drops the connection without answering.
        """
        split = urllib.parse.urlsplit(raw_path)
        path, query = split.path, Query(split.query)
        arr = self.array
        if path.startswith("/_sim/"):
            return control.handle(self.sim, method, path, query, raw_body)
        if arr.down == "refuse":
            return None
        if arr.down == "503":
            st, _h, body = _error(503, f"Array '{arr.name}' is unavailable.")
            return st, {"Retry-After": "0"}, body
        if path == "/api/api_version":
            if method != "GET":
                return _error(405, "Method not allowed.")
            return 200, {}, {"version": list(arr.api_versions)}
        m = _VERSIONED.match(path)
        if not m or m.group(1) not in arr.api_versions:
            return _error(404, f"Unknown API path '{path}'.")
        rest = m.group(2)
        if rest == "/login" and method == "POST":
            return self._login(headers)
        if rest == "/logout" and method == "POST":
            arr.sessions.discard(headers.get("x-auth-token"))
            return 200, {}, None
        if headers.get("x-auth-token") not in arr.sessions:
            return _error(401, "Invalid or expired session token.")
        if arr.latency:
            time.sleep(arr.latency)
        inj = self.fabric.faults.take_injected(arr, method, rest)
        if inj:
            return _error(inj["status"], inj["message"])
        handler = ROUTES.get((method, rest))
        if handler is None:
            known = any(p == rest for (_m, p) in ROUTES)
            return _error(405 if known else 404,
                          f"{method} {rest} is not supported by the "
                          "FlashArray simulator.")
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return _error(400, "Request body is not valid JSON.")
        try:
            with self.fabric.lock:
                self.fabric.catch_up()
                result = handler(Request(self.fabric, arr, method, rest,
                                         query, body))
                if result is None:
                    return 200, {}, None
                return 200, {}, envelope(result, query,
                                         paginate=(method == "GET"))
        except ApiError as err:
            return err.status, {}, err.body()
        except Exception as exc:  # a crash must still answer, not drop
            LOG.error("simulator bug on %s %s: %s", method, raw_path,
                      traceback.format_exc())
            return _error(500, f"Simulator internal error: {exc!r}")

    def _login(self, headers):
        arr = self.array
        token = headers.get("api-token")
        if not token or token != arr.token:
            return _error(401, "Invalid API token.")
        session = str(uuid.uuid4())
        with self.fabric.lock:
            # Several concurrent sessions per array: Cinder, the
            # orchestrator and tests each log in.
            arr.sessions.add(session)
        return (200, {"x-auth-token": session},
                {"items": [{"username": "pureuser"}]})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PurityFA-sim/2.56"

    def log_message(self, fmt, *args):
        LOG.debug("%s %s", self.server.service.array.name, fmt % args)

    def _handle(self):
        service = self.server.service
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        answer = service.dispatch(self.command, self.path, hdrs, raw)
        if answer is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers, body = answer
        data = b"" if body is None else json.dumps(body).encode()
        # Observers run before the reply is sent, so a test that checks
        # them right after a call never races the handler thread.
        split = urllib.parse.urlsplit(self.path)
        exch = Exchange(service.array.name, self.command, split.path,
                        split.query, hdrs, raw, status, headers, data)
        for cb in list(service.fabric.observers):
            cb(exch)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, service, ssl_ctx):
        self.service = service
        self.ssl_ctx = ssl_ctx
        self.open_conns = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # Headers and body go out in separate writes; without NODELAY,
        # Nagle + delayed ACK add ~40 ms to every keep-alive reply.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is not None:
            # Handshake lazily in the handler thread, not in accept().
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address):
        with self.conn_lock:
            self.open_conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.conn_lock:
            self.open_conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        LOG.debug("connection error from %s", client_address, exc_info=True)

    def cut_all(self):
        with self.conn_lock:
            conns = list(self.open_conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def ssl_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class ListeningServer:
    """A restartable listener (arrays go down and come back on one port)."""

    def __init__(self, service, host, port, ssl_ctx):
        self.service, self.host, self.ssl_ctx = service, host, ssl_ctx
        self.port = port
        self._srv = None
        self._thread = None

    @property
    def running(self):
        return self._srv is not None

    def start(self):
        if self._srv is not None:
            return
        self._srv = _TLSServer((self.host, self.port), self.service,
                               self.ssl_ctx)
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(
            target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fa-sim-{self.port}", daemon=True)
        self._thread.start()

    def stop(self):
        srv, self._srv = self._srv, None
        if srv is None:
            return
        srv.shutdown()
        srv.server_close()
        srv.cut_all()
        self._thread.join(timeout=5)
