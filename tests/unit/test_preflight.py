"""The preflight checks (preflight/__init__.py, target_checks.py,
site_checks.py, quotas.py) against small fake clouds: every check's
ok/warn/fail and the code a refusal carries, the quota math, and the
engine's validate_sites."""
import contextlib
import types

from openstack import exceptions as sdk_exc
from oslo_config import cfg
import pytest

from protector import conf
from protector import preflight
from protector.preflight import check_rows
from protector.preflight import quotas
from protector.preflight import site_checks
from protector.preflight import target_checks
from protector import exception

NS = types.SimpleNamespace
SITE_A = {"id": "site-a-id", "name": "site-a"}
SITE_B = {"id": "site-b-id", "name": "site-b"}


@pytest.fixture(autouse=True)
def config():
    conf.register_opts(cfg.CONF)
    yield cfg.CONF
    cfg.CONF.reset()
    cfg.CONF.clear_override("use_mock_storage")
    cfg.CONF.clear_override("use_mock_cinder")
    cfg.CONF.clear_override("auth_strategy", group="api")


def member(i=0, volumes=2, size=1, flavor="m1.small", ports=1, **config):
    cfg_ = {"name": "vm%d" % i, "flavor": {"original_name": flavor,
                                            "vcpus": 1, "ram": 512,
                                            "disk": 1},
            "ports": [{"network_name": "net-a"}] * ports}
    cfg_.update(config)
    return {"id": "m%d" % i, "instance_name": "vm%d" % i,
            "instance_config": cfg_,
            "volumes": [{"volume_id": "v%d-%d" % (i, n), "size_gb": size,
                         "boot_index": 0 if n == 0 else None,
                         "bootable": n == 0} for n in range(volumes)]}


def group(**kw):
    pg = {"id": "pg-id", "name": "web", "project_id": "P1",
          "status": "active", "current_operation_id": None,
          "active_test_operation_id": None, "has_policy": True,
          "member_count": 3, "replication_type": "async",
          "primary_site_id": SITE_A["id"], "secondary_site_id": SITE_B["id"],
          "current_primary_site_id": SITE_A["id"],
          "volume_type_id": "vt-a", "volume_type_name": "replicated",
          "remote_volume_type_id": "vt-b"}
    pg.update(kw)
    return pg


class Cloud:
    """A SiteCloud: ``conn`` of fake services, a guard that passes."""

    def __init__(self, site=SITE_B, project="P1", **services):
        self.site = site
        self.project_id = project
        self.conn = NS(**services)

    @contextlib.contextmanager
    def guard(self, service):
        yield


def net(name, id_=None):
    return NS(name=name, id=id_ or "id-" + name)


def flavor(name, vcpus=1, ram=512, disk=1):
    return NS(name=name, id="id-" + name, vcpus=vcpus, ram=ram, disk=disk)


def fails(*args, **kwargs):
    raise RuntimeError("the listing was refused")


def context(kind="failover", args=None, members=None, cloud=None,
            pg=None, engine=False, peer=None, service_cloud=None,
            monkeypatch=None, target=SITE_B, source=SITE_A):
    """A preflight.Context without a database (members given here)."""
    def target_cloud():
        if isinstance(cloud, Exception):
            raise cloud
        return cloud
    pc = preflight.Context(None, None, kind, args or {}, target, source,
                           target_cloud, peer=peer,
                           service_cloud=service_cloud, engine=engine)
    pc.pg = pg or group()
    pc.members = [member(i) for i in range(3)] if members is None \
        else members
    return pc


def by_name(rows):
    return {r["check"]: r for r in rows}


# -- the group and the operation -------------------------------------------

def test_a_running_operation_is_the_409_conflict(monkeypatch):
    from protector.db import operations as ops_db
    monkeypatch.setattr(ops_db, "get_by_id", lambda ctx, op_id: {
        "operation_type": "failover", "status": "running"})
    pc = context(pg=group(current_operation_id="op-1"))
    rows = preflight.check_operation(pc)
    assert [(r["check"], r["result"]) for r in rows] == [
        ("no_running_operation", "fail")]
    assert rows[0]["error"].code == "protector.operation.conflict"
    assert "op-1" in rows[0]["detail"]


@pytest.mark.parametrize("kind,code", [
    ("test_failover", "protector.operation.test_active"),
    ("failover", "protector.precondition.test_active"),
    ("failback", "protector.precondition.test_active")])
def test_an_active_test_fails_every_action(kind, code):
    rows = by_name(preflight.check_operation(context(
        kind, pg=group(active_test_operation_id="t-1"))))
    assert rows["no_running_operation"]["result"] == "ok"
    assert rows["no_active_test"]["result"] == "fail"
    assert rows["no_active_test"]["error"].code == code


