"""Nova and Neutron work on the target site.

Every server and network is recorded as a ``RecoveryResource`` before it
is created and carries the operation's ID in its metadata/description, so
a re-run finds it (by record, else by name and marker) instead of creating
a duplicate, and test cleanup removes exactly what the test made.

Instances are rebuilt tier by tier (doc/engine.md "Boot tiers"): the
members of one ``priority`` form a tier, lowest first; a tier starts once
every VM of the tier before it is ACTIVE or has failed, and the group's
``tier_delay`` seconds after that. Within a tier the VMs are built in
parallel, as many at a time as the target's compute hosts build
(``capacity.build_width``). A failed
VM does not stop the later tiers; the step fails at the end with the
first error. The timings go to the operation's ``tiers`` as they happen.
"""
import ipaddress
import threading
import time

from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from protector.common import fanout
from protector.common import times
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.db import operations as ops_db
from protector.engine import flows
from protector.engine import tasks
from protector.engine.tasks import capacity
from protector.engine.tasks import storage_tasks
from protector import exception
from protector.pgroups import capture

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
MARKER = "protector_operation"
SERVER_TIMEOUT = 900


def _flavor_name(config):
    flavor = config.get("flavor") or {}
    return flavor.get("original_name") or flavor.get("name")


def _same_shape(conn, captured):
    """A drill keeps the source flavor: the target flavor with its vCPUs,
    RAM and disk when the target names it differently (pgroups/capture.py)."""
    shape = capture.flavor_shape(captured)
    for flavor in conn.compute.flavors():
        if shape is not None and capture.flavor_shape(flavor) == shape:
            return flavor
    return None


def _find_server(conn, rec, name, op_id):
    if rec.get("new"):
        # Recorded by this run: no earlier run can have made it (a listing
        # by name per VM, a regex over the project's instances, saved).
        return None
    if rec.get("resource_id"):
        server = conn.compute.find_server(rec["resource_id"],
                                          ignore_missing=True)
        if server is not None and server.status != "ERROR":
            return server
    for server in conn.compute.servers(name="^%s$" % name):
        if (server.metadata or {}).get(MARKER) == op_id and \
                server.status != "ERROR":
            return server
    return None


class Lookups:
    """Answers that are the same for every VM of one recreate step (the
    flavor by name, a network by name, a network's subnets, a security
    group by name), asked once per step instead of once per VM; the
    threads building VMs share it. Not kept across steps: a retried step
    asks again."""

    def __init__(self):
        self._lock = threading.Lock()
        self._known = {}
        self._pending = {}

    def get(self, key, fetch):
        with self._lock:
            if key in self._known:
                return self._known[key]
            event = self._pending.get(key)
            if event is None:
                event = self._pending[key] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            # Another VM is asking the same question: wait for its answer
            # (if it failed, ask again).
            event.wait()
            with self._lock:
                if key in self._known:
                    return self._known[key]
            return fetch()
        try:
            value = fetch()
            with self._lock:
                self._known[key] = value
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            event.set()


def _free_fixed_ip(conn, network_id, port, lookups=None):
    """The port's original fixed IP if a subnet of the target network
    contains it and no port there holds it, else None (Neutron picks).
    Not on a shared network: the ports of other projects that may hold
    the address are invisible to this one, and a taken address would
    fail the build on every retry."""
    if not any(f.get("ip_address") for f in port.get("fixed_ips") or []):
        return None  # nothing captured to keep: no Neutron call
    lookups = lookups or Lookups()
    net = lookups.get(("network", network_id),
                      lambda: conn.network.get_network(network_id))
    if getattr(net, "is_shared", False):
        return None
    subnets = lookups.get(("subnets", network_id), lambda: list(
        conn.network.subnets(network_id=network_id)))
    for fixed in port.get("fixed_ips") or []:
        address = fixed.get("ip_address")
        if not address:
            continue
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        for subnet in subnets:
            try:
                inside = ip in ipaddress.ip_network(subnet.cidr)
            except (TypeError, ValueError):
                inside = False
            if inside and not list(conn.network.ports(
                    network_id=network_id,
                    fixed_ips=["ip_address=%s" % address])):
                return address
    return None


