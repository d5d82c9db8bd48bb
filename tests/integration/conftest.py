"""Integration tests: the two-site lab (``protector-lab``).

The session fixture ``lab`` reuses a lab that ``protector-lab status``
reports fully up in the default profile; otherwise it runs ``protector-lab
up`` and, having brought the lab up itself, runs ``protector-lab down`` at
the end of the session unless ``PROTECTOR_LAB_KEEP=1``. ``pure_lab`` does
the same in the ``pure`` profile (FlashArray simulator, Cinder's Pure
driver). The lab tests run in one process (under xdist, one worker), the
pure profile's (``test_pure_profile.py``) last, so a session switches
the lab to the other profile at most once, in place
(``protector-lab up --profile pure`` on a running lab restarts only
cinder-volume and Protector). The lab
directory is ``$PROTECTOR_LAB_DIR`` or ``<repo>/.lab``.

    def test_x(lab):                     # protector_lab.info.LabInfo
        lab.clouds_yaml                  # clouds.yaml path
        lab.site_a.auth_url              # http://127.0.0.1:6000/v3
        lab.site_a.admin / .demo         # keystoneauth password dicts
        lab.site_a.protector_url         # http://127.0.0.1:9788
        lab.connect("site-b")            # openstacksdk Connection (demo)

Shared fixtures on top of it (helpers: ``protector_lab.client``):
``sites`` / ``pure_sites`` (DR operations), ``group_sites`` and
``server`` (protection groups and members).
"""
import datetime
import glob
import json
import os
import re
import uuid

import pytest

from protector_lab import client as lab_client
from protector_lab.client import run_lab
from protector_lab.info import LabInfo
from protector_lab import layout


PURE_MODULES = ("test_pure_profile.py",)


def pytest_collection_modifyitems(session, config, items):
    """The pure-profile tests run after the other lab tests: the lab is
    switched once, from the default profile to ``pure`` (only one lab can
    exist on a machine).

    In one process, every test that needs no lab runs first (the lab's ~25
    services would slow them), then the lab tests. Under pytest-xdist
    (``make test TEST_WORKERS=2``) the lab tests are one unit of work
    (``tests/conftest.py``, ``scope_of``), run in this order by one worker
    while the other runs the rest a module at a time; the lab's unit comes
    first, so a worker starts on it at once (it is the longest)."""
    def is_pure(item):
        return os.path.basename(str(item.fspath)) in PURE_MODULES

    def is_lab(item):
        return item.get_closest_marker("lab") is not None
    lab = [i for i in items if is_lab(i) and not is_pure(i)] + \
        [i for i in items if is_pure(i)]
    rest = [i for i in items if not is_lab(i)]
    items[:] = lab + rest if os.environ.get("PYTEST_XDIST_WORKER") \
        else rest + lab


class _Labs:
    """Which profile the session's lab is in, whether the session brought
    it up (then it takes it down at the end, unless
    ``PROTECTOR_LAB_KEEP=1``) and, for a lab it found up, the profile to
    put it back in at the end."""
    brought_up = False
    found_profile = None

    @classmethod
    def ensure(cls, profile):
        status = run_lab("status", "--json", check=False,
                         capture_output=True, text=True)
        current = None
        if status.returncode in (0, 4):
            try:
                current = json.loads(status.stdout).get("profile",
                                                        "default")
            except ValueError:
                current = None
        if status.returncode == 0 and current == profile:
            return LabInfo.load()
        if status.returncode == 3:
            cls.brought_up = True
        elif not cls.brought_up and cls.found_profile is None:
            cls.found_profile = current
        # 3: no lab; 4: a lab with something down ('up' restarts it); a lab
        # in the other profile: 'up' switches it in place (cinder-volume
        # and Protector restart; protector_lab.lab.Lab.switch).
        result = run_lab("up", "--profile", profile, check=False)
        if result.returncode != 0:
            pytest.fail("protector-lab up --profile %s failed (exit %d); see "
                        "the output above and the logs in the lab dir" %
                        (profile, result.returncode))
        return LabInfo.load()

    @classmethod
    def finish(cls):
        if cls.brought_up:
            if os.environ.get("PROTECTOR_LAB_KEEP") != "1":
                run_lab("down", check=False)
        elif cls.found_profile:
            # A lab the session found up goes back to its profile.
            run_lab("up", "--profile", cls.found_profile, check=False)


@pytest.fixture(scope="session")
def _lab_session():
    yield _Labs
    _Labs.finish()


@pytest.fixture(scope="session")
def lab(_lab_session):
    """The lab in the default profile (mock storage, the lab Cinder
    driver)."""
    return _lab_session.ensure("default")


@pytest.fixture(scope="session")
def pure_lab(_lab_session):
    """The lab in the ``pure`` profile: Cinder's Pure iSCSI driver against
    a simulated FlashArray per site, Protector's ``pure`` driver."""
    return _lab_session.ensure("pure")


