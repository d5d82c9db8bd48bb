"""Two fake sites that the real engine runs DR operations against, in
process, with the real database (the ``engine_db`` fixture).

``FakeCloud`` is one site's cloud: the openstacksdk subset the tasks, the
mock storage driver and the action checks use (Nova, Cinder, Neutron,
Glance), with real state (servers with a status and attached volumes,
volumes with a status, networks and ports, quotas and usage). It is
wrapped in the real ``SiteCloud`` class, so ``guard`` translates errors
exactly as in production. A fault injector makes named calls fail:

    cloud.fail("create_server", "http_500")        # the next call
    cloud.fail("block_storage.create_volume", "http_413", times=2)
    cloud.fail("wait_for_server", "timeout")       # ResourceTimeout
    cloud.fail("create_network", "timeout")        # ConnectTimeout
    cloud.fail("create_network", "lost_response")  # made, answer lost

A failed call changes nothing, except ``lost_response`` (the request
took effect, keystoneauth raised ConnectTimeout). Transitions (BUILD ->
ACTIVE, creating -> available, a stop or start) complete by the next
read after the request: a ``wait_for_*`` that timed out leaves the
resource there, ready, as a slow cloud would. A slow Nova:
``cloud.build_seconds`` keeps a new server in BUILD that long
(``wait_for_server`` polls, outside the cloud's lock, as the SDK does),
and a server named in ``cloud.build_fails`` ends its build in ERROR;
``cloud.volume_fails`` ({name: count}) puts the next volumes of a name in
error.
``cloud.timeline()`` gives when each server was created and became
ACTIVE or ERROR (boot tier tests).

``TwoSite`` builds a protection group (servers and volumes on site A),
starts operations through the real ``dr.actions.start`` and runs them
with the real ``engine.runner``. The source-site sub-operations of a
planned failover/failback run as separate operations, as in production:
the peer transport of ``dr/subops.py`` is replaced by an in-process
"source protector-api" that queues them with the real ``subops.start``
and an in-process "source engine" that runs them with
``runner.run_operation`` against the source site's fake cloud. Both
sites share one database (the source site's claim of the group is
emulated around each sub-operation, see ``FakePeer``). Cloud builders
(``tasks.target_cloud``, ``SiteCloud.from_trust``/``from_token``,
``tokens.cloud_for``, the service-user cloud) and ``probe.probe`` are
patched to the fakes; ``cloud.down = True`` makes a site unreachable.

``inventory`` lists what each site holds, for counting duplicates and
leftovers after a retry or a rollback.
"""
import contextlib
import copy
import datetime
import functools
import ipaddress
import itertools
import json
import re
import threading
import time
import types
import uuid

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from oslo_config import cfg
import requests
import sqlalchemy as sa

from protector.cloud import connection
from protector import context as pcontext
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.db import protection_groups as pg_db
from protector.db import models
from protector.db import operations as ops_db
from protector import exception
from protector.pgroups import peers

CONF = cfg.CONF
FAULTS = ("http_413", "http_500", "timeout", "lost_response")
FLAVOR = {"name": "m1.small", "vcpus": 1, "ram": 512, "disk": 1}
NETWORK = "net-web"
SUBNET = "10.0.0.0/24"
IMAGE = "cirros"
REPLICATED_TYPE = "5e1f2b4a-0000-4000-8000-00000000a51c"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# -- errors as the SDK and keystoneauth raise them -------------------------

def http_error(status, message, cls=sdk_exc.HttpException):
    resp = requests.Response()
    resp.status_code = status
    return cls(message=message, response=resp, details=message)


def fault_error(kind, service, call):
    if kind == "http_413":
        # Cinder's over-limit answer (the SDK has no subclass for 413).
        return http_error(413, "Request Entity Too Large: %s.%s: "
                          "VolumeLimitExceeded: Maximum number of volumes "
                          "allowed (10) exceeded" % (service, call))
    if kind == "http_500":
        return http_error(500, "Internal Server Error: %s.%s: unexpected "
                          "API error" % (service, call))
    if kind == "timeout" and call.startswith("wait_for"):
        return sdk_exc.ResourceTimeout(
            "Timeout waiting for the resource (%s.%s)" % (service, call))
    if kind in ("timeout", "lost_response"):
        # keystoneauth turns every requests timeout into ConnectTimeout.
        return ks_exc.ConnectTimeout("Request to %s.%s timed out" %
                                     (service, call))
    if isinstance(kind, BaseException):
        return kind
    raise ValueError("unknown fault %r" % (kind,))


class Obj(types.SimpleNamespace):
    """What the SDK hands out: attribute access, some dict access."""

    def get(self, key, default=None):
        return getattr(self, key, default)

    def __getitem__(self, key):
        return getattr(self, key)

    def to_dict(self):
        return dict(vars(self))


def _id(thing):
    return thing if isinstance(thing, str) else thing.id


class _Fault:
    def __init__(self, service, call, kind, times):
        self.service, self.call, self.kind = service, call, kind
        self.left = times  # None: until cleared
        self.hits = 0


def api(fn, name=None):
    """A cloud API call: counted, may be faulted, runs under the lock."""
    name = name or fn.__name__

    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        cloud = self.cloud
        key = "%s.%s" % (self.service, name)
        # Hooks for a cloud with a latency model (tests/benchmarks/
        # simcloud.py): no-ops here, and outside the lock.
        cloud.before_call(self.service, name)
        with cloud.lock:
            cloud.calls[key] = cloud.calls.get(key, 0) + 1
            if cloud.down:
                raise ks_exc.ConnectFailure(
                    "Unable to establish connection to %s (site %s is "
                    "down)" % (key, cloud.name))
            fault = cloud._take_fault(self.service, name)
            if fault is not None and fault.kind != "lost_response":
                raise fault_error(fault.kind, self.service, name)
            result = fn(self, *args, **kwargs)
            if fault is not None:
                # The call reached the cloud; its answer was lost.
                raise fault_error("lost_response", self.service, name)
        cloud.after_call(self.service, name, result)
        return result
    return call


class _Proxy:
    service = None

    def __init__(self, cloud):
        self.cloud = cloud


# -- Nova ------------------------------------------------------------------