def _networks(conn, config, mapping, test_network, keep_ips=True,
              lookups=None):
    """Nova's ``networks`` of the rebuilt server: one NIC per captured
    port, on the mapped network (or the test network), keeping the port's
    fixed IP where the target subnet has it free (``keep_fixed_ips``)."""
    lookups = lookups or Lookups()
    nets = []
    for port in config.get("ports") or []:
        if test_network:
            net_id = test_network
        else:
            src = port.get("network_name")
            dst = mapping.get(src, src)
            net = lookups.get(("network name", dst), lambda: (
                conn.network.find_network(dst, ignore_missing=True)))
            if net is None:
                raise exception.PreconditionUnmapped(
                    what="network", names=src, pg="(this group)",
                    site="target")
            net_id = net.id
        nic = {"uuid": net_id}
        address = _free_fixed_ip(conn, net_id, port, lookups) \
            if keep_ips else None
        if address:
            nic["fixed_ip"] = address
        nets.append(nic)
    return nets


def _delete_on_termination(config, volume_id, purpose):
    """A recovered device keeps the original's flag (deleting the
    recovered server then does what deleting the original did); a drill's
    copies are Protector's, removed by test cleanup, so they never go with
    the server."""
    if purpose == "test":
        return False
    for dev in config.get("block_device_mapping") or []:
        if dev.get("volume_id") == volume_id:
            return bool(dev.get("delete_on_termination"))
    return False


def _target_image(cloud, config, name):
    """The target's image of an image-booted member: the one with the
    source image's name (its root disk was never on a replicated volume;
    any data written to it since boot is not recovered)."""
    image_name = config.get("image_name")
    if not image_name:
        raise exception.ImageNotCaptured(instance=name)
    with cloud.guard("image"):
        image = cloud.conn.image.find_image(image_name, ignore_missing=True)
    if image is None:
        raise exception.TargetImageMissing(image=image_name, instance=name,
                                           site=cloud.site["name"])
    return image


def _build_one(ctx, store, cloud, member, copies_of, purpose,
               test_network, lookups=None):
    operation = tasks.op(store)
    params = tasks.params(store)
    conn = cloud.conn
    lookups = lookups or Lookups()
    config = member["instance_config"] or {}
    name = config.get("name") or member["instance_name"] or member["id"]
    if purpose == "test":
        name = "%s-drtest" % name
    rec = dr_db.intend_resource(
        ctx, operation["id"], operation["protection_group_id"],
        operation["target_site_id"], "server", "server:%s" % member["id"],
        {"purpose": purpose, "member_id": member["id"], "name": name})
    with cloud.guard("compute"):
        server = _find_server(conn, rec, name, operation["id"])
    made = server is None
    if server is None:
        for vol in member["volumes"]:
            if vol["volume_id"] not in copies_of.volumes:
                raise exception.StorageError(
                    driver="engine", reason="volume %s of member %s has no "
                    "copy on the target" % (vol["volume_id"], member["id"]))
        # This VM's own copies, once asked for and ready (the others are
        # still being asked for and made: a pipeline per VM).
        ready = storage_tasks.wait_copies(ctx, store, cloud, member,
                                          copies_of, purpose)
        bdm = []
        for vol in member["volumes"]:
            bdm.append({"uuid": ready[vol["volume_id"]],
                        "source_type": "volume",
                        "destination_type": "volume",
                        "boot_index": vol["boot_index"]
                        if vol["boot_index"] is not None else -1,
                        "delete_on_termination": _delete_on_termination(
                            config, vol["volume_id"], purpose)})
        image = None
        if not any(b["boot_index"] == 0 for b in bdm):
            image = _target_image(cloud, config, name)
        src_flavor = _flavor_name(config)
        flavor_name = (params.get("flavor_mapping") or {}).get(
            src_flavor, src_flavor)
        with cloud.guard("compute"):
            flavor = lookups.get(("flavor", flavor_name), lambda: (
                conn.compute.find_flavor(flavor_name, ignore_missing=True)))
            if flavor is None and purpose == "test":
                flavor = _same_shape(conn, config.get("flavor") or {})
        if flavor is None:
            raise exception.PreconditionUnmapped(
                what="flavor", names=src_flavor, pg=operation[
                    "protection_group_name"], site=cloud.site["name"])
        with cloud.guard("network"):
            networks = _networks(
                conn, config, params.get("network_mapping") or {},
                test_network, params.get("keep_fixed_ips", True), lookups)
            sgs = [{"name": sg["name"]} for sg in
                   config.get("security_groups") or []
                   if lookups.get(("security group", sg["name"]),
                                  lambda sg=sg: conn.network.
                                  find_security_group(sg["name"],
                                                      ignore_missing=True))]
        metadata = dict(config.get("metadata") or {})
        metadata.update({MARKER: operation["id"],
                         "protector_member": member["id"]})
        attrs = {"name": name, "flavor_id": flavor.id,
                 "networks": networks or "none", "metadata": metadata}
        if bdm:
            attrs["block_device_mapping"] = bdm
        if image is not None:
            # The root disk comes from the image (a local boot device);
            # the replicated volumes are attached as data disks.
            attrs["image_id"] = image.id
            attrs["block_device_mapping"] = [{
                "boot_index": 0, "uuid": image.id, "source_type": "image",
                "destination_type": "local",
                "delete_on_termination": True}] + bdm
        if sgs:
            attrs["security_groups"] = sgs
        if config.get("key_name"):
            with cloud.guard("compute"):
                if conn.compute.find_keypair(config["key_name"],
                                             ignore_missing=True):
                    attrs["key_name"] = config["key_name"]
        with cloud.guard("compute"):
            server = conn.compute.create_server(**attrs)
    dr_db.record_resource(ctx, rec["id"], server.id,
                          details=dict(rec["details"], name=name))
    with cloud.guard("compute"):
        try:
            server = conn.compute.wait_for_server(server, status="ACTIVE",
                                                  interval=1,
                                                  wait=SERVER_TIMEOUT)
        except sdk_exc.ResourceFailure as exc:
            raise exception.CloudServiceError(
                service="Nova", site=cloud.site["name"],
                reason="instance %s did not become ACTIVE: %s" % (name, exc))
    return server.id, made


