"""Switching a running lab's storage profile in place (protector_lab.lab.
Lab.switch). The integration suite proves the switched lab works (the
pure-profile tests run on a lab switched from the default profile); these
pin what the switch touches and that an interrupted one is finished by
the next 'up'."""
import datetime

import pytest

from protector_lab import fa_lab
from protector_lab import lab as lab_mod
from protector_lab import layout
from protector_lab import site as site_mod

VENVS = {name: "/venvs/" + name for name in
         ("ks", "osc", "glance", "cinder", "nova", "neutron", "horizon")}


def _site_files(site, fa):
    return site_mod.config_files(site, VENVS, fa)


def test_the_profiles_differ_only_in_the_files_a_switch_writes(tmp_path):
    sites = layout.sites(str(tmp_path))
    fas = fa_lab.FlashArrays(str(tmp_path), sites)
    for site in sites:
        default = _site_files(site, None)
        pure = _site_files(site, fas.site_settings(site))
        assert set(default) == set(pure)
        differ = {p for p in default if default[p] != pure[p]}
        assert differ == {site.dir("cinder", "cinder.conf"),
                          site.dir("protector", "protector.conf")}
        builder = site_mod.SiteBuilder(site, VENVS, lambda m: None,
                                       fa=fas.site_settings(site))
        for path in differ:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        builder.write_profile_files()
        for path in differ:
            with open(path) as f:
                assert f.read() == pure[path]


def test_cinder_timestamps():
    assert site_mod._utc("2026-12-06T16:20:01.123456") == \
        datetime.datetime(2026, 12, 6, 16, 20, 1)
    assert site_mod._utc("2026-12-06 16:20:01") == \
        datetime.datetime(2026, 12, 6, 16, 20, 1)
    assert site_mod._utc(None) == datetime.datetime.min


class _Recorder:
    """The lab's process control and the builders' cloud calls, recorded
    instead of run."""

    def __init__(self, monkeypatch, fail_settle=False):
        self.stopped, self.started, self.settled = [], [], []
        self.fa = []
        rec = self

        def settle(builder, since):
            if fail_settle:
                raise site_mod.SetupError("cinder-volume did not report")
            rec.settled.append((builder.site.name, bool(builder.fa)))
        monkeypatch.setattr(site_mod.SiteBuilder, "set_group_specs",
                            lambda b: None)
        monkeypatch.setattr(site_mod.SiteBuilder, "wait_backend_reported",
                            settle)
        monkeypatch.setattr(site_mod.SiteBuilder, "write_profile_files",
                            lambda b: None)
        monkeypatch.setattr(fa_lab.FlashArrays, "start",
                            lambda f, log: rec.fa.append("start"))
        monkeypatch.setattr(fa_lab.FlashArrays, "stop",
                            lambda f: rec.fa.append("stop"))
        monkeypatch.setattr(lab_mod.Lab, "check_ports",
                            lambda lab, sites, fas=None: None)
        monkeypatch.setattr(lab_mod.Lab, "_timed_stop",
                            lambda lab, pidfile: rec.stopped.append(
                                pidfile) or True)
        monkeypatch.setattr(
            lab_mod.Lab, "_start_processes",
            lambda lab, state, selected, wait: rec.started.extend(
                (s.name, n) for s, n in selected) or selected)
        monkeypatch.setattr(lab_mod.Lab, "status",
                            lambda lab: {"processes": []})


def _ready_lab(tmp_path, profile="default"):
    lab = lab_mod.Lab(str(tmp_path / "lab"), log=lambda m: None)
    sites = layout.sites(lab.state_dir)
    state = {"ready": True, "profile": profile, "venvs": VENVS,
             "sites": {s.name: {
                 "offset": s.offset,
                 "processes": {n: {"cmd": ["x"]} for n in
                               lab_mod.START_ORDER}} for s in sites}}
    lab.save(state)
    return lab


def test_up_in_the_other_profile_switches_in_place(tmp_path, monkeypatch):
    rec = _Recorder(monkeypatch)
    lab = _ready_lab(tmp_path)
    state = lab.up(profile="pure")
    assert state["profile"] == "pure" and "switching" not in state
    assert lab.load()["profile"] == "pure"
    assert lab.load()["flasharray"]["arrays"]["site-a"]["name"] == \
        "fa-site-a"
    # Only cinder-volume and Protector, on both sites.
    expected = sorted((s, n) for s in ("site-a", "site-b")
                      for n in lab_mod.SWITCH_PROCESSES)
    assert sorted(rec.started) == expected
    assert len(rec.stopped) == len(expected)
    assert rec.fa == ["stop", "start"]
    assert sorted(rec.settled) == [("site-a", True), ("site-b", True)]
    # And back: no array simulator, no pure settings.
    rec.fa.clear()
    state = lab.up(profile="default")
    assert state["profile"] == "default" and "flasharray" not in state
    assert rec.fa == ["stop"]
    assert ("site-a", False) in rec.settled


def test_an_interrupted_switch_is_finished_by_the_next_up(tmp_path,
                                                          monkeypatch):
    _Recorder(monkeypatch, fail_settle=True)
    lab = _ready_lab(tmp_path)
    with pytest.raises(site_mod.SetupError):
        lab.up(profile="pure")
    assert lab.load()["switching"] == "pure"
    rec = _Recorder(monkeypatch)
    state = lab.up(profile="pure")
    assert state["profile"] == "pure" and "switching" not in state
    assert sorted(rec.settled) == [("site-a", True), ("site-b", True)]


def test_up_in_the_same_profile_restarts_nothing(tmp_path, monkeypatch):
    rec = _Recorder(monkeypatch)
    lab = _ready_lab(tmp_path)
    assert lab.up(profile="default")["profile"] == "default"
    assert rec.started == [] and rec.stopped == [] and rec.fa == []
