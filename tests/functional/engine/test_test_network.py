"""A test failover's --auto-network network across an engine crash.

The engine dies right after Neutron made the network (or its subnet) and
before the step recorded it: its ``RecoveryResource`` row stays
``creating`` with no ID. The restarted engine re-runs the step, which
must find what the first run made (the network by its name and the
operation marker in its description, the subnet by its name in that
network) instead of making, and leaking, a second one.
"""
import pytest

from protector.db import dr as dr_db
from tests.functional.engine import twosite


class Crash(BaseException):
    """A process death, as far as the runner can tell."""


@pytest.fixture
def harness(engine_db, monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=1, volumes=1)
    yield h
    h.close()


@pytest.mark.parametrize("call", ["create_network", "create_subnet"])
def test_crash_between_create_and_record_makes_one(harness, monkeypatch,
                                                   call):
    h = harness
    op_id = h.start("test_failover", auto_network=True)
    cloud = h.cloud_of(h.operation(op_id)["target_site_id"])
    real = getattr(cloud.network, call)
    made = []

    def create_then_die(**attrs):
        made.append(real(**attrs).id)
        raise Crash()
    monkeypatch.setattr(cloud.network, call, create_then_die)
    with pytest.raises(Crash):
        h.run(op_id)
    assert h.step_status(op_id)["create_test_network"] == "running"
    rows = {r["resource_type"]: r for r in dr_db.resources(
        h.ctx, op_id=op_id) if r["resource_type"] in ("network", "subnet")}
    assert rows[call.split("_")[1]]["resource_id"] is None

    monkeypatch.setattr(cloud.network, call, real)
    assert h.run(op_id) == "completed", h.operation(op_id)["error_message"]
    inv = cloud.inventory()
    # The one the crashed run made, and nothing more.
    table = "networks" if call == "create_network" else "subnets"
    assert [n["id"] for n in inv[table]] == made
    assert len(inv["networks"]) == 1
    assert len(inv["subnets"]) == 1
    assert h.duplicates()["networks"] == 0
    result = [s for s in h.operation(op_id)["steps"]
              if s["name"] == "create_test_network"][0]["result"]
    assert result["network_id"] == inv["networks"][0]["id"]
    assert result["subnet_id"] == inv["subnets"][0]["id"]
    recorded = {r["resource_type"]: r["resource_id"] for r in dr_db.resources(
        h.ctx, op_id=op_id) if r["resource_type"] in ("network", "subnet")}
    assert recorded == {"network": result["network_id"],
                        "subnet": result["subnet_id"]}