class TierLog:
    """The tiers of one run of a recreate step, as ``operation show``
    gives them (``tiers``, microversion 1.4): per tier its priority,
    status (pending, waiting, running, completed, failed), the delay
    waited before it, when it started and finished; per VM its status
    (pending, building, active, failed), when its build started, when it
    became ACTIVE or failed, the seconds in between and the error.

    Saved in the operation's result when a tier starts, waits or ends, and
    when a VM is done, but then at most every ``SAVE_INTERVAL`` seconds:
    the record of a large group is large, and its VMs finish in parallel
    (one lock for the state, one for the writes, so that a later state is
    never overwritten by an earlier one)."""

    SAVE_INTERVAL = 5.0

    def __init__(self, ctx, op_id, tiers):
        self.ctx, self.op_id = ctx, op_id
        self.lock = threading.Lock()
        self.saving = threading.Lock()
        self.saved_at = None
        self.clock = {}  # tier index or (index, member id) -> monotonic
        self.made = {}  # member id -> whether this run created its server
        self.tiers = [{
            "tier": index + 1, "priority": priority, "status": "pending",
            "delay_seconds": 0, "started_at": None, "finished_at": None,
            "duration_seconds": None,
            "instances": [{
                "member_id": m["id"], "instance_name": m["instance_name"],
                "server_id": None, "status": "pending", "started_at": None,
                "active_at": None, "failed_at": None, "seconds": None,
                "error": None} for m in members]}
            for index, (priority, members) in enumerate(tiers)]
        self.vms = {(index, vm["member_id"]): vm
                    for index, tier in enumerate(self.tiers)
                    for vm in tier["instances"]}
        self.save()

    def save(self, force=True):
        with self.saving:
            now = time.monotonic()
            if not force and self.saved_at is not None and \
                    now - self.saved_at < self.SAVE_INTERVAL:
                return
            self.saved_at = now
            with self.lock:
                snapshot = [dict(t, instances=[dict(i) for i in
                                               t["instances"]])
                            for t in self.tiers]
            try:
                ops_db.update_result(self.ctx, self.op_id,
                                     {"tiers": snapshot})
            except Exception:  # timings only: the recovery goes on
                LOG.warning("Could not record the boot tiers of operation "
                            "%s", self.op_id, exc_info=True)

    def waiting(self, index, delay):
        with self.lock:
            self.tiers[index].update(status="waiting", delay_seconds=delay)
        self.save()

    def tier_started(self, index):
        with self.lock:
            self.tiers[index].update(status="running", started_at=_now())
            self.clock[index] = time.monotonic()
        self.save()

    def tier_finished(self, index):
        with self.lock:
            tier = self.tiers[index]
            failed = any(i["status"] == "failed" for i in tier["instances"])
            tier.update(status="failed" if failed else "completed",
                        finished_at=_now(), duration_seconds=round(
                            time.monotonic() - self.clock[index], 3))
        self.save()

    def vm_started(self, index, member_id):
        # Saved with the next save (a VM done, the tier's end).
        with self.lock:
            self.vms[index, member_id].update(status="building",
                                              started_at=_now())
            self.clock[index, member_id] = time.monotonic()

    def vm_done(self, index, member_id, server_id=None, made=False,
                error=None):
        with self.lock:
            seconds = round(time.monotonic() -
                            self.clock[index, member_id], 3)
            vm = self.vms[index, member_id]
            if error is None:
                vm.update(status="active", server_id=server_id,
                          active_at=_now(), seconds=seconds)
                self.made[member_id] = made
            else:
                vm.update(status="failed", failed_at=_now(),
                          seconds=seconds, error=getattr(
                              error, "message", None) or str(error))
        self.save(force=False)

    def all_found(self, index):
        """Whether every VM of tier ``index`` was already built by an
        earlier run of the step (then a re-run need not wait again)."""
        with self.lock:
            return all(i["status"] == "active" and
                       not self.made.get(i["member_id"])
                       for i in self.tiers[index]["instances"])

    def servers(self):
        with self.lock:
            return {i["member_id"]: i["server_id"] for t in self.tiers
                    for i in t["instances"] if i["status"] == "active"}