class Compute(_Proxy):
    service = "compute"

    def _server(self, ident, missing_ok=True):
        cloud = self.cloud
        cloud.settle()
        srv = cloud.servers.get(_id(ident))
        if srv is None and isinstance(ident, str):
            named = [s for s in cloud.servers.values() if s["name"] == ident]
            srv = named[0] if len(named) == 1 else None
        if srv is None and not missing_ok:
            raise http_error(404, "No Server found for %s" % _id(ident),
                             sdk_exc.NotFoundException)
        return srv

    @api
    def servers(self, details=True, name=None, **query):
        self.cloud.settle()
        out = []
        for srv in self.cloud.servers.values():
            if name and not re.search(name, srv["name"]):
                continue
            out.append(self.cloud.server_obj(srv))
        return out

    @api
    def find_server(self, name_or_id, ignore_missing=True, **query):
        srv = self._server(name_or_id, missing_ok=ignore_missing)
        return self.cloud.server_obj(srv) if srv else None

    @api
    def get_server(self, server):
        return self.cloud.server_obj(self._server(server, missing_ok=False))

    @api
    def services(self, **query):
        """``cloud.compute_hosts`` nova-compute services, up and enabled
        (engine/tasks/capacity.py counts them)."""
        return [Obj(host="compute-%d" % h, binary="nova-compute",
                    state="up", status="enabled", zone="nova")
                for h in range(self.cloud.compute_hosts)]

    @api
    def create_server(self, **attrs):
        cloud = self.cloud
        cloud.settle()
        flavor = cloud.flavors.get(attrs.get("flavor_id"))
        if flavor is None:
            raise http_error(400, "Flavor %s could not be found" %
                             attrs.get("flavor_id"),
                             sdk_exc.BadRequestException)
        quota = cloud.quotas["compute"]
        use = cloud.compute_usage()
        if use["instances"] + 1 > quota["instances"] or \
                use["cores"] + flavor["vcpus"] > quota["cores"] or \
                use["ram"] + flavor["ram"] > quota["ram"]:
            raise http_error(403, "Quota exceeded for instances, cores or "
                             "ram", sdk_exc.ForbiddenException)
        sid = str(uuid.uuid4())
        attached = {}
        for bdm in attrs.get("block_device_mapping") or []:
            if bdm.get("source_type") != "volume":
                continue
            vol = cloud.volumes.get(bdm["uuid"])
            if vol is None:
                raise http_error(400, "Volume %s could not be found" %
                                 bdm["uuid"], sdk_exc.BadRequestException)
            if vol["status"] != "available" or vol["attachments"]:
                raise http_error(400, "Invalid volume: volume %s status "
                                 "must be available, but current status "
                                 "is: %s" % (vol["id"], vol["status"]),
                                 sdk_exc.BadRequestException)
            attached[vol["id"]] = bool(bdm.get("delete_on_termination"))
        nets = attrs.get("networks")
        ports = []
        for net in nets if isinstance(nets, list) else []:
            if net.get("uuid") not in cloud.networks:
                raise http_error(400, "Network %s could not be found" %
                                 net.get("uuid"),
                                 sdk_exc.BadRequestException)
            address = net.get("fixed_ip")
            if address and cloud.address_taken(net["uuid"], address):
                raise http_error(409, "Fixed IP address %s is already in "
                                 "use on instance" % address,
                                 sdk_exc.ConflictException)
            ports.append((net["uuid"], address or cloud.next_address(
                net["uuid"])))
        for vid in attached:
            cloud.volumes[vid]["status"] = "in-use"
            cloud.volumes[vid]["attachments"] = [sid]
        for net_id, address in ports:
            cloud.ports[str(uuid.uuid4())] = {
                "network_id": net_id, "device_id": sid,
                "fixed_ips": [{"ip_address": address}] if address else []}
        now = time.monotonic()
        srv = {"id": sid, "name": attrs["name"], "status": "BUILD",
               "pending": "ERROR" if attrs["name"] in cloud.build_fails
               else "ACTIVE", "flavor_id": flavor["id"],
               "metadata": dict(attrs.get("metadata") or {}),
               "attachments": attached, "image_id": attrs.get("image_id"),
               "key_name": attrs.get("key_name"),
               "security_groups": attrs.get("security_groups"),
               "seq": next(cloud.seq), "created_at": now,
               "ready_at": now + cloud.build_seconds}
        cloud.servers[sid] = srv
        cloud.created.append(("server", sid))
        return cloud.server_obj(srv, settle=False)

    def wait_for_server(self, server, status="ACTIVE", failures=None,
                        interval=2, wait=120, callback=None):
        # A slow build (build_seconds): poll outside the lock, so the
        # other builds go on meanwhile; then the counted call answers.
        self.cloud.wait_built(_id(server), wait)
        return self._wait_for_server(server, status, failures)

    def _wait(self, server, status="ACTIVE", failures=None):
        srv = self._server(server, missing_ok=False)
        if srv["status"] == status:
            return self.cloud.server_obj(srv)
        if srv["status"] in (failures or ["ERROR"]):
            raise sdk_exc.ResourceFailure(
                "Server %s transitioned to failure state %s" %
                (srv["id"], srv["status"]))
        raise sdk_exc.ResourceTimeout(
            "Timeout waiting for server %s to transition to %s (it is %s)"
            % (srv["id"], status, srv["status"]))

    _wait_for_server = api(_wait, name="wait_for_server")

    @api
    def stop_server(self, server):
        srv = self._server(server, missing_ok=False)
        if srv["status"] != "ACTIVE":
            raise http_error(409, "Cannot 'stop' instance %s while it is "
                             "in vm_state %s" % (srv["id"], srv["status"]),
                             sdk_exc.ConflictException)
        srv["pending"] = "SHUTOFF"

    @api
    def start_server(self, server):
        srv = self._server(server, missing_ok=False)
        if srv["status"] != "SHUTOFF":
            raise http_error(409, "Cannot 'start' instance %s while it is "
                             "in vm_state %s" % (srv["id"], srv["status"]),
                             sdk_exc.ConflictException)
        srv["pending"] = "ACTIVE"

    @api
    def delete_server(self, server, ignore_missing=True, force=False):
        cloud = self.cloud
        srv = self._server(server, missing_ok=ignore_missing)
        if srv is None:
            return None
        del cloud.servers[srv["id"]]
        for vid, dot in srv["attachments"].items():
            vol = cloud.volumes.get(vid)
            if vol is None:
                continue
            if dot:
                del cloud.volumes[vid]
                cloud.deleted.append(("volume", vid))
            else:
                vol["status"] = "available"
                vol["attachments"] = []
        for pid in [p for p, port in cloud.ports.items()
                    if port["device_id"] == srv["id"]]:
            del cloud.ports[pid]
        cloud.deleted.append(("server", srv["id"]))
        return None

    @api
    def wait_for_delete(self, res, interval=2, wait=120, callback=None):
        if _id(res) in self.cloud.servers:
            raise sdk_exc.ResourceTimeout("Timeout waiting for %s to be "
                                          "deleted" % _id(res))
        return res

    @api
    def flavors(self, details=True, **query):
        return [Obj(**f) for f in self.cloud.flavors.values()]

    @api
    def find_flavor(self, name_or_id, ignore_missing=True, **query):
        for f in self.cloud.flavors.values():
            if name_or_id in (f["id"], f["name"]):
                return Obj(**f)
        if not ignore_missing:
            raise http_error(404, "No Flavor found for %s" % name_or_id,
                             sdk_exc.NotFoundException)
        return None

    @api
    def find_keypair(self, name_or_id, ignore_missing=True, **query):
        if name_or_id in self.cloud.keypairs:
            return Obj(id=name_or_id, name=name_or_id)
        return None

    @api
    def volume_attachments(self, server, **query):
        srv = self._server(server, missing_ok=False)
        return [Obj(id=vid, volume_id=vid, server_id=srv["id"],
                    delete_on_termination=dot)
                for vid, dot in sorted(srv["attachments"].items())]

    @api
    def put(self, url, json=None, microversion=None, raise_exc=True, **kw):
        match = re.match(r"^/servers/([^/]+)/os-volume_attachments/([^/]+)$",
                         url)
        srv = self.cloud.servers.get(match.group(1)) if match else None
        if srv is None or match.group(2) not in srv["attachments"]:
            return Obj(status_code=404, text="not found", content=b"")
        if (microversion or "2.1") < "2.85":
            return Obj(status_code=400, text="needs 2.85", content=b"")
        att = json["volumeAttachment"]
        srv["attachments"][att["volumeId"]] = bool(
            att["delete_on_termination"])
        return Obj(status_code=202, text="", content=b"")

    @api
    def get_quota_set(self, project, usage=False, **query):
        quota = dict(self.cloud.quotas["compute"])
        out = Obj(id=_id(project), **quota)
        if usage:
            out.usage = self.cloud.compute_usage()
            out.reservation = {k: 0 for k in quota}
        return out


