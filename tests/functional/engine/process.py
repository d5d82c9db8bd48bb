"""Run the real protector-engine as a subprocess for tests."""
import json
import os
import signal
import subprocess
import time

from tests.functional import apiserver


class EngineProcess:
    def __init__(self, workdir, db_url, host, transport_url=None,
                 lock_url=None, poll_interval=0.5, stale_after=60,
                 faults=None):
        self.workdir = workdir
        self.host = host
        self.conf_file = os.path.join(workdir, "engine-%s.conf" % host)
        self.log_file = os.path.join(workdir, "engine-%s.log" % host)
        self.faults = faults
        self.proc = None
        sections = {
            "DEFAULT": {"debug": "True", "state_path": workdir,
                        "log_file": self.log_file},
            "database": {"connection": db_url},
            "engine": {"host": host, "poll_interval": str(poll_interval),
                       "heartbeat_interval": "0.5",
                       "stale_after": str(stale_after)},
            "coordination": {"backend_url": lock_url or
                             "file://%s/locks" % workdir},
            "cloud": {"connect_retries": "0", "request_timeout": "5"},
        }
        if transport_url:
            sections["DEFAULT"]["transport_url"] = transport_url
        os.makedirs(workdir, exist_ok=True)
        with open(self.conf_file, "w") as f:
            for section, values in sections.items():
                f.write("[%s]\n" % section)
                for key, value in values.items():
                    f.write("%s = %s\n" % (key, value))

    def start(self):
        env = dict(os.environ)
        env.pop("PROTECTOR_ENGINE_FAULTS", None)
        if self.faults:
            env["PROTECTOR_ENGINE_FAULTS"] = json.dumps(self.faults)
        self.proc = subprocess.Popen(
            [apiserver._bin("protector-engine"), "--config-file",
             self.conf_file], env=env, stdout=subprocess.DEVNULL,
            stderr=open(self.log_file + ".err", "a"))
        return self

    def kill(self):
        """SIGKILL: no cleanup of any kind, like a crashed host."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        try:
            with open(self.log_file) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def wait_for(predicate, what, timeout=120, interval=0.2, procs=()):
    """Wait (generously) for ``predicate()``; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for proc in procs:
            if not proc.alive():
                raise AssertionError("engine %s exited while waiting for "
                                     "%s; see %s" % (proc.host, what,
                                                     proc.log_file))
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s" % what)