def test_the_engine_skips_the_operation_checks():
    # The running operation holds the group itself.
    pc = context(pg=group(current_operation_id="me", status="failing_over"),
                 engine=True)
    assert preflight.check_operation(pc) == []
    assert by_name(preflight.check_group(pc))["group_status"]["result"] \
        == "ok"


@pytest.mark.parametrize("changes,check,code", [
    ({"status": "failed_over"}, "group_status",
     "protector.precondition.invalid_status"),
    ({"has_policy": False}, "replication_policy",
     "protector.precondition.no_policy"),
    ({"member_count": 0}, "members", "protector.precondition.no_members")])
def test_group_checks_keep_their_codes(changes, check, code):
    rows = by_name(preflight.check_group(context(pg=group(**changes))))
    assert rows[check]["result"] == "fail"
    assert rows[check]["error"].code == code
    assert all(r["result"] == "ok" for name, r in rows.items()
               if name != check)


def test_members_row_counts_members_and_volumes():
    rows = by_name(preflight.check_group(context()))
    assert rows["members"]["detail"] == "3 member(s), 6 volume(s)"


def test_a_failed_group_check_skips_the_cloud_checks():
    built = []
    pc = context(pg=group(has_policy=False))
    pc._target_cloud = lambda: built.append(1)
    report = preflight.run(pc)
    assert report["ok"] is False
    assert built == []
    assert {r["check"] for r in report["checks"]} == {
        "no_running_operation", "no_active_test", "group_status",
        "replication_policy", "members"}


def test_run_turns_a_raising_check_into_a_warning(monkeypatch):
    def boom(pc):
        raise KeyError("volume_type_id")

    def fine(pc):
        return [check_rows.row("fine", "ok", "yes")]
    monkeypatch.setattr(preflight, "CLOUD_CHECKS", (boom, fine))
    report = preflight.run(context())
    rows = by_name(report["checks"])
    assert report["ok"] is True
    assert rows["boom"]["result"] == "warn"
    assert "not checked" in rows["boom"]["detail"]
    assert rows["fine"]["result"] == "ok"


# -- mappings ----------------------------------------------------------------

def mapping_cloud(networks=("net-b",), flavors=("m2.small",)):
    return Cloud(network=NS(networks=lambda: [net(n) for n in networks]),
                 compute=NS(flavors=lambda: [flavor(f) for f in flavors]))


def test_unmapped_network_missing_on_the_target_fails():
    rows = by_name(target_checks.check_mappings(context(
        args={"flavor_mapping": {"m1.small": "m2.small"}},
        cloud=mapping_cloud())))
    assert rows["networks"]["result"] == "fail"
    assert rows["networks"]["error"].code == \
        "protector.precondition.unmapped_network"
    assert "net-a" in rows["networks"]["detail"]
    assert rows["flavors"] == dict(rows["flavors"], result="ok",
                                   detail="m2.small")


def test_a_mapping_to_a_name_the_target_lacks_fails():
    rows = by_name(target_checks.check_mappings(context(
        args={"network_mapping": {"net-a": "net-x"},
              "flavor_mapping": {"m1.small": "m2.small"}},
        cloud=mapping_cloud())))
    assert rows["networks"]["result"] == "fail"
    assert "net-a=net-x" in rows["networks"]["detail"]
    assert rows["networks"]["error"].code == \
        "protector.precondition.unmapped_network"


def test_a_mapping_may_name_the_target_by_id():
    rows = by_name(target_checks.check_mappings(context(
        args={"network_mapping": {"net-a": "id-net-b"},
              "flavor_mapping": {"m1.small": "id-m2.small"}},
        cloud=mapping_cloud())))
    assert rows["networks"]["result"] == rows["flavors"]["result"] == "ok"


def test_unlisted_target_unmapped_fails_mapped_warns():
    cloud = Cloud(network=NS(networks=fails), compute=NS(flavors=fails))
    rows = by_name(target_checks.check_mappings(context(
        args={"network_mapping": {"net-a": "net-b"}}, cloud=cloud)))
    # The older rule: a name that cannot be confirmed is missing.
    assert rows["flavors"]["result"] == "fail"
    assert "could not be listed" in rows["flavors"]["detail"]
    assert rows["networks"]["result"] == "warn"


def test_a_drill_keeps_source_flavors_or_a_same_shape_twin():
    cloud = Cloud(network=NS(networks=lambda: [net("net-a")]),
                  compute=NS(flavors=lambda: [flavor("m2.small")]))
    rows = by_name(target_checks.check_mappings(context(
        "test_failover", cloud=cloud)))
    assert rows["flavors"]["result"] == "ok"
    cloud.conn.compute = NS(flavors=lambda: [flavor("m2.big", vcpus=8)])
    rows = by_name(target_checks.check_mappings(context(
        "test_failover", cloud=cloud)))
    assert rows["flavors"]["result"] == "fail"
    assert rows["flavors"]["error"].code == \
        "protector.precondition.unmapped_flavor"


