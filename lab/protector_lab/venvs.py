"""Cached virtualenvs for the OpenStack services, pinned by constraints.

Each service gets its own virtualenv under the cache directory
(``$PROTECTOR_LAB_CACHE`` or ``~/.cache/protector-lab``), named after a hash
of what goes into it, so a changed pin builds a new venv and an unchanged
one is reused across lab runs, test sessions and CI runs on one machine.

Installs go through uv when it is there (a dependency of protector-lab, so
``make venv`` brings it): it resolves and installs from one shared cache
with hard links, which took the cold cinder venv from about 230 s with pip
to under 40 s on this kind of machine (doc/lab.md). pip is the fallback,
and ``PROTECTOR_LAB_INSTALLER=pip`` forces it.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time

CONSTRAINTS_DIR = os.path.join(os.path.dirname(__file__), "constraints")

# venv name -> (constraints file, packages). Versions come from the
# constraints file; the package list only says what to install.
SPECS = {
    "ks": ("ks.txt", ["keystone", "uwsgi", "PyMySQL"]),
    "osc": ("osc.txt", ["python-openstackclient"]),
    "glance": ("glance.txt", ["glance", "uwsgi", "PyMySQL"]),
    "cinder": ("cinder.txt", ["cinder", "fixtures", "PyMySQL"]),
    "nova": ("nova.txt", ["nova", "openstack-placement", "uwsgi",
                          "PyMySQL"]),
    "neutron": ("neutron.txt", ["neutron", "uwsgi", "PyMySQL"]),
    # Horizon: protector-dashboard's unit tests and the lab's Horizon
    # (the dashboard and protectorclient come from the checkout as
    # ``extra``).
    "horizon": ("horizon.txt", ["horizon", "uwsgi"]),
}


def cache_dir():
    return os.environ.get("PROTECTOR_LAB_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "protector-lab")


def wheelhouse():
    """Wheels the lab builds itself (uWSGI), shared by every venv."""
    return os.path.join(cache_dir(), "wheels")


# Packages that come as source only and take long to compile: built once
# into the wheelhouse, so parallel venv builds on a machine without a pip
# cache do not each compile them (uWSGI: ~15 s idle, ~100 s on a busy box).
SOURCE_ONLY = {"uwsgi": "ks.txt"}


def uv():
    """The uv executable to install with, or None to use pip."""
    if os.environ.get("PROTECTOR_LAB_INSTALLER", "").lower() == "pip":
        return None
    beside = os.path.join(os.path.dirname(sys.executable), "uv")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("uv")


def _base_python():
    # The interpreter ``python -m venv`` would use: the base one, not the
    # project venv's, so a service venv does not depend on .venv.
    return getattr(sys, "_base_executable", None) or sys.executable


def _create(target):
    tool = uv()
    if tool:
        # --seed: pip and setuptools inside, as ``python -m venv`` gives;
        # some services still import pkg_resources.
        cmd = [tool, "venv", "--quiet", "--seed", "--python",
               _base_python(), target]
    else:
        cmd = [sys.executable, "-m", "venv", target]
    subprocess.run(cmd, check=True, capture_output=True)


def _install_cmd(target, *args):
    """The command that installs ``args`` into the venv at ``target``."""
    python = os.path.join(target, "bin", "python")
    tool = uv()
    if tool:
        args = ["--reinstall" if a == "--force-reinstall" else a
                for a in args]
        return [tool, "pip", "install", "--quiet", "--python", python,
                *args]
    return [python, "-m", "pip", "install", "--quiet",
            "--disable-pip-version-check", *args]


def is_ready(name, extra=()):
    return os.path.exists(os.path.join(path(name, extra), ".complete"))


def prebuild_wheels(names, log=print):
    """Build the wheels of ``SOURCE_ONLY`` packages that the venvs
    ``names`` (to be built) need and the wheelhouse lacks."""
    wanted = {pkg for pkg in SOURCE_ONLY for n in names
              if pkg in [p.lower() for p in SPECS[n][1]]}
    house = wheelhouse()
    os.makedirs(house, exist_ok=True)
    for pkg in sorted(wanted):
        if any(f.lower().startswith(pkg + "-") for f in os.listdir(house)):
            continue
        with open(os.path.join(house, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if any(f.lower().startswith(pkg + "-")
                   for f in os.listdir(house)):
                continue
            started = time.monotonic()
            log("[lab] building the %s wheel once for all venvs ..." % pkg)
            result = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--quiet",
                 "--disable-pip-version-check", "--no-deps", "-w", house,
                 "-c", os.path.join(CONSTRAINTS_DIR, SOURCE_ONLY[pkg]), pkg],
                capture_output=True, text=True)
            if result.returncode != 0:
                # Not fatal: each venv then builds it the usual way.
                log("[lab] building the %s wheel failed; venvs will build "
                    "it themselves:\n%s" % (pkg, result.stderr[-2000:]))
            else:
                log("[lab] %s wheel built in %.0f s" % (
                    pkg, time.monotonic() - started))


def _digest(name, extra=()):
    constraints, packages = SPECS[name]
    h = hashlib.sha256()
    with open(os.path.join(CONSTRAINTS_DIR, constraints), "rb") as f:
        h.update(f.read())
    # A local package counts by name only, so clones of the repository at
    # other paths share the venv; _refresh_local keeps its files current.
    extra = [("local:" + os.path.basename(os.path.normpath(e)))
             if os.path.isdir(e) else e for e in extra]
    h.update(repr((packages, extra, sys.version_info[:2])).encode())
    return h.hexdigest()[:12]


def path(name, extra=()):
    """Where the venv for ``name`` lives (whether or not it exists yet)."""
    return os.path.join(cache_dir(), "venvs",
                        "%s-%s" % (name, _digest(name, extra)))


def _tree_digest(directory):
    """Hash of the files under ``directory`` (build leftovers ignored)."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in (
            "__pycache__", "build") and not d.endswith(".egg-info"))
        for fname in sorted(files):
            if fname.endswith(".pyc"):
                continue
            full = os.path.join(root, fname)
            h.update(os.path.relpath(full, directory).encode())
            with open(full, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:12]


