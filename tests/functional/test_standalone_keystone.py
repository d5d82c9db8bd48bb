"""The tests' Keystone (protector_lab.keystone.StandaloneKeystone) starts
from a copy of a migrated, bootstrapped database."""
import subprocess

import pytest

from protector_lab import keystone as ks_mod

pytestmark = pytest.mark.keystone


def test_a_later_start_copies_the_database_and_serves_its_own_url(
        tmp_path, monkeypatch):
    monkeypatch.delenv("PROTECTOR_LAB_DB_CACHE", raising=False)
    first = ks_mod.StandaloneKeystone(str(tmp_path / "one"))
    first.start()  # makes the copy, if no start before it did
    first.stop()
    ran = []
    real = subprocess.run

    def run(cmd, *args, **kwargs):
        ran.append(cmd)
        return real(cmd, *args, **kwargs)
    monkeypatch.setattr(ks_mod.subprocess, "run", run)
    second = ks_mod.StandaloneKeystone(str(tmp_path / "two"))
    second.start()
    try:
        assert [cmd for cmd in ran if "keystone-manage" in cmd[0]] == []
        assert second.port != first.port
        _, data = ks_mod._request("GET", second.auth_url + "/auth/catalog",
                                  token=second.admin_token())
        assert {e["url"] for s in data["catalog"]
                for e in s["endpoints"]} == {second.auth_url}
    finally:
        second.stop()
