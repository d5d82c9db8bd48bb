"""Fixtures for the ``pure`` driver tests: the FlashArray simulator.

``sim``: a fresh two-array simulator (``array1`` serves site A, ``array2``
site B; connected with ``sync-replication``; manual clock) whose every
reply is checked against the REST 2.56 OpenAPI spec, as in
tests/flasharray. ``conf``: a private oslo.config with the ``[storage]``
options, verifying the simulator's certificate through
``pure_ca_bundle``. ``env``: the sites, group, policy and member volumes
the tests share (``Env``).
"""
import uuid

from oslo_config import cfg
import pytest

from protector.conf import storage as storage_conf
from protector.storage.pure import driver as pure_driver
from protector_lab.flasharray import Simulator
from tests.flasharray.conftest import Recorder
from tests.flasharray.conftest import spec_validator  # noqa: F401 fixture



def pytest_configure(config):
    # The tests' own clients (sim.client) do not verify the certificate.
    config.addinivalue_line(
        "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")


SITE_A = {"id": "site-a-id", "name": "site-a"}
SITE_B = {"id": "site-b-id", "name": "site-b"}


def make_sim(validator, connect="sync-replication", cert_dir=None):
    s = Simulator(["array1", "array2"], connect=connect, cert_dir=cert_dir)
    rec = Recorder(validator)
    s.fabric.observers.append(rec)
    s.recorder = rec
    return s.start()


@pytest.fixture
def sim(spec_validator):  # noqa: F811
    s = make_sim(spec_validator)
    try:
        yield s
    finally:
        s.stop()
    assert not s.recorder.problems, "\n".join(s.recorder.problems[:30])


@pytest.fixture
def conf(sim):
    c = cfg.ConfigOpts()
    storage_conf.register_opts(c)
    c([], project="protector-tests")
    c.set_override("pure_ca_bundle", sim.cert_path, group="storage")
    c.set_override("pure_verify_ssl", True, group="storage")
    c.set_override("pure_api_retries", 0, group="storage")
    # No waiting in tests: a transfer not complete at once fails the step.
    c.set_override("pure_replication_timeout", 0, group="storage")
    return c


class Env:
    """A protection group of ``n`` volumes on ``array1`` (site A)."""

    def __init__(self, sim, conf, rtype="async", n=2, pg="dr-web"):
        from pypureclient import flasharray as fa
        self.sim, self.conf = sim, conf
        self.fa1, self.fa2 = sim.client("array1"), sim.client("array2")
        self.group = {"id": str(uuid.uuid4()), "name": "web",
                      "replication_type": rtype,
                      "primary_site_id": SITE_A["id"],
                      "secondary_site_id": SITE_B["id"],
                      "current_primary_site_id": SITE_A["id"]}
        self.policy = {
            "primary_fa_url": "https://" + sim.endpoint("array1"),
            "primary_fa_api_token": sim.token("array1"),
            "secondary_fa_url": "https://" + sim.endpoint("array2"),
            "secondary_fa_api_token": sim.token("array2"),
            "pure_pg_name": pg, "replication_interval": 300,
            "rpo_minutes": 15}
        self.volumes = []
        for i in range(n):
            vol_id = str(uuid.uuid4())
            name = "volume-%s-cinder" % vol_id
            res = self.fa1.post_volumes(names=[name], volume=fa.VolumePost(
                provisioned=1 << 30))
            assert res.status_code == 200, res
            self.volumes.append({"volume_id": vol_id, "volume_name":
                                 "vol-%d" % i, "size_gb": 1,
                                 "bootable": i == 0, "backend_ref": None,
                                 "member_id": "member-%d" % i})

    def array_name(self, vol, pod=None):
        name = "volume-%s-cinder" % vol["volume_id"]
        return "%s::%s" % (pod, name) if pod else name

    def driver(self, site=SITE_B, **kw):
        return pure_driver.PureStorageDriver(self.policy, self.group, site,
                                             conf=self.conf, **kw)

    def write(self, array="array1", pod=None):
        """A host write to every volume; returns {volume_id: version}."""
        return {v["volume_id"]: self.sim.fabric.write(
            array, self.array_name(v, pod)) for v in self.volumes}

    def version(self, array, name):
        return self.sim.fabric.data_version(array, name)

    def volume_names(self, client):
        return sorted(v.name for v in client.get_volumes(
            destroyed=False).items)


@pytest.fixture
def env(sim, conf):
    return Env(sim, conf)
