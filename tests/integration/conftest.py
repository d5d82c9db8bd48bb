"""Integration tests: the two-site lab (``protector-lab``).

The session fixture ``lab`` reuses a lab that ``protector-lab status``
reports fully up; otherwise it runs ``protector-lab up`` and, having brought
the lab up itself, runs ``protector-lab down`` at the end of the session
unless ``PROTECTOR_LAB_KEEP=1``. The lab directory is ``$PROTECTOR_LAB_DIR``
or ``<repo>/.lab``.

    def test_x(lab):                     # protector_lab.info.LabInfo
        lab.clouds_yaml                  # clouds.yaml path
        lab.site_a.auth_url              # http://127.0.0.1:6000/v3
        lab.site_a.admin / .demo         # keystoneauth password dicts
        lab.site_a.protector_url         # http://127.0.0.1:9788
        lab.connect("site-b")            # openstacksdk Connection (demo)
"""
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


@pytest.fixture(scope="session")
def lab():
    status = run_lab("status", check=False, capture_output=True, text=True)
    brought_up = False
    if status.returncode != 0:
        # 3: no lab; 4: a lab with something down ('up' restarts it).
        result = run_lab("up", check=False)
        if result.returncode != 0:
            pytest.fail("protector-lab up failed (exit %d); see the output "
                        "above and the logs in the lab dir" %
                        result.returncode)
        brought_up = status.returncode == 3
    yield LabInfo.load()
    if brought_up and os.environ.get("PROTECTOR_LAB_KEEP") != "1":
        run_lab("down", check=False)
