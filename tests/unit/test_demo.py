"""tools/demo.py: every drill step is implemented, so any failing step
fails the demo (issue 14 item 18: a 404 used to end it with exit 0); the
sites are registered as doc/cli.md ("Sites") says."""
import json
import subprocess
import types

import pytest

from tools import demo


def test_a_failing_step_fails_the_demo_even_on_a_404(monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: types.
                        SimpleNamespace(returncode=1, stdout="", stderr=(
                            "The resource does not exist. (HTTP 404, code "
                            "protector.request.not_found)")))
    with pytest.raises(SystemExit) as exc:
        demo.run(["dr", "test-failover", "demo-drill"])
    assert "step failed" in str(exc.value.code)
    assert not hasattr(demo, "NotYet")


def _site(name):
    return types.SimpleNamespace(
        name=name, admin_cloud=name + "-admin", auth_url="http://%s/v3" % name,
        region="RegionOne")


def _register(monkeypatch, registered):
    """Run register_sites on a lab whose sites hold ``registered``
    ({site: [names]}); return the site create calls (cloud, secondary,
    name)."""
    calls = []

    def run(args, cloud=None, secondary=None, check=True, capture=True):
        calls.append((args, cloud, secondary))
        rows = [{"Name": n} for n in registered[cloud[:-len("-admin")]]]
        return types.SimpleNamespace(returncode=0, stdout=json.dumps(rows),
                                     stderr="")

    monkeypatch.setattr(demo, "run", run)
    demo.register_sites(_site("site-a"), _site("site-b"))
    return [(cloud, secondary, args[args.index("--name") + 1])
            for args, cloud, secondary in calls if args[2] == "create"]


def test_sites_are_registered_once_from_site_a(monkeypatch):
    # doc/cli.md: both from site-a, site-b as the secondary cloud.
    assert _register(monkeypatch, {"site-a": [], "site-b": []}) == [
        ("site-a-admin", "site-b-admin", "site-a"),
        ("site-a-admin", "site-b-admin", "site-b")]


def test_a_rerun_registers_only_what_is_missing(monkeypatch):
    assert _register(monkeypatch, {"site-a": ["site-a", "site-b"],
                                   "site-b": ["site-a", "site-b"]}) == []
    # Left on one site only: registered on the other alone.
    assert _register(monkeypatch, {"site-a": ["site-a", "site-b"],
                                   "site-b": ["site-b"]}) == [
        ("site-b-admin", None, "site-a")]
