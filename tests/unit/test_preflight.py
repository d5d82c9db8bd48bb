"""Preflight quota math and the refusal it turns into (dr/preflight.py,
dr/quotas.py): what an operation needs, against what is free."""
import types

from protector.dr import preflight
from protector.dr import quotas


def _member(volumes=2, size=1, flavor="m1.small", ports=1):
    return {"id": "m", "instance_name": "vm", "instance_config": {
        "flavor": {"original_name": flavor, "vcpus": 1, "ram": 512,
                   "disk": 1},
        "ports": [{"network_name": "net-a"}] * ports},
        "volumes": [{"volume_id": "v%d" % i, "size_gb": size}
                    for i in range(volumes)]}


def _pc(kind="failback", members=3, args=None):
    return types.SimpleNamespace(kind=kind, args=args or {},
                                 members=[_member() for _ in range(members)])


def test_need_counts_what_the_operation_creates():
    flavors = [types.SimpleNamespace(name="m2.small", vcpus=2, ram=2048)]
    need, unknown = quotas.need(_pc(args={"flavor_mapping": {
        "m1.small": "m2.small"}}), flavors)
    assert need == {"volumes": 6, "gigabytes": 6, "snapshots": 0,
                    "instances": 3, "ports": 3, "cores": 6, "ram": 6144}
    assert unknown == []


def test_need_of_an_auto_network_drill_includes_its_network():
    need, _ = quotas.need(_pc("test_failover", 1, {"auto_network": True}),
                          [])
    # No target flavor of that name: the captured shape counts.
    assert (need["networks"], need["subnets"], need["cores"]) == (1, 1, 1)


def test_failback_at_the_default_volume_quota_fails_naming_the_fix():
    # The case: 6 originals still in use of 10, 6 more wanted.
    result, detail, exc = quotas.verdict("volumes", 6, 10, 6, "site-a",
                                         "P1")
    assert result == "fail"
    assert detail.startswith("volumes: needs 6, 4 free of 10 (6 in use)")
    assert "raise it to at least 12" in detail
    assert "openstack quota set --volumes 12 P1" in detail
    assert "free 2" in detail
    assert exc.code == "protector.precondition.quota_exceeded"


def test_unlimited_and_enough_are_ok():
    assert quotas.verdict("ram", 4096, -1, 10 ** 6, "s", "p")[0] == "ok"
    assert quotas.verdict("volumes", 4, 10, 6, "s", "p")[0] == "ok"
    assert quotas.verdict("snapshots", 0, 0, 0, "s", "p")[0] == "ok"


def test_check_reads_the_three_services_and_warns_when_it_cannot():
    class Guard:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class Quota:
        def __init__(self, usage, **limits):
            self.__dict__.update(limits)
            self.usage = usage

    def forbidden(*args, **kwargs):
        raise RuntimeError("policy does not allow os-quota-sets")

    conn = types.SimpleNamespace(
        compute=types.SimpleNamespace(flavors=lambda: [],
                                      get_quota_set=forbidden),
        block_storage=types.SimpleNamespace(get_quota_set=lambda p, usage:
                                            Quota({"volumes": 6,
                                                   "gigabytes": 6,
                                                   "snapshots": 0},
                                                  volumes=10,
                                                  gigabytes=1000,
                                                  snapshots=10)),
        network=types.SimpleNamespace(get_quota=lambda p, details: Quota(
            {}, ports={"limit": 50, "used": 3, "reserved": 0},
            networks={"limit": 100, "used": 1}, subnets={"limit": 100})))
    cloud = types.SimpleNamespace(project_id="P1", conn=conn,
                                  guard=lambda service: Guard())
    pc = _pc()
    pc.target = {"name": "site-a"}
    rows = {r["check"]: r for r in quotas.check(pc, cloud, preflight.row)}
    assert rows["quota_volumes"]["result"] == "fail"
    assert rows["quota_gigabytes"]["result"] == "ok"
    assert rows["quota_instances"]["result"] == "warn"
    assert "could not be read" in rows["quota_cores"]["detail"]
    assert rows["quota_ports"]["result"] == "ok"
    assert "quota_networks" not in rows  # no --auto-network


def test_failure_keeps_the_first_code_and_names_every_failed_check():
    first = quotas.QuotaExceeded(quota="volumes", need=6, free=4, limit=10,
                                 used=6, site="a", enough=12, short=2,
                                 fix="x")
    report = {"action": "failback", "ok": False, "checks": [
        preflight.row("members", "ok", "3"),
        preflight.row("quota_volumes", "fail", first.message, first),
        preflight.row("images", "fail", "cirros missing")]}
    exc = preflight.failure(report, {"name": "pg"})
    assert exc.code == "protector.precondition.quota_exceeded"
    assert "quota_volumes:" in exc.message and "images: cirros" in \
        exc.message
    public = preflight.public(report)
    assert all(set(c) == {"check", "result", "detail"}
               for c in public["checks"])
    assert preflight.failure(dict(report, checks=report["checks"][:1]),
                             {"name": "pg"}) is None
