"""Recovered VMs keep their identity (doc/engine.md: a member's complete
configuration is captured so the VM can be recreated).

After a failover the user finds their own resources on the target: each
volume copy has the source volume's name, description and metadata (the
marker is in the metadata), each server its name, metadata and every
device's ``delete_on_termination``, each port its fixed IP where the
target subnet has it free. Steps that delete a recovered server and keep
its volumes (vacate, retire, rollback) do not depend on that flag.
The real engine against two fake clouds (``twosite.py``).
"""
import pytest

from tests.functional.engine import twosite


@pytest.fixture
def make(engine_db, monkeypatch):
    made = []

    def build(**kw):
        h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=2,
                            **kw)
        made.append(h)
        return h
    yield build
    for h in made:
        h.close()


def _recovered(h, cloud, op_id):
    return [s for s in cloud.servers.values()
            if s["metadata"].get("protector_operation") == op_id]


def _addresses(cloud, server_id):
    return [ip["ip_address"] for p in cloud.ports.values()
            if p["device_id"] == server_id for ip in p["fixed_ips"]]


def _source(h):
    """source volume id -> (name, captured details, boot?)."""
    out = {}
    for member in h.members():
        details = member["instance_config"]["volume_details"]
        for vol in member["volumes"]:
            out[vol["volume_id"]] = (vol["volume_name"],
                                     details[vol["volume_id"]],
                                     vol["boot_index"] == 0)
    return out


def test_failover_copies_keep_names_metadata_flags_and_addresses(make):
    h = make()
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    source = _source(h)
    copies = [v for v in h.b.volumes.values()
              if v["metadata"].get("protector_operation") == op_id]
    assert len(copies) == len(source) == 4
    for vol in copies:
        src_id = vol["metadata"]["protector_copy_key"].rpartition(":")[2]
        name, details, _ = source[src_id]
        assert vol["name"] == name
        assert vol["description"] == details["description"]
        assert vol["metadata"] == dict(
            details["metadata"], protector_copy_key="%s:%s" % (op_id, src_id),
            protector_operation=op_id)
    servers = _recovered(h, h.b, op_id)
    assert sorted(s["name"] for s in servers) == ["vm-0", "vm-1"]
    for srv in servers:
        assert srv["metadata"]["app"] == "web"
        # The boot device goes with the server, the data volume stays,
        # as on the original.
        flags = {h.b.volumes[v]["name"]: dot
                 for v, dot in srv["attachments"].items()}
        index = srv["name"][-1]
        assert flags == {"vm-%s-disk-0" % index: True,
                         "vm-%s-disk-1" % index: False}
        assert _addresses(h.b, srv["id"]) == ["10.0.0.10%s" % index]


def test_failback_keeps_every_volume_and_deleting_a_vm_leaks_none(make):
    h = make()
    assert h.do("failover")[1] == "completed"
    op_id, status = h.do("failback")
    assert status == "completed", h.operation(op_id)["error_message"]
    # Vacating site B deleted the failed-over servers, whose boot device
    # says delete_on_termination: every copy was still given back to the
    # array (unmanaged), none deleted by Nova.
    assert [k for k, _ in h.b.deleted if k == "volume"] == []
    assert len(h.b.unmanaged) == 4 and h.b.volumes == {}
    # Back on A: the originals held the addresses when the failback
    # rebuilt (they are retired after it), so Neutron chose others.
    servers = _recovered(h, h.a, op_id)
    assert len(servers) == 2
    for srv in servers:
        assert _addresses(h.a, srv["id"]) != ["10.0.0.10%s" % srv["name"][-1]]
    # The user deletes a failed-back VM: its boot volume goes with it (as
    # the original's did), its data volume stays. No leak of boot volumes.
    srv = servers[0]
    boot = [v for v, dot in srv["attachments"].items() if dot]
    data = [v for v, dot in srv["attachments"].items() if not dot]
    h.a.compute.delete_server(srv["id"])
    assert all(v not in h.a.volumes for v in boot) and len(boot) == 1
    assert [h.a.volumes[v]["status"] for v in data] == ["available"]


def test_addresses_kept_only_when_free_and_wanted(make):
    h = make()
    # vm-0's address is taken on B by something else of the project.
    h.b.ports["other"] = {"network_id": h.b.base_network,
                          "device_id": "someone-else",
                          "fixed_ips": [{"ip_address": "10.0.0.100"}]}
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    got = {s["name"]: _addresses(h.b, s["id"])
           for s in _recovered(h, h.b, op_id)}
    assert got["vm-1"] == ["10.0.0.101"]
    assert got["vm-0"] and got["vm-0"] != ["10.0.0.100"]


def test_keep_fixed_ips_false_lets_neutron_choose(make):
    h = make()
    op_id, status = h.do("failover", keep_fixed_ips=False)
    assert status == "completed", h.operation(op_id)["error_message"]
    got = sorted(a for s in _recovered(h, h.b, op_id)
                 for a in _addresses(h.b, s["id"]))
    assert got == ["10.0.0.1", "10.0.0.2"]


def test_no_address_kept_on_a_shared_network(make):
    h = make()
    h.b.networks[h.b.base_network]["is_shared"] = True
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    got = sorted(a for s in _recovered(h, h.b, op_id)
                 for a in _addresses(h.b, s["id"]))
    assert got == ["10.0.0.1", "10.0.0.2"]


def test_a_drill_keeps_its_copies_off_the_servers_flags(make):
    """Test failover copies are Protector's (test cleanup deletes them
    through the storage driver): never deleted with a drill server."""
    h = make()
    op_id, status = h.do("test_failover", auto_network=True)
    assert status == "completed", h.operation(op_id)["error_message"]
    drills = _recovered(h, h.b, op_id)
    assert len(drills) == 2
    assert all(not any(s["attachments"].values()) for s in drills)