# -- Cinder ----------------------------------------------------------------

class BlockStorage(_Proxy):
    service = "block_storage"

    @api
    def types(self):
        return [Obj(**t) for t in self.cloud.volume_types.values()]

    @api
    def find_type(self, name_or_id, ignore_missing=True):
        types = self.cloud.volume_types
        found = types.get(name_or_id) or next(
            (t for t in types.values() if t["name"] == name_or_id), None)
        if found is None and not ignore_missing:
            raise http_error(404, "No Type found for %s" % name_or_id,
                             sdk_exc.NotFoundException)
        return Obj(**found) if found else None

    def _volume(self, ident, missing_ok=True):
        cloud = self.cloud
        cloud.settle()
        vol = cloud.volumes.get(_id(ident))
        if vol is None and isinstance(ident, str):
            named = [v for v in cloud.volumes.values() if v["name"] == ident]
            vol = named[0] if len(named) == 1 else None
        if vol is None and not missing_ok:
            raise http_error(404, "No Volume found for %s" % _id(ident),
                             sdk_exc.NotFoundException)
        return vol

    @api
    def volumes(self, details=True, name=None, status=None, **query):
        self.cloud.settle()
        return [self.cloud.volume_obj(v)
                for v in self.cloud.volumes.values()
                if (name is None or v["name"] == name) and
                (status is None or v["status"] == status)]

    @api
    def find_volume(self, name_or_id, ignore_missing=True, **query):
        vol = self._volume(name_or_id, missing_ok=ignore_missing)
        return self.cloud.volume_obj(vol) if vol else None

    @api
    def get_volume(self, volume):
        return self.cloud.volume_obj(self._volume(volume, missing_ok=False))

    def _check_quota(self, size):
        quota = self.cloud.quotas["block_storage"]
        use = self.cloud.volume_usage()
        if use["volumes"] + 1 > quota["volumes"] or \
                use["gigabytes"] + size > quota["gigabytes"]:
            raise http_error(413, "VolumeLimitExceeded: Maximum number of "
                             "volumes allowed (%d) exceeded" %
                             quota["volumes"])

    def _new(self, name, size, **extra):
        cloud = self.cloud
        vid = str(uuid.uuid4())
        fails = cloud.volume_fails.get(name, 0)
        if fails:
            cloud.volume_fails[name] = fails - 1
        vol = {"id": vid, "name": name, "size": size, "status": "creating",
               "pending": "error" if fails else "available",
               "attachments": [],
               "is_bootable": False, "metadata": {}, "seq": next(cloud.seq)}
        vol.update(extra)
        cloud.volumes[vid] = vol
        cloud.created.append(("volume", vid))
        return vol

    @api
    def create_volume(self, **attrs):
        self.cloud.settle()
        size = int(attrs.get("size") or 1)
        self._check_quota(size)
        if attrs.get("image_id") and attrs["image_id"] not in {
                i["id"] for i in self.cloud.images.values()}:
            raise http_error(400, "Image %s could not be found" %
                             attrs["image_id"], sdk_exc.BadRequestException)
        vol = self._new(attrs.get("name"), size,
                        description=attrs.get("description"),
                        metadata=dict(attrs.get("metadata") or {}),
                        volume_type=attrs.get("volume_type"),
                        image_id=attrs.get("image_id"),
                        is_bootable=bool(attrs.get("image_id") or
                                         attrs.get("bootable")))
        return self.cloud.volume_obj(vol, settle=False)

    @api
    def manage_volume(self, **attrs):
        self.cloud.settle()
        self._check_quota(1)
        ref = attrs.get("ref") or {}
        vol = self._new(attrs.get("name"), 1,
                        description=attrs.get("description"),
                        metadata=dict(attrs.get("metadata") or {},
                                      managed_ref=json.dumps(ref)),
                        volume_type=attrs.get("volume_type"),
                        host=attrs.get("host"),
                        is_bootable=bool(attrs.get("bootable")))
        return self.cloud.volume_obj(vol, settle=False)

    @api
    def wait_for_status(self, res, status="available", failures=None,
                        interval=2, wait=120, attribute="status",
                        callback=None):
        vol = self._volume(res, missing_ok=False)
        if vol["status"] == status:
            return self.cloud.volume_obj(vol)
        if vol["status"] in (failures or []):
            raise sdk_exc.ResourceFailure(
                "Volume %s transitioned to failure state %s" %
                (vol["id"], vol["status"]))
        raise sdk_exc.ResourceTimeout(
            "Timeout waiting for volume %s to transition to %s (it is %s)"
            % (vol["id"], status, vol["status"]))

    @api
    def delete_volume(self, volume, ignore_missing=True, force=False):
        vol = self._volume(volume, missing_ok=ignore_missing)
        if vol is None:
            return None
        if vol["attachments"] or vol["status"] not in (
                "available", "error", "error_restoring", "error_extending",
                "error_managing"):
            raise http_error(400, "Invalid volume: Volume status must be "
                             "available or error or error_restoring or "
                             "error_extending or error_managing and must "
                             "not be migrating, attached, belong to a "
                             "group, have snapshots or be disassociated "
                             "from snapshots after volume transfer.",
                             sdk_exc.BadRequestException)
        del self.cloud.volumes[vol["id"]]
        self.cloud.deleted.append(("volume", vol["id"]))
        return None

    @api
    def unmanage_volume(self, volume):
        vol = self._volume(volume, missing_ok=False)
        if vol["attachments"] or vol["status"] not in ("available",
                                                       "error"):
            raise http_error(400, "Invalid volume: volume %s is %s" %
                             (vol["id"], vol["status"]),
                             sdk_exc.BadRequestException)
        del self.cloud.volumes[vol["id"]]
        self.cloud.unmanaged.append(vol["id"])

    @api
    def set_volume_bootable_status(self, volume, bootable):
        self._volume(volume, missing_ok=False)["is_bootable"] = bool(
            bootable)

    @api
    def services(self, **query):
        services = [Obj(host="cinder@mock", binary="cinder-volume",
                        state="up", status="enabled", zone="nova")]
        return [s for s in services
                if query.get("binary") in (None, s.binary)]

    @api
    def get_quota_set(self, project, usage=False, **query):
        quota = dict(self.cloud.quotas["block_storage"])
        out = Obj(id=_id(project), **quota)
        if usage:
            out.usage = self.cloud.volume_usage()
            out.reservation = {k: 0 for k in quota}
        return out


