"""Fault knobs (Python API and /_sim/ control endpoints), TLS and the CLI."""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from pypureclient import flasharray
from pypureclient.configuration import Configuration
from urllib3.exceptions import MaxRetryError

GiB = 1 << 30


def items(resp):
    assert resp.status_code == 200, getattr(resp, "errors", resp)
    return list(resp.items)


def control(sim_or_url, method, path, body=None):
    base = (sim_or_url if isinstance(sim_or_url, str)
            else sim_or_url.control_url)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_array_down_refuses_connections(sim, fa1):
    items(fa1.get_volumes())                 # keep-alive connection open
    sim.fabric.faults.array_down("array1")
    with pytest.raises(MaxRetryError):
        fa1.get_volumes()
    with pytest.raises(Exception):
        sim.client("array1")
    sim.fabric.faults.array_up("array1")
    assert items(fa1.get_volumes()) == []     # same session still valid


def test_array_down_503(sim):
    fa = sim.client("array1", retries=1)
    sim.fabric.faults.array_down("array1", mode="503")
    r = fa.get_volumes()
    assert r.status_code == 503 and "unavailable" in r.errors[0].message
    sim.fabric.faults.array_up("array1")
    assert fa.get_volumes().status_code == 200


def test_injected_error_and_latency(sim, fa1):
    sim.fabric.faults.inject_error("array1", "GET", "/volumes", 400,
                                   "Injected: does not exist", count=1)
    r = fa1.get_volumes()
    assert r.status_code == 400 and r.errors[0].message.startswith("Injected")
    assert fa1.get_volumes().status_code == 200          # count exhausted
    sim.fabric.faults.latency("array1", 0.01)
    assert fa1.get_volumes().status_code == 200
    sim.fabric.faults.clear("array1")
    assert sim.fabric.arrays["array1"].latency == 0


def test_down_array_skips_schedules_and_catches_up_once(sim, fa1, fa2):
    fa1.post_volumes(names=["v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.post_protection_groups(names=["pg"])
    fa1.post_protection_groups_volumes(group_names=["pg"], member_names=["v"])
    fa1.patch_protection_groups(
        names=["pg"], protection_group=flasharray.ProtectionGroup(
            snapshot_schedule=flasharray.SnapshotSchedule(
                enabled=True, frequency=3_600_000)))
    sim.fabric.advance(7200)
    assert len(items(fa1.get_protection_group_snapshots(
        source_names=["pg"]))) == 2
    sim.fabric.faults.array_down("array1")
    sim.fabric.advance(5 * 3600)
    sim.fabric.faults.array_up("array1")
    sim.fabric.advance(1)
    assert len(items(fa1.get_protection_group_snapshots(
        source_names=["pg"]))) == 3


def test_control_endpoints(sim, fa1, fa2):
    info = control(sim, "GET", "/_sim/info")
    assert info["arrays"]["array1"]["endpoint"] == sim.endpoint("array1")
    assert info["arrays"]["array2"]["api_token"] == sim.token("array2")
    fa1.post_volumes(names=["v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    assert control(sim, "POST", "/_sim/arrays/array1/write/v",
                   {})["data_version"] == 1
    assert control(sim, "POST", "/_sim/arrays/array1/write/v",
                   {"data_version": 42})["data_version"] == 42
    assert control(sim, "GET",
                   "/_sim/arrays/array1/data/v")["data_version"] == 42
    before = control(sim, "GET", "/_sim/clock")["now"]
    assert control(sim, "POST", "/_sim/clock/advance",
                   {"seconds": 90})["now"] == before + 90_000
    control(sim, "POST", "/_sim/links/array1/array2/down", {})
    assert items(fa2.get_array_connections())[0].status == "connecting"
    control(sim, "POST", "/_sim/links/array1/array2/up", {})
    control(sim, "POST", "/_sim/links/array1/array2/slow", {"seconds": 30})
    assert sim.fabric.link("array1", "array2").transfer_seconds == 30
    control(sim, "POST", "/_sim/arrays/array2/down", {"mode": "refuse"})
    with pytest.raises(MaxRetryError):
        fa2.get_volumes()
    control(sim, "POST", "/_sim/arrays/array2/up", {})
    assert fa2.get_volumes().status_code == 200
    control(sim, "POST", "/_sim/arrays/array1/sessions/expire", {})
    assert fa1.get_volumes().status_code == 200             # re-login
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(sim, "GET", "/_sim/arrays/nope/data/v")
    assert exc.value.code == 404
    # the control API is also reachable on an array's HTTPS port
    ctx = ssl._create_unverified_context()
    with urllib.request.urlopen(f"https://{sim.endpoint('array1')}/_sim/clock",
                                context=ctx, timeout=10) as resp:
        assert "now" in json.loads(resp.read())


def test_verified_tls_with_the_generated_cert(sim):
    conf = Configuration(ssl_ca_cert=sim.cert_path)
    fa = flasharray.Client(target=sim.endpoint("array1"),
                           api_token=sim.token("array1"), verify_ssl=True,
                           configuration=conf)
    assert items(fa.get_arrays())[0].name == "array1"


def test_cli_process(tmp_path):
    """``protector-flasharray-sim`` as a separate process."""
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "protector_lab.flasharray.cli",
         "--array", "fa-a=0:tok-a", "--array", "fa-b", "--manual-clock",
         "--cert-dir", str(tmp_path / "cert"), "--info-file", str(info_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # wait for startup, not timing
        for _ in range(200):
            if info_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        a = info["arrays"]["fa-a"]
        assert a["api_token"] == "tok-a"
        assert info["arrays"]["fa-b"]["api_token"] == "pure-sim-fa-b-token"
        fa = flasharray.Client(target=a["endpoint"], api_token="tok-a")
        items(fa.post_volumes(names=["v"], volume=flasharray.VolumePost(
            provisioned=GiB)))
        assert control(info["control_url"], "POST",
                       "/_sim/arrays/fa-a/write/v", {})["data_version"] == 1
        assert os.path.exists(info["cert"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
