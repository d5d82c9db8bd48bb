"""Drive Cinder's real Pure iSCSI driver against a running simulator.

Run with the Python of a cinder venv that also has py-pure-client:
``python cinder_driver_harness.py '<json>'`` where the JSON names the two
arrays' endpoints and tokens. Prints one JSON line of results. Only the
database lookups and the volume type are faked (doc/flasharray-simulator.md);
every array call is the driver's own.
"""
import json
import os
import sys
import tempfile
import uuid

os.environ["OS_CINDER_DISABLE_EVENTLET_PATCHING"] = "1"
from cinder import monkey_patch  # noqa: E402  (must come first)
monkey_patch.patch()

from unittest import mock  # noqa: E402

from oslo_config import cfg  # noqa: E402

from cinder import context, coordination, objects  # noqa: E402
from cinder.tests.unit import fake_snapshot, fake_volume  # noqa: E402
from cinder.volume import configuration  # noqa: E402
from cinder.volume import driver as vdriver  # noqa: E402
from cinder.volume.drivers import pure  # noqa: E402
from cinder.volume.drivers.san import san  # noqa: E402


def make_driver(args, group="pure1"):
    conf = cfg.CONF
    conf([], project="cinder", default_config_files=[])
    config = configuration.Configuration(vdriver.volume_opts,
                                         config_group=group)
    config.append_config_values(san.san_opts)
    config.append_config_values(pure.PURE_OPTS)
    a1, a2 = args["arrays"]
    overrides = {
        "volume_backend_name": group,
        "san_ip": a1["endpoint"],
        "pure_api_token": a1["token"],
        "replication_device": [{"backend_id": a2["name"],
                                "san_ip": a2["endpoint"],
                                "api_token": a2["token"], "type": "async"}],
        "pure_replica_interval_default": 3600,
    }
    for k, v in overrides.items():
        conf.set_override(k, v, group=group)
    return pure.PureISCSIDriver(configuration=config)


def main():
    args = json.loads(sys.argv[1])
    out = {}
    objects.register_all()
    lockdir = tempfile.mkdtemp(prefix="cinder-locks-")
    cfg.CONF.set_override("backend_url", f"file://{lockdir}",
                          group="coordination")
    coordination.COORDINATOR.start()
    drv = make_driver(args)
    ctx = context.get_admin_context()
    drv.do_setup(ctx)
    drv.check_for_setup_error()
    out["setup"] = {"array": drv._array.array_name,
                    "targets": [a.array_name
                                for a in drv._replication_target_arrays]}
    vol = fake_volume.fake_volume_obj(ctx, id=str(uuid.uuid4()), size=1,
                                      volume_type_id=None, metadata={})
    with mock.patch.object(pure.PureBaseVolumeDriver,
                           "_get_replication_type_from_vol_type",
                           return_value="async"):
        update = drv.create_volume(vol)
    out["create"] = {"provider_id": update["provider_id"],
                     "replication_status": update["replication_status"]}
    vol.provider_id = update["provider_id"]
    snap = fake_snapshot.fake_snapshot_obj(ctx, id=str(uuid.uuid4()),
                                           volume_size=1)
    snap.volume = vol
    snap.volume_id = vol.id
    drv.create_snapshot(snap)
    out["snapshot"] = drv._get_snap_name(snap)
    connector = {"host": "compute1", "initiator":
                 "iqn.1993-08.org.debian:01:harness", "multipath": True}
    with mock.patch.object(objects.Volume, "get_by_id", return_value=vol):
        conn = drv.initialize_connection(vol, connector)
        out["connect"] = {"type": conn["driver_volume_type"],
                          "portals": conn["data"]["target_portals"],
                          "luns": conn["data"]["target_luns"],
                          "wwn": conn["data"].get("wwn")}
        drv.terminate_connection(vol, connector)
    stats = drv.get_volume_stats(refresh=True)
    out["stats"] = {k: stats.get(k) for k in (
        "replication_enabled", "replication_count", "replication_targets")}
    # Async failover: a host write, one scheduled replication (the sim
    # clock is advanced through the control API), then failover_host.
    ctl = args["control_url"]
    _post(f"{ctl}/_sim/arrays/array1/write/{vol.provider_id}",
          {"data_version": 5})
    _post(f"{ctl}/_sim/clock/advance", {"seconds": 3600})
    _post(f"{ctl}/_sim/arrays/array1/write/{vol.provider_id}",
          {"data_version": 6})
    backend, updates, _groups = drv.failover_host(ctx, [vol], "array2", [])
    out["failover"] = {"backend": backend,
                       "updates": [u["updates"].get("replication_status")
                                   for u in updates]}
    print("RESULT " + json.dumps(out), flush=True)


def _post(url, body):
    import urllib.request
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


if __name__ == "__main__":
    main()
