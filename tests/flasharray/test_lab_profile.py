"""The lab's ``pure`` profile: its simulator process and generated config.

The simulator runs as the lab runs it (``fa_lab.FlashArrays``: its own
process, tokens from a 0600 file, never on the command line nor printed),
and the real py-pure-client logs in to both arrays with those tokens. The
generated cinder.conf and protector.conf carry what Cinder's Pure driver
and Protector's pure driver need.
"""
import configparser
import json
import os
import stat

import pytest

from protector_lab import config
from protector_lab import fa_lab
from protector_lab import layout


@pytest.fixture
def arrays(tmp_path, monkeypatch):
    # Offsets far from the lab's, so a running lab does not matter.
    sites = layout.sites(str(tmp_path), offsets=(31000, 31100))
    fas = fa_lab.FlashArrays(str(tmp_path), sites)
    try:
        yield fas, sites
    finally:
        fas.stop()


def test_simulator_process_keeps_its_tokens_secret(arrays):
    fas, sites = arrays
    assert fas.start(log=lambda msg: None)
    assert fas.running() and fas.answering()
    tokens = fas.tokens()
    assert sorted(tokens) == ["fa-site-a", "fa-site-b"]
    for path in (fas.tokens_file, fas.info_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cmd = " ".join(fas.command())
    with open(fas.logfile) as f:
        log = f.read()
    for token in tokens.values():
        assert token not in cmd and token not in log
        assert token not in json.dumps(fas.spec())
    assert '"api_token": "***"' in log
    from pypureclient import flasharray
    for s in sites:
        fa = flasharray.Client(target="127.0.0.1:%d" % fas.port(s),
                               api_token=tokens[fa_lab.array_name(s.name)])
        res = fa.get_array_connections()
        assert res.status_code == 200
        conns = list(res.items)
        assert [c.type for c in conns] == ["sync-replication"]
    assert fas.stop()
    assert not fas.running()


def test_pure_profile_config(arrays):
    fas, sites = arrays
    site_a = sites[0]
    fa = fas.site_settings(site_a)
    cinder = configparser.ConfigParser(interpolation=None)
    cinder.read_string(config.cinder_conf(site_a, fa))
    backend = cinder[site_a.backend_name]
    assert backend["volume_driver"] == \
        "protector_lab_shims.cinder_pure.LabPureISCSIDriver"
    assert backend["san_ip"] == "127.0.0.1:%d" % fas.port(site_a)
    assert backend["replication_device"] == (
        "backend_id:fa-site-b,san_ip:127.0.0.1:%d,api_token:%s,type:async"
        % (fas.port(sites[1]), fa["peer_token"]))
    prot = configparser.ConfigParser(interpolation=None)
    prot.read_string(config.protector_conf(site_a, fa=fa))
    assert prot["DEFAULT"]["use_mock_storage"] == "false"
    assert prot["storage"]["driver"] == "pure"
    assert prot["storage"]["pure_ca_bundle"] == fas.cert
    # The default profile is unchanged.
    plain = configparser.ConfigParser(interpolation=None)
    plain.read_string(config.cinder_conf(site_a))
    assert plain[site_a.backend_name]["volume_driver"] == \
        config.CINDER_DRIVER
    prot.read_string(config.protector_conf(site_a))
    assert prot["storage"]["driver"] == "mock"


def test_profile_from_env():
    assert fa_lab.profile_from_env({}) == "default"
    assert fa_lab.profile_from_env({"PROTECTOR_LAB_PROFILE": "pure"}) == \
        "pure"
    with pytest.raises(fa_lab.FlashArrayError):
        fa_lab.profile_from_env({"PROTECTOR_LAB_PROFILE": "netapp"})
