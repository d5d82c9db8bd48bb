"""How the lab installs protector-dashboard into Horizon's venv and runs
it (lab/protector_lab/horizon.py); the browser tests prove it serves."""
import os

from protector_lab import horizon
from protector_lab import layout


def _venv(tmp_path):
    site_packages = tmp_path / "venv" / "lib" / "python3.11" / \
        "site-packages"
    plugin = site_packages / "protector_dashboard"
    for sub in ("enabled", "local_settings.d"):
        (plugin / sub).mkdir(parents=True)
    (plugin / "enabled" / "_6010_group.py").write_text("PANEL_GROUP = 'x'\n")
    (plugin / "enabled" / "__init__.py").write_text("")
    (plugin / "local_settings.d" / "_60_protector.py").write_text("X = 1\n")
    (site_packages / "openstack_dashboard" / "local").mkdir(parents=True)
    return str(tmp_path / "venv"), site_packages


def test_plugin_files_and_settings_go_where_horizon_reads_them(tmp_path):
    venv, site_packages = _venv(tmp_path)
    horizon.install_plugin(venv)
    local = site_packages / "openstack_dashboard" / "local"
    assert sorted(os.listdir(local / "enabled")) == ["_6010_group.py"]
    assert os.listdir(local / "local_settings.d") == ["_60_protector.py"]
    settings = (local / "local_settings.py").read_text()
    compile(settings, "local_settings.py", "exec")
    # Sessions stay on the server; the per-site values come from uWSGI.
    assert 'SESSION_ENGINE = "django.contrib.sessions.backends.file"' in \
        settings
    assert "PROTECTOR_LAB_KEYSTONE_URL" in settings
    assert repr(horizon.static_root(venv)) in settings


def test_uwsgi_serves_site_a_with_its_keystone(tmp_path):
    a = layout.sites(str(tmp_path))[0]
    ini = horizon.uwsgi_ini(a, "/v/horizon")
    assert "http-socket = 127.0.0.1:%d" % a.port("horizon") in ini
    assert "env = PROTECTOR_LAB_KEYSTONE_URL=%s" % a.auth_url in ini
    assert "static-map = /static=/v/horizon/horizon-static" in ini
    # The secret key is a file of the site, never in the ini itself.
    assert "PROTECTOR_LAB_HORIZON_SECRET_FILE=%s" % a.dir(
        "horizon", "secret_key") in ini