def test_auto_network_needs_no_network_mapping():
    rows = by_name(target_checks.check_mappings(context(
        "test_failover", {"auto_network": True},
        cloud=mapping_cloud(flavors=("m1.small",)))))
    assert rows["networks"]["result"] == "ok"
    assert "--auto-network" in rows["networks"]["detail"]


# -- images ------------------------------------------------------------------

def image_cloud(*names):
    return Cloud(image=NS(images=lambda: [NS(name=n) for n in names]))


def image_booted(i, image_name="ubuntu"):
    m = member(i, boot_from_volume=False, image_name=image_name)
    for vol in m["volumes"]:
        vol.update(boot_index=None, bootable=False)
    return m


def test_image_of_an_image_booted_member_missing_fails():
    rows = by_name(target_checks.check_images(context(
        members=[image_booted(0), member(1)], cloud=image_cloud("cirros"))))
    assert rows["images"]["result"] == "fail"
    assert rows["images"]["error"].code == \
        "protector.precondition.image_missing"
    assert "ubuntu" in rows["images"]["detail"]
    rows = by_name(target_checks.check_images(context(
        members=[image_booted(0)], cloud=image_cloud("ubuntu"))))
    assert rows["images"] == dict(rows["images"], result="ok",
                                  detail="ubuntu")


def test_an_uncaptured_image_name_fails_before_anything_is_made():
    rows = by_name(target_checks.check_images(context(
        members=[image_booted(0, image_name=None)],
        cloud=image_cloud("ubuntu"))))
    assert rows["images"]["result"] == "fail"
    assert rows["images"]["error"].code == \
        "protector.precondition.image_not_captured"
    assert "vm0" in rows["images"]["detail"]


def test_mock_storage_needs_the_image_bootable_copies_come_from(config):
    config.set_override("use_mock_storage", True)
    rows = by_name(target_checks.check_images(context(
        cloud=image_cloud("ubuntu"))))
    assert rows["mock_images"]["result"] == "fail"
    assert "cirros" in rows["mock_images"]["detail"]
    assert rows["mock_images"]["error"].code == \
        "protector.precondition.image_missing"
    rows = by_name(target_checks.check_images(context(
        cloud=image_cloud("cirros"))))
    assert rows["mock_images"]["result"] == "ok"


def test_no_image_needed_and_unlisted_images():
    assert target_checks.check_images(context(cloud=image_cloud()))[0][
        "result"] == "ok"  # pure storage, volume-booted members
    rows = target_checks.check_images(context(
        members=[image_booted(0)], cloud=Cloud(image=NS(images=fails))))
    assert rows[0]["result"] == "warn"
    assert "not checked" in rows[0]["detail"]


# -- volume type -------------------------------------------------------------

def type_cloud(types_):
    def find_type(ident, ignore_missing=True):
        return types_.get(ident)
    return Cloud(block_storage=NS(find_type=find_type))


def vtype(id_, specs):
    return NS(id=id_, name="replicated", extra_specs=specs)


REPLICATED = {"replication_enabled": "<is> True",
              "replication_type": "<in> async"}


def test_the_target_volume_type_must_replicate():
    # The target is the secondary site: its type is remote_volume_type_id.
    cloud = type_cloud({"vt-b": vtype("vt-b", REPLICATED),
                        "vt-a": vtype("vt-a", {})})
    rows = target_checks.check_volume_type(context(cloud=cloud))
    assert rows[0]["result"] == "ok", rows
    rows = target_checks.check_volume_type(context(
        cloud=type_cloud({"vt-b": vtype("vt-b", {})})))
    assert rows[0]["result"] == "fail"
    assert rows[0]["error"].code == "protector.precondition.volume_type"
    assert rows[0]["error"].kind == "precondition"  # 412, not 400
    assert "replication_enabled" in rows[0]["detail"]


def test_a_missing_volume_type_fails_and_the_primary_uses_its_own():
    rows = target_checks.check_volume_type(context(
        cloud=type_cloud({}), target=SITE_A))
    assert rows[0]["result"] == "fail"
    assert "vt-a" in rows[0]["detail"]
    rows = target_checks.check_volume_type(context(
        cloud=type_cloud({"vt-a": vtype("vt-a", REPLICATED)}),
        target=SITE_A))
    assert rows[0]["result"] == "ok"


def test_mock_cinder_still_reads_the_sites_volume_type(tmp_path):
    """use_mock_cinder simulates the consistency groups only: the type
    comes from the target's own Cinder (not fixed mock types)."""
    cfg.CONF.set_override("use_mock_cinder", True)
    cfg.CONF.set_override("state_path", str(tmp_path))
    try:
        rows = target_checks.check_volume_type(context(
            cloud=type_cloud({"vt-b": vtype("vt-b", REPLICATED)})))
    finally:
        cfg.CONF.clear_override("state_path")
    assert rows[0]["result"] == "ok", rows