# -- Neutron ---------------------------------------------------------------

class Network(_Proxy):
    service = "network"

    def _find(self, table, name_or_id):
        rows = getattr(self.cloud, table)
        if name_or_id in rows:
            return rows[name_or_id]
        named = [r for r in rows.values() if r.get("name") == name_or_id]
        if len(named) > 1:
            raise sdk_exc.DuplicateResource(
                "More than one %s exists with the name %s" %
                (table, name_or_id))
        return named[0] if named else None

    @api
    def networks(self, name=None, **query):
        return [Obj(**n) for n in self.cloud.networks.values()
                if name is None or n["name"] == name]

    @api
    def find_network(self, name_or_id, ignore_missing=True, **query):
        net = self._find("networks", name_or_id)
        return Obj(**net) if net else None

    @api
    def subnets(self, **query):
        return [Obj(**s) for s in self.cloud.subnets.values()
                if all(s.get(k) == v for k, v in query.items())]

    @api
    def find_subnet(self, name_or_id, ignore_missing=True, **query):
        sub = self._find("subnets", name_or_id)
        return Obj(**sub) if sub else None

    @api
    def find_security_group(self, name_or_id, ignore_missing=True, **query):
        return Obj(id="sg-default", name="default") \
            if name_or_id in ("default", "sg-default") else None

    def _over(self, what):
        quota = self.cloud.quotas["network"]
        if len(getattr(self.cloud, what)) + 1 > quota[what]:
            raise http_error(409, "Quota exceeded for resources: ['%s']." %
                             what[:-1], sdk_exc.ConflictException)

    @api
    def create_network(self, **attrs):
        self._over("networks")
        nid = str(uuid.uuid4())
        self.cloud.networks[nid] = {
            "id": nid, "name": attrs.get("name"),
            "description": attrs.get("description") or "",
            "seq": next(self.cloud.seq)}
        self.cloud.created.append(("network", nid))
        return Obj(**self.cloud.networks[nid])

    @api
    def create_subnet(self, **attrs):
        self._over("subnets")
        if attrs.get("network_id") not in self.cloud.networks:
            raise http_error(404, "Network %s could not be found." %
                             attrs.get("network_id"),
                             sdk_exc.NotFoundException)
        sid = str(uuid.uuid4())
        self.cloud.subnets[sid] = {"id": sid, "name": attrs.get("name"),
                                   "network_id": attrs["network_id"],
                                   "cidr": attrs.get("cidr")}
        self.cloud.created.append(("subnet", sid))
        return Obj(**self.cloud.subnets[sid])

    @api
    def delete_subnet(self, subnet, ignore_missing=True, **query):
        if _id(subnet) not in self.cloud.subnets:
            if ignore_missing:
                return None
            raise http_error(404, "Subnet not found",
                             sdk_exc.NotFoundException)
        del self.cloud.subnets[_id(subnet)]
        self.cloud.deleted.append(("subnet", _id(subnet)))

    @api
    def delete_network(self, network, ignore_missing=True, **query):
        nid = _id(network)
        if nid not in self.cloud.networks:
            if ignore_missing:
                return None
            raise http_error(404, "Network not found",
                             sdk_exc.NotFoundException)
        if any(p["network_id"] == nid for p in self.cloud.ports.values()):
            raise http_error(409, "Unable to complete operation on network "
                             "%s. There are one or more ports still in use "
                             "on the network." % nid,
                             sdk_exc.ConflictException)
        for sid in [s for s, sub in self.cloud.subnets.items()
                    if sub["network_id"] == nid]:
            del self.cloud.subnets[sid]
        del self.cloud.networks[nid]
        self.cloud.deleted.append(("network", nid))

    @api
    def get_network(self, network):
        net = self.cloud.networks.get(_id(network))
        if net is None:
            raise http_error(404, "Network %s could not be found" %
                             _id(network), sdk_exc.NotFoundException)
        return Obj(**net)

    @api
    def ports(self, fixed_ips=None, **query):
        # Neutron's filter: fixed_ips=["ip_address=10.0.0.5"].
        wanted = {f.partition("=")[2] for f in fixed_ips or []}
        return [Obj(id=pid, **p) for pid, p in self.cloud.ports.items()
                if all(p.get(k) == v for k, v in query.items()) and
                wanted <= {ip["ip_address"] for ip in p["fixed_ips"]}]

    @api
    def get_quota(self, project, details=False, **query):
        quota = self.cloud.quotas["network"]
        used = {"networks": len(self.cloud.networks),
                "subnets": len(self.cloud.subnets),
                "ports": len(self.cloud.ports)}
        if details:
            return Obj(id=_id(project), **{
                k: {"limit": v, "used": used.get(k, 0), "reserved": 0}
                for k, v in quota.items()})
        return Obj(id=_id(project), **quota)


# -- Glance ----------------------------------------------------------------

class Image(_Proxy):
    service = "image"

    @api
    def images(self, **query):
        return [Obj(**i) for i in self.cloud.images.values()]

    @api
    def find_image(self, name_or_id, ignore_missing=True, **query):
        for img in self.cloud.images.values():
            if name_or_id in (img["id"], img["name"]):
                return Obj(**img)
        return None


class _Session:
    """The bits of a keystoneauth session ``SiteCloud`` reads."""

    def __init__(self, cloud):
        self.cloud = cloud

    def get_project_id(self):
        return self.cloud.project_id

    def get_user_id(self):
        return "user-" + self.cloud.name

    def get_endpoint(self, service_type=None, **kw):
        return "http://%s.invalid/%s" % (self.cloud.name, service_type)


class FakeSiteCloud(connection.SiteCloud):
    """The real SiteCloud (its ``guard``) around a fake connection."""

    def __init__(self, site, cloud):
        self.site = site
        self.conn = cloud
        self.session = _Session(cloud)

    def warm(self, *service_types):
        # No token for a fake service to validate: counted, not called
        # (SiteCloud.warm is tested on its own, tests/unit).
        with self.conn.lock:
            for service_type in service_types:
                key = "warm." + service_type
                self.conn.calls[key] = self.conn.calls.get(key, 0) + 1


