"""Horizon with protector-dashboard, for site-a of the lab (doc/lab.md).

Horizon reads ``openstack_dashboard/local/local_settings.py``, the
``local_settings.d`` snippets and the ``enabled`` files from its installed
package, so those go into the horizon venv (as a deployment tool installs
a plugin). What differs per site - the Keystone URL, the session
directory, the secret key - comes from the environment uWSGI starts
Horizon with, so one venv serves every lab on the machine.

Static files are collected and compressed offline once per venv and
version of the plugin (``manage.py compress`` takes a minute; a warm
``up`` only starts uWSGI). Sessions are kept server-side in files under
the site's directory (nothing but the session id in the browser's
cookie), which is where the peer-site credentials of the dashboard will
live too.
"""
import glob
import os
import shutil
import subprocess

from protector_lab import venvs

# The demo user signs in to site-a's Horizon with the demo project.
SETTINGS = '''\
# Written by protector-lab (lab/protector_lab/horizon.py): the lab's
# Horizon. Per-site values come from the environment of its uWSGI.
import os

DEBUG = False
ALLOWED_HOSTS = ["*"]
# Made on first use, kept in a file only the lab's user can read (as
# Horizon's own local_settings example does).
from horizon.utils import secret_key as _secret_key  # noqa: E402
SECRET_KEY = _secret_key.generate_or_read_from_file(os.environ.get(
    "PROTECTOR_LAB_HORIZON_SECRET_FILE", {build_key!r}))
OPENSTACK_KEYSTONE_URL = os.environ.get(
    "PROTECTOR_LAB_KEYSTONE_URL", "http://127.0.0.1:5000/v3")
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"
WEBROOT = "/"
STATIC_ROOT = {static_root!r}
COMPRESS_OFFLINE = True
# Server-side sessions: the browser holds the session id only.
SESSION_ENGINE = "django.contrib.sessions.backends.file"
SESSION_FILE_PATH = os.environ.get("PROTECTOR_LAB_HORIZON_SESSIONS", "/tmp")
CACHES = {{"default": {{
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}}
TIME_ZONE = "UTC"
LOGGING = {{
    "version": 1, "disable_existing_loggers": False,
    "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
    "root": {{"handlers": ["console"], "level": "WARNING"}},
}}
'''


class HorizonError(RuntimeError):
    pass


def package_dir(venv):
    found = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages",
                                   "openstack_dashboard"))
    if not found:
        raise HorizonError("openstack_dashboard is not installed in %s" %
                           venv)
    return found[0]


def static_root(venv):
    return os.path.join(venv, "horizon-static")


def _env(venv, extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
           and not k.startswith("OS_")}
    env["DJANGO_SETTINGS_MODULE"] = "openstack_dashboard.settings"
    env.update(extra or {})
    return env


def install_plugin(venv):
    """The plugin's enabled files and settings snippet, copied where
    Horizon looks for them, and the lab's local_settings.py."""
    dash = package_dir(venv)
    plugin = os.path.join(os.path.dirname(dash), "protector_dashboard")
    local = os.path.join(dash, "local")
    for sub, pattern in (("enabled", "_6*.py"),
                         ("local_settings.d", "_*.py")):
        target = os.path.join(local, sub)
        os.makedirs(target, exist_ok=True)
        for path in glob.glob(os.path.join(plugin, sub, pattern)):
            shutil.copyfile(path, os.path.join(target,
                                               os.path.basename(path)))
    with open(os.path.join(local, "local_settings.py"), "w") as f:
        f.write(SETTINGS.format(
            static_root=static_root(venv),
            # The key of collectstatic/compress runs (no sessions there).
            build_key=os.path.join(venv, ".horizon-build-key")))
    return plugin


def prepare(venv, log=print):
    """Install the plugin's files; collect and compress the static files
    if this venv and plugin version have not been compressed yet."""
    plugin = install_plugin(venv)
    marker = os.path.join(venv, ".horizon-static-%s" %
                          venvs._tree_digest(plugin))
    if os.path.exists(marker):
        return
    python = os.path.join(venv, "bin", "python")
    for step in (["collectstatic", "--noinput", "--clear"],
                 ["compress", "--force"]):
        result = subprocess.run([python, "-m", "django"] + step,
                                capture_output=True, text=True,
                                env=_env(venv), timeout=900)
        if result.returncode != 0:
            raise HorizonError("horizon %s failed:\n%s" % (
                step[0], (result.stdout + result.stderr)[-3000:]))
    for old in glob.glob(os.path.join(venv, ".horizon-static-*")):
        os.unlink(old)
    open(marker, "w").close()
    log("[lab] horizon static files compressed")


def uwsgi_ini(site, venv):
    """Horizon under uWSGI on the site's horizon port, static files served
    by uWSGI from the compressed tree."""
    env = {"DJANGO_SETTINGS_MODULE": "openstack_dashboard.settings",
           "PROTECTOR_LAB_KEYSTONE_URL": site.auth_url,
           "PROTECTOR_LAB_HORIZON_SESSIONS": site.dir("horizon", "sessions"),
           "PROTECTOR_LAB_HORIZON_SECRET_FILE": site.dir("horizon",
                                                         "secret_key")}
    lines = ["[uwsgi]",
             "http-socket = 127.0.0.1:%d" % site.port("horizon"),
             "module = openstack_dashboard.wsgi:application",
             "virtualenv = %s" % venv]
    lines += ["env = %s=%s" % kv for kv in env.items()]
    lines += ["static-map = /static=%s" % static_root(venv),
              "processes = 2", "threads = 2", "enable-threads = true",
              "master = true", "lazy-apps = true", "die-on-term = true",
              "need-app = true", "buffer-size = 65535",
              "procname-prefix-spaced = lab-%s-horizon" % site.name, ""]
    return "\n".join(lines)