def test_an_unreadable_volume_type_warns():
    rows = target_checks.check_volume_type(context(
        cloud=Cloud(block_storage=NS(find_type=fails))))
    assert rows[0]["result"] == "warn"


# -- cinder-volume service ---------------------------------------------------

def services_cloud(states):
    def services(binary):
        assert binary == "cinder-volume"
        return [NS(host="h%d@pure" % i, state=s)
                for i, s in enumerate(states)]
    return Cloud(block_storage=NS(services=services))


def test_a_cinder_volume_service_must_be_up():
    rows = target_checks.check_volume_service(context(
        cloud=services_cloud(["up", "down"])))
    assert rows[0] == dict(rows[0], result="ok", detail="up: h0@pure")
    rows = target_checks.check_volume_service(context(
        cloud=services_cloud(["down"])))
    assert rows[0]["result"] == "fail"
    assert rows[0]["error"].code == "protector.precondition.no_volume_service"


def test_services_forbidden_to_the_tenant_are_read_as_the_service_user():
    def forbidden(binary):
        raise sdk_exc.ForbiddenException("admin only")
    seen = []

    def service_cloud(cloud):
        seen.append(cloud)
        return services_cloud(["up"])
    cloud = Cloud(block_storage=NS(services=forbidden))
    rows = target_checks.check_volume_service(context(
        cloud=cloud, service_cloud=service_cloud))
    assert rows[0]["result"] == "ok" and seen == [cloud]
    rows = target_checks.check_volume_service(context(cloud=cloud))
    assert rows[0]["result"] == "warn"


# -- quotas ------------------------------------------------------------------

class Quota:
    def __init__(self, usage=None, reservation=None, **limits):
        self.__dict__.update(limits)
        self.usage = usage or {}
        self.reservation = reservation or {}


def quota_cloud(volumes=(10, 0), gigabytes=(1000, 0), instances=(10, 0),
                cores=(20, 0), ram=(51200, 0), ports=(50, 0),
                networks=(100, 0), subnets=(100, 0), flavors=(),
                nova=None):
    def cinder(project, usage):
        assert usage is True
        return Quota({"volumes": volumes[1], "gigabytes": gigabytes[1]},
                     volumes=volumes[0], gigabytes=gigabytes[0],
                     snapshots=10)

    def nova_quota(project, usage):
        return Quota({"instances": instances[1], "cores": cores[1],
                      "ram": ram[1]}, instances=instances[0],
                     cores=cores[0], ram=ram[0])

    def neutron(project, details):
        assert details is True
        return Quota(ports={"limit": ports[0], "used": ports[1],
                            "reserved": 0},
                     networks={"limit": networks[0], "used": networks[1]},
                     subnets={"limit": subnets[0], "used": subnets[1]})
    return Cloud(block_storage=NS(get_quota_set=cinder),
                 compute=NS(get_quota_set=nova or nova_quota,
                            flavors=lambda: list(flavors)),
                 network=NS(get_quota=neutron))


def quota_rows(pc):
    return by_name(target_checks.check_quotas(pc))


def test_need_counts_what_the_operation_creates():
    flavors = [flavor("m2.small", vcpus=2, ram=2048)]
    need, unknown = quotas.need(context(args={"flavor_mapping": {
        "m1.small": "m2.small"}}), flavors)
    assert need == {"volumes": 6, "gigabytes": 6, "snapshots": 0,
                    "instances": 3, "ports": 3, "cores": 6, "ram": 6144}
    assert unknown == []


def test_need_of_an_auto_network_drill_includes_its_network():
    need, _ = quotas.need(context("test_failover", {"auto_network": True},
                                  members=[member(0)]), [])
    # No target flavor of that name: the captured shape counts.
    assert (need["networks"], need["subnets"], need["cores"]) == (1, 1, 1)


@pytest.mark.parametrize("quota,needed,limit,used,result,detail", [
    ("volumes", 6, 10, 6, "fail",
     "volumes: needs 6, 4 free of 10 (6 in use) on site site-a; raise it "
     "to at least 12 ('openstack quota set --volumes 12 P1') or free 2 "
     "volumes, then retry"),
    ("volumes", 4, 10, 6, "ok", "needs 4, 4 free of 10 (6 in use)"),
    ("gigabytes", 60, 100, 50, "fail", None),
    ("ram", 4096, -1, 10 ** 6, "ok", "needs 4096, unlimited"),
    ("snapshots", 0, 0, 0, "ok", "needs 0"),
    ("instances", 1, 10, 12, "fail", None),  # over quota already
    ("cores", 3, None, 0, "ok", "needs 3, unlimited"),
])
def test_verdict(quota, needed, limit, used, result, detail):
    got, text, exc = quotas.verdict(quota, needed, limit, used, "site-a",
                                    "P1")
    assert got == result
    if detail:
        assert text == detail
    if result == "fail":
        assert exc.code == "protector.precondition.quota_exceeded"
        assert text.startswith(quota + ": needs %d" % needed)
        assert "--%s %d P1" % (quota, used + needed) in text
    else:
        assert exc is None


