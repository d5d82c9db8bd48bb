"""A stand-in Cinder for the functional tests: its volume-type API only.

Mock Cinder (``use_mock_cinder``) simulates the consistency groups only;
volume types always come from the site's real Cinder. The functional
Keystone has no Cinder, so this serves what a type lookup asks (the
version documents the SDK discovers, ``GET /v3/types`` and ``GET
/v3/types/{id}``) from one catalogue of types per Keystone region.

It is in the catalog under the *internal* interface only: the servers
that use it set ``[cloud] interface = internal`` and register their sites
in ``REGION_A``/``REGION_B``; every other server keeps a Keystone without
Cinder (``gabbits/sites-validate.yaml``, the preflight's "not checked"
rows). The two sites name some replicated types apart, as doc/api-ref.md
allows, and their volume_backend_name differs (as between two real
sites):

========================  ==========================  ==================
site A (REGION_A)         site B (REGION_B)           storage_protocol
========================  ==========================  ==================
replicated-async/-sync,   the same, under the same    -
standard                  IDs
silver-sync               silver-sync (another ID)    NVMe
replicated-ssd (async)    -                           iSCSI
gold-sync                 -                           iSCSI
-                         replicated-ssd-b (async)    iSCSI
-                         replicated-fc-b (async)     FC
========================  ==========================  ==================

So on site B, ``gold-sync`` matches ``replicated-sync`` only (silver-sync
is NVMe), and ``replicated-ssd`` matches both ``replicated-async`` and
``replicated-ssd-b`` (not the FC type).
"""
import http.server
import json
import threading

REGION_A, REGION_B = "RegionOne", "RegionTwo"


def _type(type_id, name, kind=None, **specs):
    if kind:
        specs.update(replication_enabled="<is> True",
                     replication_type="<in> %s" % kind)
    return {"id": type_id, "name": name, "extra_specs": specs}


def _ids(suffix):
    return "5e1f2b4a-0000-4000-8000-%012x" % suffix


# On both sites under the same IDs (what the tests' groups were always
# made with; exported as $MOCK_TYPE_REPLICATED_ASYNC etc.).
COMMON = (("replicated-async", _ids(0xa51c), "async"),
          ("replicated-sync", _ids(0x05ec), "sync"),
          ("standard", _ids(0x057d), None))
SILVER_A, SILVER_B = _ids(0x5171), _ids(0x5172)
SSD_A = _ids(0x55d1)
GOLD_SYNC_A = _ids(0x901d)
SSD_B = _ids(0x55d2)
FC_B = _ids(0xfc02)


def catalogue(region):
    """{type ID: type} of the site in ``region``."""
    backend = "fake-a" if region == REGION_A else "fake-b"
    types = [_type(i, n, k, volume_backend_name=backend)
             for n, i, k in COMMON]
    types.append(_type(SILVER_A if region == REGION_A else SILVER_B,
                       "silver-sync", "sync", volume_backend_name=backend,
                       storage_protocol="NVMe"))
    if region == REGION_A:
        types += [_type(SSD_A, "replicated-ssd", "async",
                        volume_backend_name=backend,
                        storage_protocol="iSCSI"),
                  _type(GOLD_SYNC_A, "gold-sync", "sync",
                        volume_backend_name=backend,
                        storage_protocol="iSCSI")]
    else:
        types += [_type(SSD_B, "replicated-ssd-b", "async",
                        volume_backend_name=backend,
                        storage_protocol="iSCSI"),
                  _type(FC_B, "replicated-fc-b", "async",
                        volume_backend_name=backend,
                        storage_protocol="FC")]
    return {t["id"]: dict(t, description=None,
                          **{"os-volume-type-access:is_public": True})
            for t in types}


class FakeCinder:
    """``url(region)`` is that region's Cinder v3 endpoint."""

    def __init__(self):
        catalogues = {r: catalogue(r) for r in (REGION_A, REGION_B)}

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                types = catalogues.get(parts[0]) if parts else None
                if types is None:
                    return self._send(404, {"itemNotFound": {
                        "message": "no such region"}})
                version = {
                    "id": "v3.0", "status": "CURRENT", "version": "3.70",
                    "min_version": "3.0", "updated": "2023-01-01T00:00:00Z",
                    "links": [{"rel": "self", "href": "http://%s/%s/v3/" % (
                        self.headers["Host"], parts[0])}],
                    "media-types": [{"base": "application/json",
                                     "type": "application/vnd.openstack."
                                     "volume+json;version=3"}]}
                rest = parts[1:]
                if not rest:
                    return self._send(300, {"versions": [version]})
                if rest == ["v3"]:
                    return self._send(200, {"version": version})
                if rest == ["v3", "types"]:
                    return self._send(200, {"volume_types": list(
                        types.values())})
                if len(rest) == 3 and rest[:2] == ["v3", "types"]:
                    if rest[2] in types:
                        return self._send(200, {"volume_type":
                                                types[rest[2]]})
                    return self._send(404, {"itemNotFound": {
                        "message": "Volume type %s could not be found." %
                        rest[2]}})
                self._send(404, {"itemNotFound": {"message": "not faked"}})

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self.base = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    def url(self, region):
        return "%s/%s/v3" % (self.base, region)

    def start(self, keystone):
        """Serve, and put each region's endpoint in ``keystone``'s catalog
        (internal interface only)."""
        self._thread.start()
        for region in (REGION_A, REGION_B):
            keystone.add_endpoint("block-storage", "cinderv3",
                                  self.url(region), region,
                                  interface="internal")
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def export_types():
    """``{"MOCK_TYPE_REPLICATED_ASYNC": id, ...}`` for the gabbi files
    (named for when the mock held these types; they are the fake
    Cinder's now, on both sites)."""
    return {"MOCK_TYPE_" + name.replace("-", "_").upper(): type_id
            for name, type_id, _ in COMMON}


def for_keystone(keystone):
    """The fake Cinder in ``keystone``'s catalog, started the first time
    (one per Keystone: a second would put two endpoints in a region)."""
    cinder = getattr(keystone, "fake_cinder", None)
    if cinder is None:
        cinder = keystone.fake_cinder = FakeCinder().start(keystone)
    return cinder
