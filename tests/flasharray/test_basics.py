"""Login, volumes, snapshots, hosts and the query layer, via py-pure-client."""
import pytest
from pypureclient import flasharray
from pypureclient.exceptions import PureError

GiB = 1 << 30


def names(resp):
    assert resp.status_code == 200, getattr(resp, "errors", resp)
    return [i.name for i in resp.items]


def err(resp):
    assert resp.status_code >= 400, resp
    return resp.errors[0].message


def test_version_negotiation_and_login(sim, fa1):
    # The client picks the highest version both sides know: 2.56.
    assert type(fa1).__module__.endswith("FA_2_56.client")
    logins = sim.recorder.calls("array1", "POST", "/login")
    assert logins and logins[0].path == "/api/2.56/login"
    assert "x-auth-token" in logins[0].headers
    arr = list(fa1.get_arrays().items)[0]
    assert (arr.name, arr.id) == ("array1", sim.fabric.arrays["array1"].id)
    assert arr.version >= "6.3.4"


def test_wrong_token_is_refused(sim):
    with pytest.raises(PureError, match="401"):
        flasharray.Client(target=sim.endpoint("array1"), api_token="wrong")


def test_concurrent_sessions(sim, fa1):
    other = sim.client("array1")
    assert names(fa1.get_volumes()) == names(other.get_volumes()) == []
    assert len(sim.fabric.arrays["array1"].sessions) == 2


def test_expired_session_relogs_in(sim, fa1):
    sim.fabric.faults.expire_sessions("array1")
    assert fa1.get_volumes().status_code == 200   # 401 -> re-login -> retry
    assert len(sim.recorder.calls("array1", "POST", "/login")) == 2


def test_volume_lifecycle(sim, fa1):
    r = fa1.post_volumes(names=["vol-a", "vol-b"],
                         volume=flasharray.VolumePost(provisioned=GiB))
    items = list(r.items)
    assert [i.name for i in items] == ["vol-a", "vol-b"]
    assert all(len(i.serial) == 24 and int(i.serial, 16) for i in items)
    assert "already exists" in err(fa1.post_volumes(
        names=["vol-a"], volume=flasharray.VolumePost(provisioned=GiB)))
    assert "does not exist" in err(fa1.get_volumes(names=["nope"]))
    r = fa1.patch_volumes(names=["vol-a"],
                          volume=flasharray.VolumePatch(provisioned=2 * GiB))
    assert list(r.items)[0].provisioned == 2 * GiB
    assert "destroyed" in err(fa1.delete_volumes(names=["vol-a"]))
    fa1.patch_volumes(names=["vol-a"],
                      volume=flasharray.VolumePatch(destroyed=True))
    assert names(fa1.get_volumes(destroyed=False)) == ["vol-b"]
    vol = list(fa1.get_volumes(names=["vol-a"]).items)[0]
    assert vol.destroyed and vol.time_remaining > 0
    assert fa1.delete_volumes(names=["vol-a"]).status_code == 200
    assert names(fa1.get_volumes()) == ["vol-b"]