def test_gigabytes_and_ram_shortfalls_name_their_unit():
    assert "free 10 GB," in quotas.verdict("gigabytes", 60, 100, 50, "s",
                                           "p")[1]
    assert "free 512 MB of RAM," in quotas.verdict("ram", 1024, 2048, 1536,
                                                   "s", "p")[1]


def test_failback_at_the_default_volume_quota_fails_naming_volumes():
    # The case: the 6 volumes of the originals still count (a
    # failback makes its copies before it retires them), 10 is the
    # default quota, 6 more are wanted.
    pc = context("failback", pg=group(status="failed_over"))
    rows = quota_rows(_with(pc, quota_cloud(volumes=(10, 6))))
    assert rows["quota_volumes"]["result"] == "fail"
    assert rows["quota_volumes"]["detail"].startswith(
        "volumes: needs 6, 4 free of 10 (6 in use) on site site-b")
    assert rows["quota_volumes"]["error"].code == \
        "protector.precondition.quota_exceeded"
    assert all(r["result"] == "ok" for name, r in rows.items()
               if name != "quota_volumes"), rows
    report = {"action": "failback", "ok": False,
              "checks": list(rows.values())}
    refusal = preflight.failure(report, pc.pg)
    assert refusal.code == "protector.precondition.quota_exceeded"
    assert "volumes" in refusal.message


def _with(pc, cloud):
    pc._target_cloud = lambda: cloud
    return pc


def test_reserved_usage_counts_as_used():
    def nova(project, usage):
        return Quota({"instances": 8}, {"instances": 1}, instances=10,
                     cores=-1, ram=-1)
    rows = quota_rows(_with(context(), quota_cloud(nova=nova)))
    assert rows["quota_instances"]["result"] == "fail"
    assert "1 free of 10 (9 in use)" in rows["quota_instances"]["detail"]


def test_a_quota_that_cannot_be_read_warns_the_others_still_count():
    rows = quota_rows(_with(context(), quota_cloud(
        volumes=(10, 6), nova=fails)))
    assert rows["quota_volumes"]["result"] == "fail"
    assert rows["quota_gigabytes"]["result"] == "ok"
    for name in ("quota_instances", "quota_cores", "quota_ram"):
        assert rows[name]["result"] == "warn"
        assert "could not be read" in rows[name]["detail"]
    assert rows["quota_ports"]["result"] == "ok"
    assert "quota_networks" not in rows  # no --auto-network


def test_auto_network_drill_counts_a_network_and_a_subnet():
    rows = quota_rows(_with(context("test_failover", {"auto_network": True}),
                            quota_cloud(networks=(1, 1))))
    assert rows["quota_networks"]["result"] == "fail"
    assert rows["quota_subnets"]["result"] == "ok"


def test_cores_and_ram_come_from_the_mapped_target_flavor():
    pc = _with(context(args={"flavor_mapping": {"m1.small": "m2.large"}}),
               quota_cloud(cores=(10, 0), flavors=[
                   flavor("m2.large", vcpus=4, ram=8192)]))
    rows = quota_rows(pc)
    assert rows["quota_cores"]["result"] == "fail"  # 3 x 4 > 10
    assert rows["quota_cores"]["detail"].startswith("cores: needs 12")


def test_quotas_without_a_target_cloud_warn():
    rows = target_checks.check_quotas(context(
        cloud=exception.TrustNotFound(project="P1", site="site-b")))
    assert [(r["check"], r["result"]) for r in rows] == [("quotas", "warn")]


# -- storage -----------------------------------------------------------------

class Driver:
    name = "fake"

    def __init__(self, probe=None, lag=60):
        self.probe = probe or {"target": None, "source": None}
        self.lag = lag

    def probe_arrays(self):
        return dict(self.probe)

    def replication_lag(self):
        return self.lag


@pytest.fixture
def storage_with(monkeypatch):
    from protector.db import replication_policies as policy_db
    from protector import storage
    monkeypatch.setattr(policy_db, "get", lambda ctx, pg_id: {
        "rpo_minutes": 15, "primary_fa_api_token_encrypted": None,
        "secondary_fa_api_token_encrypted": None})

    def use(driver):
        monkeypatch.setattr(storage, "get_driver",
                            lambda *args, **kwargs: driver)
    return use


def test_reachable_arrays_and_a_fresh_point_are_ok(storage_with):
    storage_with(Driver())
    rows = by_name(site_checks.check_storage(context()))
    assert rows["storage"]["result"] == "ok"
    assert rows["rpo"]["result"] == "ok"


