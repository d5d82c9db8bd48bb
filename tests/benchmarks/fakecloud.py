"""A stand-in Nova, Neutron and Cinder for the benchmarks' member adds.

``POST /protection-groups/{pg}/members`` reads the instance, its volume
attachments, its volumes, ports, networks and security groups from the
site's cloud (``pgroups/members.py``). The functional harness has only a
fake Cinder *types* API (``tests/functional/fakecinder.py``), so this
server serves that (the same catalogue) and also just enough of the
compute, network and volume APIs for a member add of a boot-from-volume
server, from ``servers`` made with ``make_server``. It replaces the
harness's fake Cinder when set as ``keystone.fake_cinder`` before the
``SitePair`` is built (``fakecinder.for_keystone`` returns it).

Its endpoints are in the catalog under the *internal* interface, compute
and network in ``REGION_A`` only (the site that reads instances).
"""
import http.server
import json
import threading
import uuid
from urllib import parse

from tests.functional import fakecinder

NETWORK_ID = "6e1f2b4a-0000-4000-8000-00000000ae70"
SECGROUP_ID = "6e1f2b4a-0000-4000-8000-0000000005ec"
FLAVOR = {"original_name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20,
          "ephemeral": 0, "swap": 0,
          "extra_specs": {"hw:cpu_policy": "shared",
                          "hw_rng:allowed": "True"}}
RULES = [{"direction": d, "ethertype": "IPv4", "protocol": p,
          "port_range_min": lo, "port_range_max": hi,
          "remote_ip_prefix": "0.0.0.0/0", "id": str(uuid.uuid4())}
         for d, p, lo, hi in (("ingress", "tcp", 22, 22),
                              ("ingress", "tcp", 443, 443),
                              ("ingress", "icmp", None, None),
                              ("egress", None, None, None))]


def mac(i):
    return "fa:16:3e:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255,
                                         i & 255)


