"""Cinder's real Pure driver against the simulator (needs a cinder venv).

The driver runs in a subprocess with the Python of a cinder venv that also
has py-pure-client (the lab's, ``protector_lab.venvs``, built on demand when
``PROTECTOR_FA_CINDER=1``, ~1-2 min; otherwise the test is skipped if that
venv is not there yet). Its replies are validated like all others.
"""
import json
import os
import subprocess

import pytest

from protector_lab import lab as lab_mod
from protector_lab import venvs

# The lab's own cinder venv (it has py-pure-client for the pure profile),
# so CI builds one cinder venv, not two.
EXTRA = list(lab_mod.VENV_EXTRAS["cinder"])
HARNESS = os.path.join(os.path.dirname(__file__), "cinder_driver_harness.py")


@pytest.fixture(scope="module")
def cinder_python():
    target = venvs.path("cinder", EXTRA)
    if not os.path.exists(os.path.join(target, ".complete")):
        if os.environ.get("PROTECTOR_FA_CINDER") != "1":
            pytest.skip("no cinder+py-pure-client venv; set "
                        "PROTECTOR_FA_CINDER=1 to build it")
        target = venvs.ensure("cinder", EXTRA)
    return os.path.join(target, "bin", "python")


def test_cinder_pure_driver(sim, cinder_python):
    args = {"arrays": [{"name": n, "endpoint": sim.endpoint(n),
                        "token": sim.token(n)} for n in ("array1", "array2")],
            "control_url": sim.control_url}
    proc = subprocess.run([cinder_python, HARNESS, json.dumps(args)],
                          capture_output=True, text=True, timeout=240)
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["setup"] == {"array": "array1", "targets": ["array2"]}
    vol = out["create"]["provider_id"]
    assert out["create"]["replication_status"] == "enabled"
    fab = sim.fabric
    # do_setup built the replicated PG on both sides
    pg = fab.arrays["array1"].find("pgroups", "cinder-group")
    assert pg.targets == {"array2": {"allowed": True}}
    assert pg.replication_schedule["enabled"]
    assert pg.replication_schedule["frequency"] == 3_600_000
    assert vol in pg.volumes
    assert fab.arrays["array1"].find("vsnaps", out["snapshot"]) is not None
    conn = out["connect"]
    assert conn["type"] == "iscsi" and conn["luns"] == [1, 1, 1, 1]
    assert all(p.endswith(":3260") for p in conn["portals"])
    serial = fab.arrays["array1"].find("volumes", vol).serial
    assert conn["wwn"] == "3624a9370" + serial.lower()
    assert fab.arrays["array1"].connections == {}   # terminate_connection
    assert out["stats"] == {"replication_enabled": True,
                            "replication_count": 1,
                            "replication_targets": ["array2"]}
    # failover_host copied the last replicated snapshot (data_version 5,
    # the write of 6 came after it) into the same name on array2
    assert out["failover"]["backend"] == "array2"
    assert out["failover"]["updates"] == ["failed-over"]
    assert fab.data_version("array2", vol) == 5
    assert fab.data_version("array1", vol) == 6