class FakeCloud:
    """One site's cloud. ``conn`` is itself (compute, block_storage,
    network, image proxies)."""

    def __init__(self, site, project_id):
        self.site = site
        self.name = site["name"]
        self.project_id = project_id
        self.lock = threading.RLock()
        self.seq = itertools.count()
        self.down = False
        self.faults = []
        self.calls = {}
        self.created, self.deleted, self.unmanaged = [], [], []
        self.servers, self.volumes = {}, {}
        self.networks, self.subnets, self.ports = {}, {}, {}
        self.flavors = {"flavor-small": dict(FLAVOR, id="flavor-small")}
        self.images = {"img-cirros": {"id": "img-cirros", "name": IMAGE}}
        # The group's type: Protector reads types from the site's Cinder,
        # mock Cinder (which simulates only the groups) or not.
        self.volume_types = {REPLICATED_TYPE: {
            "id": REPLICATED_TYPE, "name": "replicated-async",
            "extra_specs": {"replication_enabled": "<is> True",
                            "replication_type": "<in> async"}}}
        self.keypairs = set()
        # A slow Nova (see the module docstring).
        self.build_seconds = 0
        self.compute_hosts = 1
        self.build_fails = set()
        # {volume name: how many of the next volumes of that name Cinder
        # puts in error instead of making available}
        self.volume_fails = {}
        self.quotas = {
            "compute": {"instances": 20, "cores": 40, "ram": 51200},
            "block_storage": {"volumes": 50, "gigabytes": 1000,
                              "snapshots": 50},
            "network": {"networks": 10, "subnets": 10, "ports": 50}}
        nid = "net-" + self.name
        self.networks[nid] = {"id": nid, "name": NETWORK,
                              "description": "", "seq": -1,
                              "is_shared": False}
        self.subnets["subnet-" + self.name] = {
            "id": "subnet-" + self.name, "name": NETWORK,
            "network_id": nid, "cidr": SUBNET}
        self.base_network = nid
        self.compute = Compute(self)
        self.block_storage = BlockStorage(self)
        self.network = Network(self)
        self.image = Image(self)

    @property
    def conn(self):
        return self

    def site_cloud(self):
        return FakeSiteCloud(self.site, self)

    # -- hooks (a subclass with a latency model overrides them) --------------

    def before_call(self, service, name):
        """Called before each API call, outside the lock."""

    def after_call(self, service, name, result):
        """Called after each API call that answered, outside the lock."""

    # -- faults --------------------------------------------------------------

    def fail(self, call, error, times=1):
        """Make the next ``times`` calls of ``call`` ("create_server" or
        "compute.create_server") fail with ``error`` (one of FAULTS or an
        exception); ``times=None`` until ``clear_faults``."""
        service, _, name = call.rpartition(".")
        with self.lock:
            self.faults.append(_Fault(service or None, name, error, times))

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def fault_hits(self):
        return sum(f.hits for f in self.faults)

    def _take_fault(self, service, name):
        for fault in self.faults:
            if fault.call == name and fault.service in (None, service) and \
                    (fault.left is None or fault.left > 0):
                if fault.left is not None:
                    fault.left -= 1
                fault.hits += 1
                return fault
        return None

    # -- state -------------------------------------------------------------

    def settle(self):
        """Finish pending transitions: every read after a request sees the
        cloud done with it (a wait that timed out left it pending)."""
        now = time.monotonic()
        for srv in self.servers.values():
            if srv.get("pending") and srv.get("ready_at", 0) <= now:
                if srv["status"] == "BUILD":
                    # When the build ended (not when it was noticed).
                    srv["built_at"] = max(srv["ready_at"],
                                          srv["created_at"])
                srv["status"], srv["pending"] = srv["pending"], None
        for vol in self.volumes.values():
            if vol.get("pending"):
                vol["status"], vol["pending"] = vol["pending"], None

    def wait_built(self, server_id, wait):
        """Until the server's build time is over (or ``wait`` seconds)."""
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                srv = self.servers.get(server_id)
                ready = srv.get("ready_at", 0) if srv else 0
            now = time.monotonic()
            if ready <= now or now >= deadline:
                return
            time.sleep(min(ready - now, deadline - now, 0.01))

    def timeline(self):
        """{server name: {"created", "built", "status"}}: monotonic times
        of the servers Protector made here (BUILD -> ACTIVE or ERROR)."""
        with self.lock:
            self.settle()
            return {s["name"]: {"created": s["created_at"],
                                "built": s.get("built_at"),
                                "status": s["status"]}
                    for s in self.servers.values() if "created_at" in s}

    def server_obj(self, srv, settle=True):
        if settle:
            self.settle()
        return Obj(id=srv["id"], name=srv["name"], status=srv["status"],
                   metadata=copy.deepcopy(srv["metadata"]),
                   flavor={"id": srv["flavor_id"]},
                   attached_volumes=[{"id": v} for v in srv["attachments"]])

    def volume_obj(self, vol, settle=True):
        if settle:
            self.settle()
        return Obj(id=vol["id"], name=vol["name"], status=vol["status"],
                   size=vol["size"], is_bootable=vol["is_bootable"],
                   bootable=str(vol["is_bootable"]).lower(),
                   description=vol.get("description"),
                   metadata=copy.deepcopy(vol["metadata"]),
                   attachments=[{"server_id": s}
                                for s in vol["attachments"]],
                   volume_type=vol.get("volume_type"),
                   host=vol.get("host"))

    def address_taken(self, network_id, address):
        return any(p["network_id"] == network_id and address in
                   {ip["ip_address"] for ip in p["fixed_ips"]}
                   for p in self.ports.values())

    def next_address(self, network_id):
        """What Neutron's IPAM would give: the first free host address of
        the network's first subnet (None on a network without one)."""
        for sub in self.subnets.values():
            if sub["network_id"] == network_id and sub.get("cidr"):
                for host in ipaddress.ip_network(sub["cidr"]).hosts():
                    if not self.address_taken(network_id, str(host)):
                        return str(host)
        return None

    def compute_usage(self):
        flavors = [self.flavors[s["flavor_id"]]
                   for s in self.servers.values()]
        return {"instances": len(flavors),
                "cores": sum(f["vcpus"] for f in flavors),
                "ram": sum(f["ram"] for f in flavors)}

    def volume_usage(self):
        return {"volumes": len(self.volumes),
                "gigabytes": sum(v["size"] for v in self.volumes.values()),
                "snapshots": 0}

    def add_server(self, name, volumes, status="ACTIVE", metadata=None,
                   address=None):
        """A workload server (not made by Protector) with its volumes
        (the boot volume deleted with it, data volumes not) and, with
        ``address``, its port on the site's network."""
        with self.lock:
            sid = str(uuid.uuid4())
            if address:
                self.ports[str(uuid.uuid4())] = {
                    "network_id": self.base_network, "device_id": sid,
                    "fixed_ips": [{"ip_address": address}]}
            for vol in volumes:
                self.volumes[vol["id"]] = {
                    "id": vol["id"], "name": vol["name"],
                    "size": vol["size"], "status": "in-use",
                    "pending": None, "attachments": [sid],
                    "is_bootable": vol["bootable"], "metadata": {},
                    "seq": next(self.seq)}
            self.servers[sid] = {
                "id": sid, "name": name, "status": status, "pending": None,
                "flavor_id": "flavor-small", "metadata": dict(
                    metadata or {}),
                "attachments": {v["id"]: bool(v["bootable"])
                                for v in volumes},
                "image_id": None, "seq": next(self.seq)}
            return sid

    def inventory(self):
        with self.lock:
            self.settle()
            return {
                "servers": [{"id": s["id"], "name": s["name"],
                             "status": s["status"],
                             "member": s["metadata"].get(
                                 "protector_member"),
                             "operation": s["metadata"].get(
                                 "protector_operation"),
                             "volumes": sorted(s["attachments"])}
                            for s in sorted(self.servers.values(),
                                            key=lambda s: s["seq"])],
                "volumes": [{"id": v["id"], "name": v["name"],
                             "status": v["status"],
                             "copy_of": (v["metadata"].get(
                                 "protector_copy_key") or "").rpartition(
                                 ":")[2] or None,
                             "operation": v["metadata"].get(
                                 "protector_operation")}
                            for v in sorted(self.volumes.values(),
                                            key=lambda v: v["seq"])],
                "networks": [{"id": n["id"], "name": n["name"]}
                             for n in self.networks.values()
                             if n["name"] != NETWORK],
                "subnets": [{"id": s["id"], "name": s["name"],
                             "network_id": s["network_id"]}
                            for s in self.subnets.values()
                            if s["network_id"] != self.base_network],
                "unmanaged": list(self.unmanaged)}