def instance_config(i, server_id, volume_id, port_id):
    """What ``pgroups/members._capture`` makes of ``make_server(i)`` (for
    members seeded straight into a database: same shape, same size)."""
    ip = "10.0.%d.%d" % ((i // 250) % 250, i % 250 + 2)
    return {
        "name": "vm-%05d" % i,
        "flavor": dict(FLAVOR),
        "image_id": None, "image_name": None, "boot_from_volume": True,
        "block_device_mapping": [{"volume_id": volume_id,
                                  "device": "/dev/vda", "boot_index": 0,
                                  "size_gb": 10,
                                  "delete_on_termination": False}],
        "volume_images": {volume_id: "cirros-0.6.2"},
        "volume_details": {volume_id: {"description": None,
                                       "metadata": {"tier": "web"}}},
        "ports": [{"port_id": port_id, "network_id": NETWORK_ID,
                   "mac_address": mac(i),
                   "fixed_ips": [{"subnet_id": NETWORK_ID,
                                  "ip_address": ip}],
                   "security_group_ids": [SECGROUP_ID],
                   "port_security_enabled": True,
                   "allowed_address_pairs": [],
                   "network_name": "net-web"}],
        "networks": {NETWORK_ID: "net-web"},
        "security_groups": [{"id": SECGROUP_ID, "name": "web", "rules": [
            {k: r[k] for k in ("direction", "ethertype", "protocol",
                               "port_range_min", "port_range_max",
                               "remote_ip_prefix")} for r in RULES]}],
        "key_name": "ops", "metadata": {"app": "web", "tier": "front"},
        "tags": [], "description": None, "availability_zone": "nova",
        "server_groups": [], "config_drive": False, "status": "ACTIVE",
    }


class FakeCloud:
    """Serve; ``make_server(i)`` returns the ID of a new instance."""

    def __init__(self):
        types = {r: fakecinder.catalogue(r)
                 for r in (fakecinder.REGION_A, fakecinder.REGION_B)}
        self.servers = {}
        self.volumes = {}
        self.ports = {}
        cloud = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _missing(self):
                self._send(404, {"itemNotFound": {"message": "not found"}})

            def do_GET(self):
                url = parse.urlsplit(self.path)
                parts = [p for p in url.path.split("/") if p]
                query = parse.parse_qs(url.query)
                host = "http://%s" % self.headers["Host"]
                if parts and parts[0] == "compute":
                    return self._compute(parts[1:], host)
                if parts and parts[0] == "network":
                    return self._network(parts[1:], query, host)
                if parts and parts[0] in types:
                    return self._cinder(parts[0], parts[1:], host)
                self._missing()

            def _compute(self, rest, host):
                version = {"id": "v2.1", "status": "CURRENT",
                           "version": "2.96", "min_version": "2.1",
                           "updated": "2013-07-23T11:33:21Z",
                           "links": [{"rel": "self",
                                      "href": host + "/compute/v2.1/"}]}
                if not rest:
                    return self._send(200, {"versions": [version]})
                if rest == ["v2.1"]:
                    return self._send(200, {"version": version})
                if len(rest) >= 3 and rest[:2] == ["v2.1", "servers"]:
                    server = cloud.servers.get(rest[2])
                    if server is None:
                        return self._missing()
                    if len(rest) == 3:
                        return self._send(200, {"server": server})
                    if rest[3:] == ["os-volume_attachments"]:
                        return self._send(200, {"volumeAttachments": [{
                            "id": v, "volumeId": v, "serverId": rest[2],
                            "device": "/dev/vda",
                            "delete_on_termination": False}
                            for v in server["_volumes"]]})
                self._missing()

            def _network(self, rest, query, host):
                if not rest:
                    return self._send(200, {"versions": [{
                        "id": "v2.0", "status": "CURRENT", "links": [{
                            "rel": "self",
                            "href": host + "/network/v2.0/"}]}]})
                if rest == ["v2.0"]:
                    return self._send(200, {"resources": []})
                if rest == ["v2.0", "ports"]:
                    device = (query.get("device_id") or [None])[0]
                    return self._send(200, {"ports": [
                        p for p in cloud.ports.values()
                        if p["device_id"] == device]})
                if rest[:2] == ["v2.0", "networks"] and len(rest) == 3 \
                        and rest[2] == NETWORK_ID:
                    return self._send(200, {"network": {
                        "id": NETWORK_ID, "name": "net-web",
                        "status": "ACTIVE"}})
                if rest[:2] == ["v2.0", "security-groups"] and \
                        len(rest) == 3 and rest[2] == SECGROUP_ID:
                    return self._send(200, {"security_group": {
                        "id": SECGROUP_ID, "name": "web",
                        "security_group_rules": RULES}})
                self._missing()

            def _cinder(self, region, rest, host):
                version = {
                    "id": "v3.0", "status": "CURRENT", "version": "3.70",
                    "min_version": "3.0", "updated": "2023-01-01T00:00:00Z",
                    "links": [{"rel": "self", "href": "%s/%s/v3/" % (
                        host, region)}],
                    "media-types": [{"base": "application/json",
                                     "type": "application/vnd.openstack."
                                     "volume+json;version=3"}]}
                if not rest:
                    return self._send(300, {"versions": [version]})
                if rest == ["v3"]:
                    return self._send(200, {"version": version})
                if rest == ["v3", "types"]:
                    return self._send(200, {"volume_types": list(
                        types[region].values())})
                if len(rest) == 3 and rest[:2] == ["v3", "types"]:
                    if rest[2] in types[region]:
                        return self._send(200, {"volume_type":
                                                types[region][rest[2]]})
                    return self._missing()
                if len(rest) == 3 and rest[:2] == ["v3", "volumes"]:
                    volume = cloud.volumes.get(rest[2])
                    if volume is None:
                        return self._missing()
                    return self._send(200, {"volume": volume})
                self._missing()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self.base = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    def make_server(self, i):
        """A boot-from-volume instance with one volume of type
        ``replicated-async`` and one port; returns its ID."""
        server_id, volume_id, port_id = (str(uuid.uuid4()) for _ in "abc")
        self.volumes[volume_id] = {
            "id": volume_id, "name": "vm-%05d-root" % i, "size": 10,
            "volume_type": "replicated-async", "bootable": "true",
            "status": "in-use", "description": None,
            "metadata": {"tier": "web"},
            "volume_image_metadata": {"image_name": "cirros-0.6.2"}}
        self.ports[port_id] = {
            "id": port_id, "network_id": NETWORK_ID, "device_id": server_id,
            "mac_address": mac(i),
            "fixed_ips": [{"subnet_id": NETWORK_ID,
                           "ip_address": "10.9.%d.%d" % (i // 250 % 250,
                                                         i % 250 + 2)}],
            "security_groups": [SECGROUP_ID],
            "port_security_enabled": True, "allowed_address_pairs": []}
        self.servers[server_id] = {
            "id": server_id, "name": "vm-%05d" % i, "status": "ACTIVE",
            "flavor": dict(FLAVOR), "image": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
            "OS-EXT-AZ:availability_zone": "nova", "key_name": "ops",
            "metadata": {"app": "web", "tier": "front"}, "tags": [],
            "description": None, "server_groups": [], "config_drive": "",
            "_volumes": [volume_id]}
        return server_id

    def start(self, keystone):
        self._thread.start()
        for region in (fakecinder.REGION_A, fakecinder.REGION_B):
            keystone.add_endpoint("block-storage", "cinderv3",
                                  "%s/%s/v3" % (self.base, region), region,
                                  interface="internal")
        keystone.add_endpoint("compute", "nova", self.base + "/compute/v2.1",
                              fakecinder.REGION_A, interface="internal")
        keystone.add_endpoint("network", "neutron", self.base + "/network",
                              fakecinder.REGION_A, interface="internal")
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