def _now():
    return times.isotime(timeutils.utcnow())


def tiers_of(members):
    """[(priority, [members])], lowest priority first; members keep
    their order within a tier."""
    by_priority = {}
    for member in members:
        priority = member.get("priority") or members_db.DEFAULT_PRIORITY
        by_priority.setdefault(priority, []).append(member)
    return sorted(by_priority.items())


def _recreate(ctx, store, purpose, volumes, test_network=None):
    operation = tasks.op(store)
    members = members_db.list_all(ctx, operation["protection_group_id"])
    delay = tasks.group(ctx, store)["tier_delay"] or 0
    # Nova, Neutron and Cinder (the copies' wait) from many threads.
    cloud = tasks.target_cloud(ctx, store, warm=(
        "compute", "network", "block-storage"))
    tiers = tiers_of(members)
    log = TierLog(ctx, operation["id"], tiers)
    # A re-run uses the copies made, and those that replaced failed ones.
    volumes = storage_tasks.copy_mapping(ctx, store, volumes)
    copies_of = storage_tasks.CopyRequests(
        ctx, store, cloud, purpose, [m for _, tier in tiers for m in tier],
        volumes)
    try:
        errors = _tiers(ctx, store, cloud, tiers, log, delay, copies_of,
                        purpose, test_network)
    finally:
        copies_of.close()
    if errors:
        raise errors[0]
    # ``copies``: each source volume's copy, for ``operation show`` (the
    # steps after this one read them from the records: copy_mapping).
    return {"servers": log.servers(), "copies": storage_tasks.copy_mapping(
        ctx, store, volumes)}