def test_an_old_recovery_point_only_warns(storage_with):
    storage_with(Driver(lag=3600))
    rows = by_name(site_checks.check_storage(context()))
    assert rows["rpo"]["result"] == "warn"
    assert "exceeds the RPO of 15 min" in rows["rpo"]["detail"]


def test_an_unreachable_target_array_fails(storage_with):
    storage_with(Driver({"target": "connection refused", "source": None}))
    rows = by_name(site_checks.check_storage(context(
        args={"type": "unplanned"})))
    assert rows["storage"]["result"] == "fail"
    assert rows["storage"]["error"].code == \
        "protector.precondition.array_unreachable"
    assert "target array: connection refused" in rows["storage"]["detail"]


@pytest.mark.parametrize("kind,args,result", [
    ("failover", {"type": "planned"}, "fail"),
    ("failback", {}, "fail"),
    ("failover", {"type": "unplanned"}, "warn"),  # the source is lost
    ("test_failover", {}, "warn")])
def test_an_unreachable_source_array(storage_with, kind, args, result):
    storage_with(Driver({"target": None, "source": "timed out"}))
    rows = by_name(site_checks.check_storage(context(kind, args)))
    assert rows["storage"]["result"] == result
    assert "timed out" in rows["storage"]["detail"]


def test_a_driver_that_cannot_be_made_fails(monkeypatch, storage_with):
    from protector import storage

    def refuse(*args, **kwargs):
        raise exception.StorageError(driver="pure", reason="no pure_pg_name")
    monkeypatch.setattr(storage, "get_driver", refuse)
    rows = by_name(site_checks.check_storage(context()))
    assert rows["storage"]["result"] == "fail"
    assert "no pure_pg_name" in rows["storage"]["detail"]
    assert rows["rpo"]["result"] == "warn"


def test_pure_probe_logs_in_to_each_array_once():
    from protector.storage.pure import driver as pure
    drv = pure.PureStorageDriver(
        {"pure_pg_name": "pg1", "primary_fa_url": "https://a",
         "secondary_fa_url": "https://b", "primary_fa_api_token": "t",
         "secondary_fa_api_token": "t"}, group(), SITE_B)

    class Array:
        def __init__(self, error=None):
            self.error, self.probe, self.logins = error, False, 0

        def login(self):
            self.logins += 1
            if self.error:
                raise self.error
            return "fa"
    drv.arrays = {"primary": Array(exception.ArrayUnreachable(
        array="fa-a", reason="refused")), "secondary": Array()}
    state = drv.probe_arrays()
    assert state["target"] is None  # site B's array: the secondary
    assert "fa-a" in state["source"]
    assert [a.logins for a in drv.arrays.values()] == [1, 1]
    assert all(a.probe for a in drv.arrays.values())


# -- peer site ---------------------------------------------------------------

class Peer:
    def __init__(self, error=None):
        self.error, self.calls = error, []

    def _request(self, method, path):
        self.calls.append((method, path))
        if self.error:
            raise self.error
        return NS(status_code=200), 3


def test_the_peer_matters_only_to_planned_operations():
    assert site_checks.check_peer(context(args={"type": "unplanned"})) == []
    assert site_checks.check_peer(context("test_failover")) == []


def test_without_a_peer_token_the_api_warns_the_engine_fails():
    rows = site_checks.check_peer(context())
    assert rows[0]["result"] == "warn"
    assert rows[0]["detail"].startswith("not checked: no token")
    rows = site_checks.check_peer(context(engine=True))
    assert rows[0]["result"] == "fail"
    assert rows[0]["error"].code == "protector.precondition.peer_unreachable"
    assert "kept no credential" in rows[0]["detail"]


def test_the_peer_is_asked_for_the_group():
    peer = Peer()
    rows = site_checks.check_peer(context("failback", peer=lambda: peer))
    assert rows[0]["result"] == "ok"
    assert peer.calls == [("GET", "/protection-groups/pg-id")]
    down = Peer(exception.PeerUnreachable(site="site-a", reason="refused"))
    rows = site_checks.check_peer(context(peer=lambda: down))
    assert rows[0]["result"] == "fail"
    assert rows[0]["error"].code == "protector.precondition.peer_unreachable"
    assert "--type unplanned" in rows[0]["detail"]


def test_a_peer_that_cannot_be_built_fails():
    def peer():
        raise exception.PeerTokenInvalid(site="site-a", reason="HTTP 401")
    rows = site_checks.check_peer(context(peer=peer))
    assert rows[0]["result"] == "fail"
    assert "HTTP 401" in rows[0]["detail"]


# -- trust -------------------------------------------------------------------

