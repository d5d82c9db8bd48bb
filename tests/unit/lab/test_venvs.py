"""Venv cache naming and the shared uWSGI wheel (no pip run here)."""
import os

from protector_lab import venvs


def test_local_package_counts_by_name_not_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_CACHE", str(tmp_path))
    one = tmp_path / "clone1" / "shims"
    two = tmp_path / "clone2" / "shims"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    # Another checkout of the repository shares the venv ...
    assert venvs.path("neutron", [str(one)]) == venvs.path("neutron",
                                                           [str(two)])
    # ... but a different package list does not.
    assert venvs.path("neutron", [str(one)]) != venvs.path("neutron")


def test_tree_digest_follows_content(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = venvs._tree_digest(str(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"junk")
    assert venvs._tree_digest(str(tmp_path)) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert venvs._tree_digest(str(tmp_path)) != before


def test_uwsgi_wheel_built_once_for_venvs_that_need_it(tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_CACHE", str(tmp_path))
    calls = []

    class Done:
        returncode = 0
        stderr = ""

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        house = cmd[cmd.index("-w") + 1]
        open(os.path.join(house, "uWSGI-2.0.31-cp311-linux.whl"),
             "w").close()
        return Done()

    monkeypatch.setattr(venvs.subprocess, "run", fake_run)
    venvs.prebuild_wheels(["osc", "cinder"], log=lambda m: None)
    assert calls == []                 # neither needs uWSGI
    venvs.prebuild_wheels(["ks", "nova"], log=lambda m: None)
    assert len(calls) == 1 and calls[0][-1] == "uwsgi"
    venvs.prebuild_wheels(["glance"], log=lambda m: None)
    assert len(calls) == 1             # already in the wheelhouse


def test_uv_installs_when_present_and_pip_when_asked(tmp_path,
                                                     monkeypatch):
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\n")
    uv.chmod(0o755)
    monkeypatch.setattr(venvs.shutil, "which", lambda name: str(uv))
    monkeypatch.setattr(venvs.os.path, "dirname",
                        lambda p, real=os.path.dirname: (
                            "/nonexistent" if p == venvs.sys.executable
                            else real(p)))
    monkeypatch.delenv("PROTECTOR_LAB_INSTALLER", raising=False)
    cmd = venvs._install_cmd("/v", "--no-deps", "--force-reinstall", "x")
    # uv spells pip's --force-reinstall --reinstall.
    assert cmd == [str(uv), "pip", "install", "--quiet", "--python",
                   "/v/bin/python", "--no-deps", "--reinstall", "x"]
    monkeypatch.setenv("PROTECTOR_LAB_INSTALLER", "pip")
    cmd = venvs._install_cmd("/v", "--no-deps", "--force-reinstall", "x")
    assert cmd[:3] == ["/v/bin/python", "-m", "pip"]
    assert cmd[-3:] == ["--no-deps", "--force-reinstall", "x"]


def test_no_uv_falls_back_to_pip(monkeypatch):
    monkeypatch.delenv("PROTECTOR_LAB_INSTALLER", raising=False)
    monkeypatch.setattr(venvs.shutil, "which", lambda name: None)
    monkeypatch.setattr(venvs.os, "access", lambda p, mode: False)
    assert venvs.uv() is None
    assert venvs._install_cmd("/v", "y")[:3] == ["/v/bin/python", "-m",
                                                 "pip"]


def test_venvs_are_byte_compiled_once_even_if_built_before(tmp_path,
                                                           monkeypatch):
    """uv writes no .pyc files and the services run where
    PYTHONDONTWRITEBYTECODE is set: a venv is compiled once, a cached
    one built before that at its next use, and not again after."""
    monkeypatch.setenv("PROTECTOR_LAB_CACHE", str(tmp_path))
    target = venvs.path("ks")
    os.makedirs(os.path.join(target, "lib"))
    open(os.path.join(target, ".complete"), "w").close()
    calls = []
    monkeypatch.setattr(venvs.subprocess, "run",
                        lambda cmd, **kw: calls.append(cmd))
    assert venvs.ensure("ks", log=lambda msg: None) == target
    compiles = [c for c in calls if "compileall" in c]
    assert len(compiles) == 1
    assert compiles[0][0] == os.path.join(target, "bin", "python")
    assert compiles[0][-1] == os.path.join(target, "lib")
    assert "-x" in compiles[0]
    venvs.ensure("ks", log=lambda msg: None)
    assert len([c for c in calls if "compileall" in c]) == 1