# -- the source site's protector-api and engine, in process ----------------

class _Req:
    """What the operations serializer reads of a request."""

    def __init__(self, ctx, tenant_id, headers=None):
        self.context = ctx
        self.tenant_id = tenant_id
        self.headers = headers or {}
        self.GET = {}
        self.host_url = "http://protector.invalid"
        self.microversion = types.SimpleNamespace(
            matches=lambda *a, **k: True)


class _Resp:
    def __init__(self, status, body):
        self.status_code = status
        self._body = body
        self.text = json.dumps(body, default=str)
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakePeer(peers.Peer):
    """A site's protector-api as the other site's engine reaches it (the
    paths ``dr/subops.py`` and the metadata push use), answered in
    process; its "engine" runs the queued sub-operations there."""

    def __init__(self, harness, site):
        super().__init__(site, "peer-token", harness.project,
                         "http://%s.invalid" % site["name"])
        self.h = harness

    def _request(self, method, path, body=None, signed=False):
        cloud = self.h.cloud_of(self.site["id"])
        if cloud.down:
            raise exception.PeerUnreachable(
                site=self.site["name"], reason="connection refused")
        self.h.peer_call(self.site, method, path)
        try:
            status, out = self._dispatch(method, path, body, signed)
        except exception.ProtectorException as exc:
            # What peers.Peer makes of the API's error answer.
            from protector.api import errors
            raise exception.PeerRejected(
                site=self.site["name"],
                status=errors.KIND_STATUS.get(exc.kind, 500),
                peer_code=exc.code, detail=exc.message)
        return _Resp(status, out), 1

    def _dispatch(self, method, path, body, signed):
        from protector.api.handlers import operations as handler
        from protector import caller
        from protector.dr import subops
        h = self.h
        req = _Req(h.ctx, h.project, {})
        match = re.match(
            r"^/internal/protection-groups/([^/]+)/sub-operations$", path)
        if method == "POST" and match:
            assert signed, "sub-operations are signed peer calls"
            (kind, args), = body.items()
            assert kind in subops.TYPES, kind
            # The caller: the group's other site (its signature checked).
            sender = [s for s in h.sites.values()
                      if s["id"] != self.site["id"]][0]
            with h.as_site(self.site):
                op, created = h.shared_claim(
                    lambda: subops.start(
                        caller.Caller(h.ctx, h.project, peer_site=sender),
                        match.group(1), kind, args))
            if kind in h.background_sub_operations:
                h.source_engine_later(self.site, op["id"])
            else:
                h.source_engine(self.site, op["id"])
            op = ops_db.get_by_id(h.ctx, op["id"])
            return (202 if created else 200), {
                "operation": handler.serialize(req, op)}
        match = re.match(r"^/operations/([^/]+)$", path)
        if method == "GET" and match:
            h.join_source_engine(match.group(1))
            h.source_engine(self.site, match.group(1))
            op = ops_db.get(h.ctx, h.project, match.group(1))
            return 200, {"operation": handler.serialize(req, op)}
        match = re.match(r"^/protection-groups/([^/]+)$", path)
        if method == "GET" and match:
            # The preflight's peer check: the source knows the group.
            pg = pg_db.get(h.ctx, h.project, match.group(1))
            return 200, {"protection_group": {"id": pg["id"],
                                              "name": pg["name"],
                                              "status": pg["status"]}}
        match = re.match(r"^/internal/protection-groups/([^/]+)/metadata$",
                         path)
        if method == "PUT" and match:
            assert signed, "metadata pushes are signed peer calls"
            h.pushes.append((self.site["name"], body["metadata"]["version"]))
            return 200, {"metadata": {"version":
                                      body["metadata"]["version"]}}
        raise AssertionError("FakePeer: no route for %s %s" % (method, path))


# -- the harness -----------------------------------------------------------

def _no_fsync(dbapi_conn, record=None):
    dbapi_conn.execute("PRAGMA synchronous=OFF")


def _fast_sqlite(mp, rows_engine):
    """No fsync per commit on the test's SQLite files (the database and
    the mock array): a scenario commits a few hundred times, and the
    crash safety fsync buys is not what these tests are about. Both
    open a new connection per use, so a connect hook covers them."""
    from protector.db import api as db_api
    from protector.storage import mock as mock_storage
    for engine in (db_api.get_engine(), rows_engine):
        if not sa.event.contains(engine, "connect", _no_fsync):
            sa.event.listen(engine, "connect", _no_fsync)
    real = mock_storage.sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        _no_fsync(conn)
        return conn
    mp.setattr(mock_storage, "sqlite3", types.SimpleNamespace(
        connect=connect, Row=mock_storage.sqlite3.Row))


