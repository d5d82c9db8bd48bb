"""protector-dashboard: its own unit tests, run in a Horizon venv.

The dashboard's tests need Horizon (Django, ``openstack_dashboard``),
which the project venv does not carry, so they run in the lab's cached
``horizon`` venv (lab/protector_lab/venvs.py, pinned by
constraints/horizon.txt) with protectorclient and protector-dashboard
installed from this checkout; an edit of either is reinstalled on the next
run (``venvs.ensure``'s local-package refresh), and an unchanged venv is
reused. They run with Django's test runner as Horizon plugins do
(``manage.py test``), from dashboard/ so the checkout's files are the ones
tested. doc/dashboard.md says how to run them by hand.

The policy files the dashboard ships must say what the server's rules
say: that check needs the server package, so it runs here.
"""
import importlib.util
import os
import subprocess
import sys

from protector_lab import venvs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "dashboard")
CLIENT = os.path.join(ROOT, "client")
EXTRA = [CLIENT, DASHBOARD]


def test_dashboard_unit_tests_pass_under_horizon():
    target = venvs.ensure("horizon", EXTRA, log=lambda msg: print(msg))
    python = os.path.join(target, "bin", "python")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # Neither the project venv's packages nor its settings leak in.
    env.pop("PYTHONPATH", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(
        [python, "manage.py", "test", "protector_dashboard",
         "--settings=protector_dashboard.test.settings", "--noinput"],
        cwd=DASHBOARD, env=env, capture_output=True, text=True,
        timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    # Django's runner ends with "Ran N tests" and "OK": no silent zero.
    assert "\nOK" in output and "Ran 0 tests" not in output, output[-2000:]


def _gen_policy():
    path = os.path.join(DASHBOARD, "tools", "gen_policy.py")
    spec = importlib.util.spec_from_file_location("gen_policy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboard_policy_files_match_the_server_rules():
    conf = os.path.join(DASHBOARD, "protector_dashboard", "conf")
    for name, text in _gen_policy().render().items():
        with open(os.path.join(conf, name)) as f:
            assert f.read() == text, (
                "dashboard/protector_dashboard/conf/%s is stale: run "
                "%s dashboard/tools/gen_policy.py"
                % (name, os.path.relpath(sys.executable, ROOT)))
