"""Integration tests: the two-site lab (``protector-lab``).

The session fixture ``lab`` reuses a lab that ``protector-lab status``
reports fully up in the default profile; otherwise it runs ``protector-lab
up`` and, having brought the lab up itself, runs ``protector-lab down`` at
the end of the session unless ``PROTECTOR_LAB_KEEP=1``. ``pure_lab`` does
the same in the ``pure`` profile (FlashArray simulator, Cinder's Pure
driver); its tests (``test_pure_profile.py``) are run last, so a session
switches the lab (down, up in the other profile) at most once. The lab
directory is ``$PROTECTOR_LAB_DIR`` or ``<repo>/.lab``.

    def test_x(lab):                     # protector_lab.info.LabInfo
        lab.clouds_yaml                  # clouds.yaml path
        lab.site_a.auth_url              # http://127.0.0.1:6000/v3
        lab.site_a.admin / .demo         # keystoneauth password dicts
        lab.site_a.protector_url         # http://127.0.0.1:9788
        lab.connect("site-b")            # openstacksdk Connection (demo)
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from protector_lab.info import LabInfo


def lab_command():
    exe = os.path.join(os.path.dirname(sys.executable), "protector-lab")
    if os.path.exists(exe):
        return [exe]
    found = shutil.which("protector-lab")
    if found:
        return [found]
    return [sys.executable, "-m", "protector_lab.cli"]


def run_lab(*args, check=True, **kwargs):
    return subprocess.run(lab_command() + list(args), check=check,
                          **kwargs)


PURE_MODULES = ("test_pure_profile.py",)


def pytest_collection_modifyitems(session, config, items):
    """The pure-profile tests run last: the lab is switched once, from the
    default profile to ``pure`` (only one lab can exist on a machine)."""
    def is_pure(item):
        return os.path.basename(str(item.fspath)) in PURE_MODULES
    items[:] = [i for i in items if not is_pure(i)] + \
        [i for i in items if is_pure(i)]


class _Labs:
    """Which profile the session's lab is in and whether the session
    brought it up (then it takes it down at the end, unless
    ``PROTECTOR_LAB_KEEP=1``)."""
    brought_up = False

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
        if status.returncode != 3 and current != profile:
            # A lab in the other profile: switch (down, then up).
            print("\n[lab fixture] switching the lab from the %s to the %s "
                  "profile" % (current, profile), flush=True)
            run_lab("down", check=False)
            cls.brought_up = True
        elif status.returncode == 3:
            cls.brought_up = True
        # 3: no lab; 4: a lab with something down ('up' restarts it).
        result = run_lab("up", "--profile", profile, check=False)
        if result.returncode != 0:
            pytest.fail("protector-lab up --profile %s failed (exit %d); see "
                        "the output above and the logs in the lab dir" %
                        (profile, result.returncode))
        return LabInfo.load()


@pytest.fixture(scope="session")
def _lab_session():
    yield _Labs
    if _Labs.brought_up and os.environ.get("PROTECTOR_LAB_KEEP") != "1":
        run_lab("down", check=False)


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