def test_engine_trust_must_open_the_target():
    rows = site_checks.check_trust(context(engine=True, cloud=Cloud()))
    assert rows[0]["result"] == "ok"
    rows = site_checks.check_trust(context(
        engine=True, cloud=exception.TrustNotFound(project="P1",
                                                   site="site-b")))
    assert rows[0]["result"] == "fail"
    assert rows[0]["error"].code == "protector.precondition.trust_unusable"


@pytest.fixture
def api_trust(monkeypatch):
    """The caller's side: a token of P1 holding ``roles``."""
    from protector.cloud import auth
    from protector.cloud import trusts
    from protector.db import trusts as trusts_db
    state = {"stored": None, "valid": True, "roles": ["member"],
             "app": None, "this_site": True, "found": None}
    monkeypatch.setattr(trusts, "is_this_site",
                        lambda site: state["this_site"])
    monkeypatch.setattr(trusts_db, "get", lambda *a: state["stored"])
    monkeypatch.setattr(trusts, "_still_valid",
                        lambda site, token, trust: state["valid"])
    monkeypatch.setattr(site_checks.trusts_db, "find",
                        lambda *a, **k: state["found"])

    class AuthRef:
        role_names = property(lambda self: state["roles"])

        @property
        def application_credential(self):
            if state["app"] is None:
                raise KeyError("application_credential")
            return state["app"]
    monkeypatch.setattr(auth, "token_plugin",
                        lambda site, token: NS(auth_ref=AuthRef()))

    def check(project="P1"):
        pc = context()
        pc.ctx = NS(auth_token="tok", project_id=project, user_id="u1")
        return site_checks.check_trust(pc)[0]
    state["check"] = check
    return state


def test_api_trust_stored_and_valid(api_trust):
    api_trust["stored"] = {"trust_id": "tr-1"}
    got = api_trust["check"]()
    assert got["result"] == "ok" and "tr-1" in got["detail"]


def test_api_trust_will_be_created_when_the_token_can_delegate(api_trust):
    got = api_trust["check"]()
    assert got["result"] == "ok"
    assert "when the operation is queued" in got["detail"]
    api_trust["stored"], api_trust["valid"] = {"trust_id": "tr-1"}, False
    assert "gone from Keystone" in api_trust["check"]()["detail"]


@pytest.mark.parametrize("change,text", [
    ({"roles": ["reader"]}, "hold none of the roles"),
    ({"app": {"id": "ac", "restricted": True}},
     "restricted application credential")])
def test_api_trust_that_cannot_be_made_fails(api_trust, change, text):
    api_trust.update(change)
    got = api_trust["check"]()
    assert got["result"] == "fail"
    assert text in got["detail"]
    assert got["error"].code == "protector.precondition.trust_unusable"


def test_api_trust_of_another_project_and_of_another_site(api_trust):
    got = api_trust["check"]("ADMIN")
    assert got["result"] == "fail"  # nobody of P1 made one
    api_trust["found"] = "tr-9"
    assert api_trust["check"]("ADMIN")["result"] == "ok"
    api_trust["this_site"] = False
    assert api_trust["check"]()["result"] == "warn"


def test_api_trust_without_keystone_warns(api_trust, config):
    config.set_override("auth_strategy", "noauth2", group="api")
    assert api_trust["check"]()["result"] == "warn"


# -- the refusal -------------------------------------------------------------

def test_failure_keeps_the_first_code_and_names_every_failed_check():
    first = quotas.QuotaExceeded(quota="volumes", need=6, free=4, limit=10,
                                 used=6, site="a", enough=12, short=2,
                                 unit="volumes", fix="x")
    report = {"action": "failback", "ok": False, "checks": [
        check_rows.row("members", "ok", "3"),
        check_rows.row("quota_volumes", "fail", first.message, first),
        check_rows.row("images", "fail", "cirros missing")]}
    exc = preflight.failure(report, {"name": "pg"})
    assert exc.code == "protector.precondition.quota_exceeded"
    assert "quota_volumes:" in exc.message and "images: cirros" in \
        exc.message
    public = preflight.public(report)
    assert all(set(c) == {"check", "result", "detail"}
               for c in public["checks"])
    assert preflight.failure(dict(report, checks=report["checks"][:1]),
                             {"name": "pg"}) is None


def test_a_failure_without_its_own_error_is_the_generic_code():
    report = {"action": "failover", "ok": False, "checks": [
        check_rows.row("storage", "fail", "no driver")]}
    exc = preflight.failure(report, {"name": "pg"})
    assert exc.code == "protector.precondition.preflight_failed"
    assert exc.kind == "precondition"
    assert "storage: no driver" in exc.message


# -- the engine: validate_sites runs the same checks -------------------------

def full_cloud(volumes=(10, 0)):
    """A target with everything the members need."""
    cloud = quota_cloud(volumes=volumes, flavors=[flavor("m1.small")])
    cloud.conn.network.networks = lambda: [net("net-a")]
    cloud.conn.compute.flavors = lambda: [flavor("m1.small")]
    cloud.conn.image = NS(images=lambda: [NS(name="cirros")])
    cloud.conn.block_storage.find_type = lambda ident, ignore_missing: \
        vtype(ident, REPLICATED)
    cloud.conn.block_storage.services = lambda binary: [
        NS(host="h@pure", state="up")]
    return cloud