class TwoSite:
    """A protection group on two fake sites, run by the real engine."""

    # The clouds' class (tests/benchmarks/simcloud.py: one with a latency
    # model and concurrency caps).
    cloud_class = FakeCloud
    # Sub-operations whose queueing request returns at once while the
    # source's engine runs them (``FakePeer``); the others run to their
    # end inside the request, which the functional tests rely on.
    background_sub_operations = frozenset()

    def __init__(self, rows, monkeypatch, members=2, volumes=2, tag=None,
                 width=None):
        self.rows = rows
        self.width = width
        self.ctx = pcontext.get_admin_context()
        self.project = "p-" + (tag or uuid.uuid4().hex[:8])
        self.pushes = []
        self.sub_runs = []
        self.sub_threads = {}
        self.credentials = {}
        self.site_ids = {
            "a": rows.site("twosite-a", "http://twosite-a.invalid/v3",
                           "http://twosite-a.invalid:8788"),
            "b": rows.site("twosite-b", "http://twosite-b.invalid/v3",
                           "http://twosite-b.invalid:8788")}
        self.sites = {k: self._site(v) for k, v in self.site_ids.items()}
        self.clouds = {k: self.cloud_class(self.sites[k], self.project)
                       for k in ("a", "b")}
        self.a, self.b = self.clouds["a"], self.clouds["b"]
        self._install(monkeypatch)
        self.pg_id = self._group(members, volumes)
        self.member_ids = [m["id"] for m in self.members()]

    # -- setup -------------------------------------------------------------

    def _site(self, site_id):
        from protector.db import sites as sites_db
        return sites_db.get(self.ctx, site_id)

    def cloud_of(self, site_id):
        for key, sid in self.site_ids.items():
            if sid == site_id:
                return self.clouds[key]
        raise AssertionError("no fake cloud for site %s" % site_id)

    def _install(self, mp):
        from cryptography import fernet

        from protector.cloud import peer_credentials
        from protector.cloud import probe
        from protector.cloud import tokens
        from protector.cloud import trusts
        from protector.engine import subops
        from protector.engine import tasks
        from protector.engine.tasks import capacity

        def target_cloud(ctx, store, warm=()):
            cloud = self.cloud_of(
                store["operation"]["target_site_id"]).site_cloud()
            cloud.warm(*warm)
            return cloud
        mp.setattr(tasks, "target_cloud", target_cloud)
        mp.setattr(capacity, "service_cloud",
                   lambda cloud: self.cloud_of(
                       cloud.site["id"]).site_cloud())
        mp.setattr(connection.SiteCloud, "from_trust", classmethod(
            lambda cls, site, trust_id: self.cloud_of(
                site["id"]).site_cloud()))
        mp.setattr(connection.SiteCloud, "from_token", classmethod(
            lambda cls, site, token: self.cloud_of(
                site["id"]).site_cloud()))
        mp.setattr(tokens, "cloud_for",
                   lambda req, site: self.cloud_of(site["id"]).site_cloud())
        mp.setattr(probe, "probe", self.probe)
        # Neither fake site is "this service's Keystone" (and the
        # in-process tests have no [keystone_authtoken] options).
        mp.setattr(tokens, "is_local", lambda site: False)
        mp.setattr(trusts, "ensure", lambda req, site: None)
        mp.setattr(subops, "_token_source",
                   lambda operation, site: (lambda: "peer-token"))
        mp.setattr(subops, "_peer",
                   lambda ctx, operation, site, token=None:
                   FakePeer(self, site))
        mp.setattr(subops, "POLL_INTERVAL", 0)
        mp.setattr(subops, "FIRST_POLL", 0)
        mp.setattr(peers, "resolve",
                   lambda req, project_id, site, peer_project=None,
                   signed=True: FakePeer(self, site))
        # The source-site application credential a planned operation
        # keeps (dr/subops.py), made and deleted in a fake Keystone.
        mp.setattr(peer_credentials, "create", self._make_credential)
        mp.setattr(peer_credentials, "delete", self._delete_credential)
        CONF.set_override("token_encryption_key",
                          fernet.Fernet.generate_key().decode(),
                          group="storage")
        _fast_sqlite(mp, self.rows.engine)
        CONF.set_override("use_mock_storage", True)
        CONF.set_override("use_mock_cinder", True)
        if self.width:
            CONF.set_override("max_parallel_instances", self.width,
                              group="engine")

    def _make_credential(self, site, token, purpose):
        from protector.common import crypto
        cred_id = "cred-%d" % len(self.credentials)
        self.credentials[cred_id] = {"site": site["name"],
                                     "purpose": purpose, "deleted": False}
        return {"id": cred_id, "name": "protector-%s-%s" % (purpose,
                                                           cred_id),
                "user_id": "user-" + site["name"],
                "project_id": self.project, "expires_at": None,
                "secret_encrypted": crypto.encrypt("secret-" + cred_id)}

    def _delete_credential(self, site, kept):
        self.credentials[kept["id"]]["deleted"] = True
        return True

    def close(self):
        CONF.clear_override("token_encryption_key", group="storage")
        CONF.clear_override("use_mock_storage")
        CONF.clear_override("use_mock_cinder")
        CONF.clear_override("site_name")
        CONF.clear_override("max_parallel_instances", group="engine")

    def peer_call(self, site, method, path):
        """Hook: a request to ``site``'s protector-api (FakePeer), before
        it is answered. Nothing here."""

    def probe(self, site, timeout=None):
        down = self.cloud_of(site["id"]).down
        return {"keystone": "Keystone unreachable: connection refused"
                if down else None,
                "protector": "protector-api unreachable" if down else None,
                "compatible": None if down else True}

    def _group(self, n_members, n_volumes):
        pg_id = str(uuid.uuid4())
        a, b = self.site_ids["a"], self.site_ids["b"]
        with self.rows.session() as s, s.begin():
            s.add(models.ProtectionGroup(
                id=pg_id, project_id=self.project,
                name="pg-%s" % pg_id[:8], status="active",
                replication_type="async", primary_site_id=a,
                secondary_site_id=b, current_primary_site_id=a,
                # Each fake cloud's replicated type (FakeCloud.volume_types).
                volume_type_id=REPLICATED_TYPE,
                remote_volume_type_id=REPLICATED_TYPE,
                volume_type_name="replicated-async", failover_count=0,
                metadata_version=1, created_at=_now()))
            s.flush()
            for i in range(n_members):
                vols = [{"id": str(uuid.uuid4()),
                         "name": "vm-%d-disk-%d" % (i, j), "size": j + 1,
                         "bootable": j == 0} for j in range(n_volumes)]
                sid = self.a.add_server("vm-%d" % i, vols,
                                        address="10.0.0.%d" % (100 + i))
                member_id = str(uuid.uuid4())
                # As members.add captures it: the port's address, each
                # device's delete_on_termination (the boot volume goes
                # with the server, data volumes stay), each volume's
                # description and metadata.
                config = {"name": "vm-%d" % i, "boot_from_volume": True,
                          "flavor": dict(FLAVOR, original_name="m1.small"),
                          "ports": [{"network_name": NETWORK, "fixed_ips": [
                              {"ip_address": "10.0.0.%d" % (100 + i)}]}],
                          "security_groups": [{"name": "default"}],
                          "metadata": {"app": "web"},
                          "block_device_mapping": [{
                              "volume_id": vol["id"],
                              "delete_on_termination": vol["bootable"]}
                              for vol in vols],
                          "volume_details": {vol["id"]: {
                              "description": "disk of %s" % vol["name"],
                              "metadata": {"owner": "team-%d" % i}}
                              for vol in vols}}
                s.add(models.Member(
                    id=member_id, protection_group_id=pg_id,
                    project_id=self.project, instance_id=sid,
                    instance_name="vm-%d" % i, status="protected",
                    instance_config=json.dumps(config),
                    current_site_id=a, created_at=_now()))
                s.flush()
                for j, vol in enumerate(vols):
                    s.add(models.MemberVolume(
                        id=str(uuid.uuid4()), member_id=member_id,
                        volume_id=vol["id"], volume_name=vol["name"],
                        size_gb=vol["size"], device="/dev/vd%s" % "abc"[j],
                        boot_index=0 if j == 0 else None,
                        bootable=vol["bootable"], created_at=_now()))
            s.add(models.ReplicationPolicy(
                id=str(uuid.uuid4()), protection_group_id=pg_id,
                primary_fa_url="https://fa-a", secondary_fa_url="https://fa-b",
                pure_pg_name="pg-%s" % pg_id[:8], replication_interval=300,
                rpo_minutes=15, created_at=_now()))
        return pg_id

    def set_tiers(self, priorities, delay=0):
        """Member ``vm-<i>`` gets boot tier ``priorities[i]``; the group
        waits ``delay`` seconds between tiers."""
        with self.rows.session() as s, s.begin():
            for i, priority in enumerate(priorities):
                s.execute(sa.update(models.Member).where(
                    models.Member.protection_group_id == self.pg_id,
                    models.Member.instance_name == "vm-%d" % i).values(
                    priority=priority))
            s.execute(sa.update(models.ProtectionGroup).where(
                models.ProtectionGroup.id == self.pg_id).values(
                tier_delay=delay))

    # -- the source site ---------------------------------------------------

    @contextlib.contextmanager
    def as_site(self, site):
        """Code that runs "on" ``site`` (``[DEFAULT] site_name``)."""
        CONF.set_override("site_name", site["name"])
        try:
            yield
        finally:
            CONF.clear_override("site_name")

    def shared_claim(self, fn):
        """Run ``fn`` (which may claim the group for a sub-operation) as
        on the source site's own database: there the parent operation
        does not hold the group. The holder is put back afterwards."""
        holder = self.group()["current_operation_id"]
        self._hold(None)
        try:
            return fn()
        finally:
            self._hold(holder)

    def _hold(self, op_id):
        pg_db.set_values(self.ctx, self.pg_id,
                         {"current_operation_id": op_id})

    def source_engine_later(self, site, op_id):
        """``source_engine`` on a thread of its own: the source site's
        engine runs the sub-operation while the caller goes on (as a
        real one does), until ``join_source_engine``."""
        import threading
        thread = threading.Thread(target=self.source_engine,
                                  args=(site, op_id), daemon=True)
        self.sub_threads[op_id] = thread
        thread.start()

    def join_source_engine(self, op_id):
        thread = self.sub_threads.pop(op_id, None)
        if thread is not None:
            thread.join()

    def source_engine(self, site, op_id):
        """The source site's engine: run the sub-operation if queued
        (claiming the group there while it runs, as it does)."""
        from protector.engine import runner
        op = ops_db.get_by_id(self.ctx, op_id)
        if op is None or op["status"] != "queued":
            return
        host = "engine-" + site["name"]

        def run():
            self._hold(op_id)
            assert ops_db.claim(self.ctx, op_id, host)
            self.sub_runs.append((op["operation_type"], op_id))
            return runner.run_operation(self.ctx, op_id, host)
        self.shared_claim(run)

    # -- operations --------------------------------------------------------

    def req(self, peer_token=None):
        """The caller of the group's project, as the API handlers give it
        to the ``dr`` functions (actions.start, recovery.retry/rollback)."""
        from protector import caller
        return caller.Caller(self.ctx, self.project, peer_token)

    def peer_req(self):
        """A caller that sent its token for the other site
        (``X-Protector-Peer-Token``, the CLI's --secondary-cloud)."""
        return self.req("peer-token")

    def start(self, kind, **args):
        """Queue ``kind`` through the real ``dr.actions.start``."""
        from protector.dr import actions
        if kind in ("failover", "failback"):
            args.setdefault("type", "planned")
        op = actions.start(self.peer_req(), self.pg_id, kind, args)
        return op["id"]

    def run(self, op_id):
        """The operation's target-site engine takes and runs it."""
        from protector.engine import runner
        op = ops_db.get_by_id(self.ctx, op_id)
        site = self._site(op["target_site_id"])
        host = "engine-" + site["name"]
        if op["status"] == "queued":
            assert ops_db.claim(self.ctx, op_id, host), op_id
        return runner.run_operation(self.ctx, op_id, host)

    def do(self, kind, **args):
        op_id = self.start(kind, **args)
        return op_id, self.run(op_id)

    # -- reading -----------------------------------------------------------

    def group(self):
        return pg_db.get_by_id(self.ctx, self.pg_id)

    def members(self):
        return members_db.list_all(self.ctx, self.pg_id)

    def operation(self, op_id):
        return ops_db.get_by_id(self.ctx, op_id)

    def step_status(self, op_id):
        return {s["name"]: s["status"]
                for s in self.operation(op_id)["steps"]}

    def inventory(self):
        return {k: c.inventory() for k, c in self.clouds.items()}

    def _member_of(self, key, server):
        """The member a server runs (original instance or Protector's
        copy), or None; DR test copies are not the workload."""
        if server["name"].endswith("-drtest"):
            return None
        if server["member"]:
            return server["member"]
        return self._originals.get(server["id"])

    @property
    def _originals(self):
        return {m["instance_id"]: m["id"] for m in self.members()}

    def running(self):
        """member id -> [(site, server id)] of its ACTIVE instances."""
        out = {m: [] for m in self.member_ids}
        for key, inv in self.inventory().items():
            for srv in inv["servers"]:
                member = self._member_of(key, srv)
                if member in out and srv["status"] == "ACTIVE":
                    out[member].append((key, srv["id"]))
        return out

    def workloads_down(self):
        """Members with no ACTIVE instance on either site."""
        return sorted(m for m, where in self.running().items()
                      if not where)

    def duplicates(self):
        """Extra copies: per site, Protector-built servers beyond one per
        member (tests and workload counted apart), volume copies beyond
        one per source volume, test networks beyond one per name and
        subnets beyond one per network and name."""
        dup = {"servers": 0, "volumes": 0, "networks": 0}
        for key, inv in self.inventory().items():
            seen = {}
            for srv in inv["servers"]:
                if srv["member"]:
                    tag = (srv["member"], srv["name"].endswith("-drtest"))
                    seen[tag] = seen.get(tag, 0) + 1
            dup["servers"] += sum(n - 1 for n in seen.values() if n > 1)
            seen = {}
            for vol in inv["volumes"]:
                if vol["copy_of"]:
                    tag = (vol["copy_of"], self.operation(vol["operation"])[
                        "operation_type"] == "test_failover")
                    seen[tag] = seen.get(tag, 0) + 1
            dup["volumes"] += sum(n - 1 for n in seen.values() if n > 1)
            seen = {}
            for net in inv["networks"]:
                seen[net["name"]] = seen.get(net["name"], 0) + 1
            for sub in inv["subnets"]:
                tag = (sub["network_id"], sub["name"])
                seen[tag] = seen.get(tag, 0) + 1
            dup["networks"] += sum(n - 1 for n in seen.values() if n > 1)
        return dup

    def made_by(self, op_id):
        """What is left on each site that ``op_id`` made (servers by
        metadata, volumes and networks by its recovery records and the
        names derived from its ID)."""
        recorded = {r["resource_id"] for r in dr_db.resources(
            self.ctx, op_id=op_id) if r["resource_id"]}
        out = {}
        for key, inv in self.inventory().items():
            left = [("server", s["id"]) for s in inv["servers"]
                    if s["operation"] == op_id or s["id"] in recorded]
            left += [("volume", v["id"]) for v in inv["volumes"]
                     if v["id"] in recorded or v["operation"] == op_id]
            left += [("network", n["id"]) for n in inv["networks"]
                     if n["id"] in recorded or op_id[:8] in n["name"]]
            left += [("subnet", n["id"]) for n in inv["subnets"]
                     if n["id"] in recorded or op_id[:8] in n["name"]]
            out[key] = left
        return out