def _sweep(lab):
    """What earlier modules left (lab_client.sweep), said out loud: a
    leak is a bug of the test that made it, not of the module that finds
    it."""
    for site in ("site-a", "site-b"):
        gone = lab_client.sweep(lab.connect(site))
        if gone:
            print("\n[lab fixture] deleted what earlier tests left on %s: "
                  "%s" % (site, ", ".join(gone)), flush=True)


@pytest.fixture(scope="module", autouse=True)
def _swept(request):
    """Every lab module starts without what earlier ones left."""
    pure = os.path.basename(str(request.module.__file__)) in PURE_MODULES
    _sweep(request.getfixturevalue("pure_lab" if pure else "lab"))


@pytest.fixture(scope="module")
def sites(lab):
    """For DR operations: both sites registered and paired, the demo
    project back on the default quotas; ``{"a", "b", "ids",
    "volume_type"}`` (``protector_lab.client.site_pair``, microversion
    1.2)."""
    lab_client.register_sites(lab)
    lab_client.default_quotas(lab)
    return lab_client.site_pair(lab)


@pytest.fixture(scope="module")
def pure_sites(pure_lab):
    """``sites`` in the pure profile."""
    lab_client.register_sites(pure_lab)
    # At the quotas 'protector-lab up' leaves: a 1-VM x 2-volume group
    # needs no more.
    lab_client.default_quotas(pure_lab)
    return lab_client.site_pair(pure_lab)


@pytest.fixture(scope="module")
def group_sites(lab):
    """For protection groups and members: both sites registered and
    paired, quotas as they are; ``{"a", "b", "ids", "volume_type"}``
    without a microversion header (the API's minimum)."""
    lab_client.register_sites(lab)
    return lab_client.site_pair(lab, version=None)


@pytest.fixture
def server(group_sites, lab):
    """A server on site A with two replicated-async volumes attached and
    one volume of another type (for the mismatch test), detached."""
    conn = group_sites["a"].conn
    info = lab.site("site-a")
    name = "it-%s" % uuid.uuid4().hex[:6]
    image = conn.image.find_image(info.image_name)
    flavor = conn.compute.find_flavor(info.flavor_names[0])
    net = conn.network.find_network(info.network_name)
    srv = conn.compute.create_server(name=name, image_id=image.id,
                                     flavor_id=flavor.id,
                                     networks=[{"uuid": net.id}])
    volumes = []
    try:
        srv = conn.compute.wait_for_server(srv, status="ACTIVE", wait=180)
        for i in range(2):
            vol = conn.block_storage.create_volume(
                name="%s-%d" % (name, i), size=1,
                volume_type="replicated-async")
            volumes.append(vol)
        other = conn.block_storage.create_volume(
            name=name + "-sync", size=1, volume_type="replicated-sync")
        volumes.append(other)
        for vol in volumes:
            conn.block_storage.wait_for_status(vol, "available", wait=90)
        for vol in volumes[:2]:
            conn.compute.create_volume_attachment(srv, volume_id=vol.id)
            conn.block_storage.wait_for_status(vol, "in-use", wait=120)
        yield {"server": srv, "volumes": volumes[:2], "other": other,
               "conn": conn}
    finally:
        conn.compute.delete_server(srv)
        conn.compute.wait_for_delete(srv, wait=120)
        for vol in volumes:
            try:
                conn.block_storage.wait_for_status(vol, "available", wait=90)
                conn.block_storage.delete_volume(vol)
            except Exception:
                pass


# ---- lab log errors in the report of a failed test ------------------------

_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ \d+ "
                       r"(ERROR|CRITICAL) ")
MAX_LOG_LINES = 40


def lab_log_errors(state_dir, since):
    """ERROR and CRITICAL lines the lab's services logged since ``since``
    (naive local time, as the services log it), newest last, at most
    MAX_LOG_LINES: a CI run's failure then shows what the clouds said,
    after the lab that held the logs is gone."""
    found = []
    for path in sorted(glob.glob(os.path.join(state_dir, "*", "log",
                                              "*.log"))):
        name = "%s/%s" % (os.path.basename(os.path.dirname(
            os.path.dirname(path))), os.path.basename(path))
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    m = _LOG_LINE.match(line)
                    if m and datetime.datetime.strptime(
                            m.group(1), "%Y-%m-%d %H:%M:%S") >= since:
                        found.append((m.group(1), name, line.rstrip()[:400]))
        except OSError:
            continue
    # By time only: a traceback's lines share one timestamp and keep
    # their order (the sort is stable).
    found.sort(key=lambda entry: entry[0])
    return ["%s: %s" % (name, line) for _, name, line in
            found[-MAX_LOG_LINES:]]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._lab_since = datetime.datetime.now().replace(microsecond=0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    since = getattr(item, "_lab_since", None)
    if not report.failed or since is None:
        return
    lines = lab_log_errors(layout.default_state_dir(), since)
    if lines:
        report.sections.append(("lab log errors since the test began",
                                "\n".join(lines)))
