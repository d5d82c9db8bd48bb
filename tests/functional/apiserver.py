"""Run the real protector-api (gunicorn) as a subprocess for tests."""
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from protector_lab import keystone as ks_mod
from tests import services


def _bin(name):
    here = os.path.dirname(sys.executable)
    path = os.path.join(here, name)
    return path if os.path.exists(path) else shutil.which(name)


class APIServer:
    """protector-manage db sync + protector-api on a free port."""

    def __init__(self, workdir, db_url, authtoken=None, extra=None,
                 workers=2, policy_file=None):
        self.workdir = workdir
        self.db_url = db_url
        self.port = ks_mod.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf_file = os.path.join(workdir, "protector.conf")
        self.log_file = os.path.join(workdir, "protector-api.log")
        self._proc = None
        os.makedirs(workdir, exist_ok=True)
        sections = {
            "DEFAULT": {"debug": "True", "state_path": workdir,
                        "log_file": self.log_file},
            "api": {"bind_host": "127.0.0.1", "bind_port": str(self.port),
                    "workers": str(workers),
                    "auth_strategy": "keystone" if authtoken else "noauth2"},
            "database": {"connection": db_url},
            "oslo_policy": {"policy_file": policy_file or
                            os.path.join(workdir, "policy.yaml")},
        }
        if authtoken:
            sections["keystone_authtoken"] = authtoken
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        with open(self.conf_file, "w") as f:
            for section, values in sections.items():
                f.write("[%s]\n" % section)
                for key, value in values.items():
                    f.write("%s = %s\n" % (key, value))

    def manage(self, *args):
        return subprocess.run(
            [_bin("protector-manage"), "--config-file", self.conf_file]
            + list(args), capture_output=True, text=True)

    def start(self):
        result = self.manage("db", "sync")
        if result.returncode != 0:
            raise RuntimeError("db sync failed: %s" % result.stderr)
        self._proc = subprocess.Popen(
            [_bin("protector-api"), "--config-file", self.conf_file],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.workdir, "gunicorn.err"), "w"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self._proc.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("protector-api did not start; see %s" %
                           self.workdir)

    def stop(self, later=False):
        """SIGTERM, then wait for the exit (gunicorn takes about 1 s); with
        ``later``, at the end of the session (``services.LATER``), beside
        the others: for fixtures' teardowns, where nothing needs it gone
        (returns the process)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        if later:
            services.LATER.add(proc)
            return proc
        services.wait_or_kill(proc)