def _tiers(ctx, store, cloud, tiers, log, delay, copies_of, purpose,
           test_network):
    operation = tasks.op(store)
    width = capacity.build_width(store, cloud)
    lookups = Lookups()
    errors = []
    for index, (priority, tier) in enumerate(tiers):
        # The tier before has ended (every VM ACTIVE or failed); a re-run
        # that found all of it built does not wait again.
        if index and delay and not log.all_found(index - 1):
            log.waiting(index, delay)
            LOG.info("Operation %s: waiting %d s before boot tier %d "
                     "(priority %d)", operation["id"], delay, index + 1,
                     priority)
            flows.pause(delay)
        log.tier_started(index)

        def build(member, index=index):
            log.vm_started(index, member["id"])
            try:
                server_id, made = _build_one(ctx, store, cloud, member,
                                             copies_of, purpose,
                                             test_network, lookups)
            except Exception as exc:
                log.vm_done(index, member["id"], error=exc)
                raise
            log.vm_done(index, member["id"], server_id, made)
        try:
            fanout.run(build, tier, width)
        except Exception as exc:  # the later tiers still start
            errors.append(exc)
        log.tier_finished(index)
    return errors


def recreate_instances(ctx, store):
    return _recreate(ctx, store, "failover",
                     flows.read(store, "volumes") or {})


def create_test_instances(ctx, store):
    # network_id: None when create_test_network was skipped (the
    # network mapping applies).
    return _recreate(ctx, store, "test", flows.read(store, "volumes") or {},
                     flows.read(store, "network_id"))


def create_test_network(ctx, store):
    """--auto-network: an isolated network (no router) for the drill."""
    if not tasks.params(store).get("auto_network"):
        raise flows.Skip("network mapping given; no test network needed")
    operation = tasks.op(store)
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn
    name = "protector-drtest-%s" % operation["id"][:8]
    out = {}
    for rtype, create in (
            ("network", lambda: conn.network.create_network(
                name=name, description="%s=%s" % (MARKER, operation["id"]))),
            ("subnet", lambda: conn.network.create_subnet(
                name=name, network_id=out["network_id"], ip_version=4,
                cidr="192.168.254.0/24", gateway_ip=None))):
        rec = dr_db.intend_resource(
            ctx, operation["id"], operation["protection_group_id"],
            operation["target_site_id"], rtype, rtype, {"name": name})
        with cloud.guard("network"):
            found = None
            if rec["resource_id"]:
                finder = getattr(conn.network, "find_" + rtype)
                found = finder(rec["resource_id"], ignore_missing=True)
            else:
                # A create whose answer was lost (timeout, crash before the
                # record): find it instead of making a second one.
                found = _made_network(conn, rtype, name, operation["id"],
                                      out.get("network_id"))
            if found is None:
                found = create()
        dr_db.record_resource(ctx, rec["id"], found.id)
        out[rtype + "_id"] = found.id
    return out


def _made_network(conn, rtype, name, op_id, network_id):
    """The test network (by name and the operation marker in its
    description) or its subnet (by name, in that network) that an earlier
    run of this step made, or None."""
    if rtype == "network":
        marker = "%s=%s" % (MARKER, op_id)
        found = [n for n in conn.network.networks(name=name)
                 if (n.description or "") == marker]
    else:
        found = [s for s in conn.network.subnets(network_id=network_id)
                 if s.name == name]
    return found[0] if found else None


def _delete_recorded(ctx, store, rtypes):
    test_id = tasks.params(store).get("test_operation_id")
    rows = [r for rtype in rtypes for r in dr_db.resources(
        ctx, op_id=test_id, rtype=rtype, exclude_status="deleted")]
    if not rows:
        raise flows.Skip("the test made no %s" % "/".join(rtypes))
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn
    deleted = []
    for row in rows:
        if row["resource_id"]:
            if row["resource_type"] == "server":
                with cloud.guard("compute"):
                    server = conn.compute.find_server(row["resource_id"],
                                                      ignore_missing=True)
                    if server is not None:
                        conn.compute.delete_server(server)
                        conn.compute.wait_for_delete(server,
                                                     wait=SERVER_TIMEOUT)
            else:
                with cloud.guard("network"):
                    getattr(conn.network, "delete_" + row["resource_type"])(
                        row["resource_id"], ignore_missing=True)
        dr_db.record_resource(ctx, row["id"], row["resource_id"],
                              status="deleted")
        deleted.append(row["resource_id"])
    return {"deleted": deleted}


def delete_test_instances(ctx, store):
    return _delete_recorded(ctx, store, ("server",))


def delete_test_networks(ctx, store):
    # Subnets before their network.
    return _delete_recorded(ctx, store, ("subnet", "network"))