def test_destroyed_volume_is_eradicated_after_a_day(sim, fa1):
    fa1.post_volumes(names=["v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.patch_volumes(names=["v"],
                      volume=flasharray.VolumePatch(destroyed=True))
    sim.fabric.advance(86_400)
    assert names(fa1.get_volumes()) == []


def test_snapshots_and_copies_carry_data_version(sim, fa1):
    fab = sim.fabric
    fa1.post_volumes(names=["src"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    assert fab.write("array1", "src") == 1
    r = fa1.post_volume_snapshots(
        source_names=["src"],
        volume_snapshot=flasharray.VolumeSnapshotPost(suffix="snap-1"))
    assert names(r) == ["src.snap-1"]
    fab.write("array1", "src")
    fab.write("array1", "src")
    assert fab.data_version("array1", "src") == 3
    assert fab.data_version("array1", "src.snap-1") == 1
    r = fa1.post_volumes(names=["copy"], volume=flasharray.VolumePost(
        source=flasharray.Reference(name="src.snap-1")))
    copy = list(r.items)[0]
    assert copy.source.name == "src.snap-1" and copy.provisioned == GiB
    assert fab.data_version("array1", "copy") == 1
    # overwrite an existing volume with an older point in time
    assert "already exists" in err(fa1.post_volumes(
        names=["src"], volume=flasharray.VolumePost(
            source=flasharray.Reference(name="src.snap-1"))))
    fa1.post_volumes(names=["src"], overwrite=True,
                     volume=flasharray.VolumePost(
                         source=flasharray.Reference(name="src.snap-1")))
    assert fab.data_version("array1", "src") == 1
    snaps = fa1.get_volume_snapshots(source_names=["src"])
    assert names(snaps) == ["src.snap-1"]
    fa1.patch_volume_snapshots(names=["src.snap-1"],
                               volume_snapshot=flasharray.VolumeSnapshotPatch(
                                   destroyed=True))
    fa1.delete_volume_snapshots(names=["src.snap-1"])
    assert names(fa1.get_volume_snapshots()) == []


def test_filters_sort_and_pagination(sim, fa1):
    fa1.post_volumes(names=[f"v{i}" for i in range(7)],
                     volume=flasharray.VolumePost(provisioned=GiB))
    assert names(fa1.get_volumes(filter="name='v*' and name!='v0'",
                                 limit=3)) == ["v1", "v2", "v3"]
    assert names(fa1.get_volumes(filter="name='v[1-3]'")) == []  # '*' only
    assert names(fa1.get_volumes(filter="name='v*' and not name='v0'",
                                 sort=["name-"]))[:2] == ["v6", "v5"]
    assert names(fa1.get_volumes(
        filter='name="v2" or name="v4"')) == ["v2", "v4"]
    r = fa1.get_volumes(limit=3)
    assert r.total_item_count == 7 and r.continuation_token
    page2 = fa1.get_volumes(limit=3, continuation_token=r.continuation_token)
    assert names(page2) == ["v3", "v4", "v5"]
    assert "Invalid filter" in err(fa1.get_volumes(filter="name=("))


def test_tags(sim, fa1):
    fa1.post_volumes(names=["v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    ns = "openstack-integration.purestorage.com"
    r = fa1.put_volumes_tags_batch(resource_names=["v"], tag=[
        flasharray.TagBatch(namespace=ns, key="VmId", value="x",
                            copyable=False)])
    assert r.status_code == 200
    tags = list(fa1.get_volumes_tags(resource_names=["v"]).items)
    assert [(t.key, t.value) for t in tags] == [("VmId", "x")]
    fa1.delete_volumes_tags(resource_names=["v"], namespaces=[ns])
    assert list(fa1.get_volumes_tags(resource_names=["v"]).items) == []


def test_hosts_connections_ports(sim, fa1):
    iqn = "iqn.1993-08.org.debian:01:abc"
    fa1.post_volumes(names=["v1", "v2"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.post_hosts(names=["h1-cinder"], host=flasharray.HostPost(iqns=[iqn]))
    assert "already exists" in err(fa1.post_hosts(
        names=["h1-cinder"], host=flasharray.HostPost(iqns=["iqn.x"])))
    assert "already in use" in err(fa1.post_hosts(
        names=["h2"], host=flasharray.HostPost(iqns=[iqn])))
    assert names(fa1.get_hosts(
        filter=f"iqns='{iqn}' and is_local")) == ["h1-cinder"]
    assert names(fa1.get_hosts(filter=f"iqns='{iqn}' and not is_local")) == []
    luns = [list(fa1.post_connections(host_names=["h1-cinder"],
                                      volume_names=[v]).items)[0].lun
            for v in ("v1", "v2")]
    assert luns == [1, 2]
    assert "already exists" in err(fa1.post_connections(
        host_names=["h1-cinder"], volume_names=["v1"]))
    conns = list(fa1.get_connections(volume_names=["v1"]).items)
    assert [(c.host.name, c.volume.name, c.lun) for c in conns] == \
        [("h1-cinder", "v1", 1)]
    assert list(fa1.get_volumes(names=["v1"]).items)[0].connection_count == 1
    assert "existing connections" in err(fa1.patch_volumes(
        names=["v1"], volume=flasharray.VolumePatch(destroyed=True)))
    assert "existing connections" in err(fa1.delete_hosts(names=["h1-cinder"]))
    fa1.delete_connections(host_names=["h1-cinder"], volume_names=["v1", "v2"])
    assert list(fa1.get_connections(host_names=["h1-cinder"]).items) == []
    fa1.patch_hosts(names=["h1-cinder"], host=flasharray.HostPatch(
        add_iqns=["iqn.extra"], personality="esxi"))
    host = list(fa1.get_hosts(names=["h1-cinder"]).items)[0]
    assert host.iqns == [iqn, "iqn.extra"] and host.personality == "esxi"
    assert fa1.delete_hosts(names=["h1-cinder"]).status_code == 200
    # target side of iSCSI: controllers, ports (iqn + portal), interfaces
    cts = names(fa1.get_controllers(filter="status='ready'"))
    assert cts == ["CT0", "CT1"]
    ports = list(fa1.get_ports(filter="name='CT0.*'").items)
    iscsi = [p for p in ports if getattr(p, "iqn", None)]
    assert iscsi and all(p.portal.endswith(":3260") for p in iscsi)
    r = fa1.get_network_interfaces(
        filter="eth.subtype='lacp_bond' or eth.subtype='vif'")
    assert r.status_code == 200 and list(r.items) == []


def test_array_space_performance_and_connections(sim, fa1, fa2):
    space = list(fa1.get_arrays_space().items)[0]
    assert space.capacity > 0 and space.space.total_provisioned == 0
    r = fa1.get_arrays_performance(resolution=30000, total_item_count=True)
    assert r.status_code == 200
    conns = list(fa1.get_array_connections().items)
    assert [(c.name, c.status, c.type) for c in conns] == \
        [("array2", "connected", "sync-replication")]
    # connect anew with the real API: delete, then POST with the remote key
    fa1.delete_array_connections(names=["array2"])
    assert list(fa1.get_array_connections().items) == []
    key = list(
        fa2.get_array_connections_connection_key().items)[0].connection_key
    assert key == sim.fabric.arrays["array2"].connection_key
    r = fa1.post_array_connections(
        array_connection=flasharray.ArrayConnectionPost(
            management_address=sim.endpoint("array2"), connection_key=key,
            type="async-replication", replication_transport="ip"))
    assert names(r) == ["array2"]
    assert [c.type for c in fa2.get_array_connections().items] == \
        ["async-replication"]
    assert "connection key" in err(fa2.post_array_connections(
        array_connection=flasharray.ArrayConnectionPost(
            management_address=sim.endpoint("array1"), connection_key="bad",
            type="async-replication")))


def test_unknown_endpoint_is_a_404_error_response(sim, fa1):
    r = fa1.get_directory_services()
    assert r.status_code == 404 and "not supported" in r.errors[0].message
