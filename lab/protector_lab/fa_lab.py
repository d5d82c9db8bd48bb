"""The ``pure`` lab profile's FlashArrays: one simulator process, one array
per site.

``protector-lab up --profile pure`` (or ``PROTECTOR_LAB_PROFILE=pure``)
starts ``protector-flasharray-sim`` before the sites, serving array
``fa-site-a`` on 127.0.0.1:9443 and ``fa-site-b`` on 9543 (8443 + the site's
port offset), connected to each other (``sync-replication``, which carries
async protection groups too), on wall-clock time. Each site's Cinder then
runs Cinder's real Pure iSCSI driver against its array with a
``replication_device`` pointing at the other one, and each site's Protector
uses the ``pure`` storage driver (doc/lab.md, "The pure profile").

The API tokens are random per lab, kept in ``<lab>/flasharray/tokens.json``
(mode 0600) and passed to the simulator through that file, never on a
command line nor in a log.
"""
import json
import os
import secrets
import sys
import time

from protector_lab import infra
from protector_lab import procs

PROFILES = ("default", "pure")
PROFILE_ENV = "PROTECTOR_LAB_PROFILE"
ARRAY_BASE_PORT = 8443
CONTROL_BASE_PORT = 8440
PROCESS = "flasharray-sim"


class FlashArrayError(RuntimeError):
    pass


def profile_from_env(environ=None):
    environ = os.environ if environ is None else environ
    profile = environ.get(PROFILE_ENV) or "default"
    if profile not in PROFILES:
        raise FlashArrayError("%s=%r: one of %s" % (
            PROFILE_ENV, profile, ", ".join(PROFILES)))
    return profile


def array_name(site_name):
    return "fa-" + site_name


def _write_private(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class FlashArrays:
    """The simulator of a lab in the ``pure`` profile (``sites``: the lab's
    ``layout.Site`` objects)."""

    def __init__(self, state_dir, sites):
        self.dir = os.path.join(state_dir, "flasharray")
        self.sites = list(sites)
        self.pidfile = os.path.join(self.dir, "run", PROCESS + ".pid")
        self.logfile = os.path.join(self.dir, "log", PROCESS + ".out")
        self.info_file = os.path.join(self.dir, "info.json")
        self.tokens_file = os.path.join(self.dir, "tokens.json")
        self.cert_dir = os.path.join(self.dir, "cert")
        self.control_port = CONTROL_BASE_PORT + (
            self.sites[0].offset if self.sites else 0)

    @property
    def cert(self):
        return os.path.join(self.cert_dir, "cert.pem")

    def port(self, site):
        return ARRAY_BASE_PORT + site.offset

    def ports(self):
        return [self.control_port] + [self.port(s) for s in self.sites]

    def tokens(self):
        """{array name: token}, generated once per lab."""
        try:
            with open(self.tokens_file) as f:
                return json.load(f)
        except FileNotFoundError:
            pass
        tokens = {array_name(s.name): secrets.token_hex(20)
                  for s in self.sites}
        _write_private(self.tokens_file, json.dumps(tokens))
        return tokens

    def command(self):
        exe = os.path.join(os.path.dirname(sys.executable),
                           "protector-flasharray-sim")
        cmd = [exe] if os.path.exists(exe) else \
            [sys.executable, "-m", "protector_lab.flasharray.cli"]
        for s in self.sites:
            cmd += ["--array", "%s=%d" % (array_name(s.name), self.port(s))]
        return cmd + ["--control-port", str(self.control_port),
                      "--cert-dir", self.cert_dir,
                      "--info-file", self.info_file,
                      "--tokens-file", self.tokens_file,
                      "--connection-type", "sync-replication"]

    def spec(self):
        """What lab.json records (no secrets)."""
        return {"cmd": self.command(), "pidfile": self.pidfile,
                "log": self.logfile, "info_file": self.info_file,
                "cert": self.cert, "control_port": self.control_port,
                "arrays": {s.name: {"name": array_name(s.name),
                                    "port": self.port(s),
                                    "endpoint": "127.0.0.1:%d" % self.port(s)}
                           for s in self.sites}}

    # ---- process ----------------------------------------------------------
    def running(self):
        return procs.running_pid(self.pidfile)

    def answering(self):
        return all(infra.port_open("127.0.0.1", p, 1) for p in self.ports())

    def start(self, log=print, timeout=60):
        if self.running():
            log("[lab] %s already running" % PROCESS)
            return False
        self.tokens()
        if os.path.exists(self.info_file):
            os.unlink(self.info_file)
        procs.start(self.command(), self.pidfile, self.logfile)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.info_file) and self.answering()):
            if not self.running():
                raise FlashArrayError("%s exited at start; see %s" % (
                    PROCESS, self.logfile))
            if time.monotonic() > deadline:
                raise FlashArrayError("%s did not answer within %d s; see "
                                      "%s" % (PROCESS, timeout, self.logfile))
            time.sleep(0.2)
        log("[lab] %s started: %s" % (PROCESS, ", ".join(
            "%s on 127.0.0.1:%d" % (array_name(s.name), self.port(s))
            for s in self.sites)))
        return True

    def stop(self):
        return procs.stop(self.pidfile)

    # ---- per-site settings ----------------------------------------------
    def site_settings(self, site):
        """This site's array and its peer, for cinder.conf and
        protector.conf (tokens included: these go into config files)."""
        tokens = self.tokens()
        peer = [s for s in self.sites if s.name != site.name][0]
        return {
            "array": array_name(site.name),
            "endpoint": "127.0.0.1:%d" % self.port(site),
            "token": tokens[array_name(site.name)],
            "peer_array": array_name(peer.name),
            "peer_endpoint": "127.0.0.1:%d" % self.port(peer),
            "peer_token": tokens[array_name(peer.name)],
            "cert": self.cert,
        }