def _refresh_local(target, extra, log, just_installed=False,
                   digests=None):
    """Reinstall local package directories of ``extra`` whose files changed.

    The venv name does not depend on the content of a local package (editing
    a shim must not cost a 40 s rebuild), so a per-package marker records
    which version of its files is installed and a quick ``--no-deps``
    reinstall brings it up to date.
    """
    for item in extra:
        if not os.path.isdir(item):
            continue
        # ``digests``: taken before a fresh install, so a file that
        # changed while pip ran is reinstalled next time.
        digest = (digests or {}).get(item) or _tree_digest(item)
        marker = os.path.join(target, ".local-%s-%s" % (
            os.path.basename(os.path.normpath(item)),
            digest))
        if os.path.exists(marker):
            continue
        if just_installed:
            open(marker, "w").close()
            continue
        log("[lab] refreshing %s in %s" % (item, os.path.basename(target)))
        result = subprocess.run(
            _install_cmd(target, "--no-deps", "--force-reinstall", item),
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("install of %s failed:\n%s" %
                               (item, result.stderr[-4000:]))
        prefix = marker.rsplit("-", 1)[0] + "-"
        for old in os.listdir(target):
            full = os.path.join(target, old)
            if full.startswith(prefix):
                os.unlink(full)
        open(marker, "w").close()


COMPILED = ".compiled"
NOT_COMPILED = r"/tests?/|/pypureclient/(flashblade|pure1)/"


def _compile(target, log):
    """Byte-compile the venv once, as pip does at install and uv does not.

    A service imports thousands of modules at each start; without their
    .pyc files it compiles them all again every time, and with
    PYTHONDONTWRITEBYTECODE set (it is, on the machines this lab runs
    on) it never keeps the result: the lab's ``up`` spent most of its
    CPU compiling, and each ``openstack`` command 1.3 s of its 2.3 s.
    Python reads .pyc files whatever that variable says. A venv built
    before this gets compiled at its next use (a marker says it was)."""
    marker = os.path.join(target, COMPILED)
    if os.path.exists(marker):
        return
    started = time.monotonic()
    # Not checked: a few files of some packages do not compile (templates
    # named .py, other Pythons' code); compileall goes on with the rest.
    # Left out: what no service imports and takes long (packages' test
    # suites; py-pure-client's 4,700 modules for FlashBlade and Pure1).
    subprocess.run([os.path.join(target, "bin", "python"), "-m",
                    "compileall", "-q", "-j", "0", "-x", NOT_COMPILED,
                    os.path.join(target, "lib")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    open(marker, "w").close()
    log("[lab] %s byte-compiled in %.0f s" % (
        os.path.basename(target), time.monotonic() - started))


def ensure(name, extra=(), log=print):
    """Create the venv for ``name`` if needed; return its path.

    ``extra`` are additional pip arguments (e.g. a local shim package). A
    ``.complete`` marker is written last, so an interrupted install is
    thrown away and redone; a lock file keeps two processes from building
    the same venv at once. Local package directories in ``extra`` are
    reinstalled when their files change.
    """
    target = path(name, extra)
    marker = os.path.join(target, ".complete")
    if os.path.exists(marker):
        _refresh_local(target, extra, log)
        if not os.path.exists(os.path.join(target, COMPILED)):
            with open(target + ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                _compile(target, log)
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(marker):
            return target
        shutil.rmtree(target, ignore_errors=True)
        constraints, packages = SPECS[name]
        # A venv built alone (a test's, not the lab's) still takes uWSGI
        # from the wheelhouse instead of compiling it.
        prebuild_wheels([name], log)
        started = time.monotonic()
        log("[lab] installing the %s venv (%s) with %s ..." %
            (name, ", ".join(packages), "uv" if uv() else "pip"))
        _create(target)
        args = ["-c", os.path.join(CONSTRAINTS_DIR, constraints)]
        if os.path.isdir(wheelhouse()):
            args += ["--find-links", wheelhouse()]
        cmd = _install_cmd(target, *args)
        digests = {item: _tree_digest(item) for item in extra
                   if os.path.isdir(item)}
        result = subprocess.run(cmd + packages + list(extra),
                                capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise RuntimeError("installing the %s venv failed:\n%s" %
                               (name, result.stderr[-4000:]))
        _refresh_local(target, extra, log, just_installed=True,
                       digests=digests)
        _compile(target, log)
        open(marker, "w").close()
        log("[lab] %s venv ready in %.0f s" %
            (name, time.monotonic() - started))
    return target