@pytest.fixture
def engine(monkeypatch, storage_with):
    from protector.cloud import probe
    from protector.engine import subops
    from protector.engine import tasks
    from protector.engine.tasks import lifecycle_tasks
    storage_with(Driver())
    sites = {SITE_A["id"]: SITE_A, SITE_B["id"]: SITE_B}
    state = {"cloud": full_cloud(), "down": set(), "peers": []}
    monkeypatch.setattr(tasks, "site", lambda ctx, site_id: sites[site_id])
    monkeypatch.setattr(tasks, "group", lambda ctx, store: group(
        status="failing_back", current_operation_id="op-1",
        current_primary_site_id=SITE_B["id"]))
    def target_cloud(ctx, store, warm=()):
        if isinstance(state["cloud"], Exception):
            raise state["cloud"]
        return state["cloud"]
    monkeypatch.setattr(tasks, "target_cloud", target_cloud)
    monkeypatch.setattr(preflight.members_db, "list_all",
                        lambda ctx, pg_id: [member(i) for i in range(3)])
    monkeypatch.setattr(probe, "probe", lambda site, timeout=None: {
        "keystone": "refused" if site["id"] in state["down"] else None})

    def peer_of(ctx, operation, site_id):
        state["peers"].append(site_id)
        return Peer()
    monkeypatch.setattr(subops, "peer_of", peer_of)

    def run(kind="failback", **params):
        store = {"operation": {
            "id": "op-1", "operation_type": kind, "project_id": "P1",
            "user_id": "u1", "protection_group_id": "pg-id",
            "source_site_id": SITE_B["id"], "target_site_id": SITE_A["id"],
            "parameters": params}, "results": {}}
        return lifecycle_tasks.validate_sites(None, store)
    state["run"] = run
    return state


def test_validate_sites_stores_the_check_table(engine):
    result = engine["run"](type="planned", peer_credential={"id": "ac"})
    rows = by_name(result["preflight"])
    assert result["source"] == result["target"] == "reachable"
    assert "no_running_operation" not in rows  # the operation runs
    assert all(r["result"] != "fail" for r in rows.values()), rows
    assert rows["peer_site"]["result"] == "ok"
    assert engine["peers"] == [SITE_B["id"]]
    assert {"group_status", "members", "networks", "flavors", "images",
            "volume_type", "volume_service", "quota_volumes", "storage",
            "rpo", "trust"} <= set(rows)
    assert set(result["preflight"][0]) == {"check", "result", "detail"}


def test_validate_sites_fails_on_a_failed_check(engine):
    engine["cloud"] = full_cloud(volumes=(10, 6))
    with pytest.raises(exception.ProtectorException) as caught:
        engine["run"](type="planned", peer_credential={"id": "ac"})
    assert caught.value.code == "protector.precondition.quota_exceeded"
    assert "volumes: needs 6, 4 free of 10" in caught.value.message


def test_validate_sites_planned_without_a_kept_credential_fails(engine):
    with pytest.raises(exception.ProtectorException) as caught:
        engine["run"](type="planned")
    assert caught.value.code == "protector.precondition.peer_unreachable"
    assert engine["peers"] == []


def test_validate_sites_unplanned_works_with_the_source_down(engine):
    engine["down"].add(SITE_B["id"])
    result = engine["run"]("failover", type="unplanned")
    assert result["source"] == "not contacted"
    assert "peer_site" not in by_name(result["preflight"])
    engine["down"] = {SITE_A["id"]}
    with pytest.raises(exception.SiteUnreachable):
        engine["run"]("failover", type="unplanned")


def test_validate_sites_without_the_trust_fails_naming_it(engine):
    # Every cloud check fails or warns then; the trust is the answer.
    engine["cloud"] = exception.TrustNotFound(project="P1", site="site-a")
    with pytest.raises(exception.ProtectorException) as caught:
        engine["run"]("test_failover")
    assert caught.value.code == "protector.precondition.trust_unusable"
    assert "trust: Site site-a cannot be used with the project's trust" \
        in caught.value.message


def test_api_peer_that_the_engine_could_not_reach_warns():
    # The peer answers the caller, but the request keeps no credential
    # for the engine (a source sharing this Keystone, no encryption key).
    pc = context(peer=lambda: Peer())
    pc.peer_kept = False
    rows = site_checks.check_peer(pc)
    assert rows[0]["result"] == "warn"
    assert "keeps no credential" in rows[0]["detail"]
    pc.peer_kept = True
    assert site_checks.check_peer(pc)[0]["result"] == "ok"
