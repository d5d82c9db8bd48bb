"""``Simulator``: a fabric of arrays served over HTTPS, in-process.

    from protector_lab.flasharray import Simulator
    with Simulator(["array1", "array2"]) as sim:
        fa = sim.client("array1")            # real py-pure-client
        sim.fabric.faults.link_down("array1", "array2")
        sim.fabric.advance(3600)             # sim clock, runs schedules

Each array gets its own 127.0.0.1 port (ephemeral unless ``ports`` says
otherwise) and API token; a plain-HTTP control port serves ``/_sim/``.
By default every pair of arrays is connected (``sync-replication``, which
also carries async PG replication), as after ``purearray connect``.
"""
import json
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import control
from .certs import make_cert
from .query import Query
from .server import ArrayService, ListeningServer, ssl_context
from .state import Fabric


class _ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _handle(self):
        import urllib.parse
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        if not split.path.startswith("/_sim/"):
            status, body = 404, {"error": "control paths start with /_sim/"}
        else:
            status, _h, body = control.handle(self.server.sim, self.command,
                                              split.path, Query(split.query),
                                              raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle


class Simulator:
    def __init__(self, arrays=("array1", "array2"), host="127.0.0.1",
                 ports=None, tokens=None, control_port=0, cert_dir=None,
                 manual_clock=True, start_ms=None,
                 connect="sync-replication", purity_version="6.7.1"):
        self.host = host
        self.fabric = Fabric(manual_clock=manual_clock, start_ms=start_ms)
        self._ports = dict(ports or {})
        self._control_port = control_port
        self._cert_dir = cert_dir
        self._own_cert_dir = None
        self.cert_path = self.key_path = None
        self.servers = {}
        self._control = None
        tokens = tokens or {}
        for name in arrays:
            self.fabric.add_array(name, tokens.get(name), purity_version)
        if connect:
            names = list(arrays)
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    self.fabric.connect(a, b, connect)
        self.fabric.listeners.append(self._on_array_event)

    # ---- lifecycle
    def start(self):
        if self._cert_dir is None:
            self._own_cert_dir = tempfile.mkdtemp(prefix="fa-sim-cert-")
            self._cert_dir = self._own_cert_dir
        self.cert_path, self.key_path = make_cert(self._cert_dir, self.host)
        ctx = ssl_context(self.cert_path, self.key_path)
        for name, arr in self.fabric.arrays.items():
            srv = ListeningServer(ArrayService(self, arr), self.host,
                                  self._ports.get(name, 0), ctx)
            srv.start()
            arr.management_address = f"{self.host}:{srv.port}"
            self.servers[name] = srv
        if self._control_port is not None:
            self._control = ThreadingHTTPServer(
                (self.host, self._control_port), _ControlHandler)
            self._control.daemon_threads = True
            self._control.sim = self
            threading.Thread(target=self._control.serve_forever,
                             kwargs={"poll_interval": 0.05},
                             name="fa-sim-control", daemon=True).start()
        return self

    def stop(self):
        for srv in self.servers.values():
            srv.stop()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None
        if self._own_cert_dir:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _on_array_event(self, arr, event):
        srv = self.servers.get(arr.name)
        if srv is None:
            return
        if event == "down" and arr.down == "refuse":
            srv.stop()
        elif event == "up" and not srv.running:
            srv.start()

    # ---- accessors
    def endpoint(self, name):
        """``host:port`` to give py-pure-client as ``target``."""
        return f"{self.host}:{self.servers[name].port}"

    def port(self, name):
        return self.servers[name].port

    def token(self, name):
        return self.fabric.arrays[name].token

    @property
    def control_url(self):
        if self._control is None:
            return None
        return f"http://{self.host}:{self._control.server_address[1]}"

    def client(self, name, **kwargs):
        """A real ``pypureclient.flasharray.Client`` logged in to ``name``."""
        from pypureclient import flasharray
        kwargs.setdefault("user_agent", "protector-flasharray-sim-tests")
        return flasharray.Client(target=self.endpoint(name),
                                 api_token=self.token(name), **kwargs)

    def info(self):
        return {
            "arrays": {n: {"endpoint": self.endpoint(n), "port": self.port(n),
                           "api_token": a.token, "id": a.id,
                           "version": a.version, "down": a.down}
                       for n, a in self.fabric.arrays.items()},
            "links": [{"arrays": list(link.arrays), "type": link.type,
                       "up": link.up,
                       "transfer_seconds": link.transfer_seconds}
                      for link in self.fabric.links.values()],
            "control_url": self.control_url,
            "cert": self.cert_path,
            "clock": {"now": self.fabric.now(),
                      "manual": self.fabric.clock.manual},
        }
