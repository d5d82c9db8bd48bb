"""Write the dashboard's copies of protector-api's policy rules.

Run with the repository's venv, which has the ``protector`` server package
and its ``oslo.policy.policies`` entry point:
``.venv/bin/python dashboard/tools/gen_policy.py``. It writes, as Horizon
keeps them for its own services:

* ``protector_dashboard/conf/protector_policy.yaml``: the service's policy
  sample (every rule commented out at its default, as
  ``oslopolicy-sample-generator`` writes it; operators uncomment what
  their protector-api overrides), Horizon's ``POLICY_FILES``;
* ``protector_dashboard/conf/default_policies/protector.yaml``: the rules
  in code, in the format of Horizon's ``manage.py dump_default_policies``
  (``DEFAULT_POLICY_FILES``), which Horizon cannot run itself without the
  server package.

tests/unit/test_dashboard.py fails when either differs from the server's
rules.
"""
import os
import subprocess
import sys
import tempfile

from oslo_policy import generator
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(os.path.dirname(HERE), "protector_dashboard", "conf")
NAMESPACE = "protector"
POLICY_FILE = "protector_policy.yaml"
DEFAULTS_FILE = os.path.join("default_policies", "protector.yaml")


def _sample():
    tool = os.path.join(os.path.dirname(sys.executable),
                        "oslopolicy-sample-generator")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, POLICY_FILE)
        subprocess.run([tool, "--namespace", NAMESPACE,
                        "--output-file", out], check=True,
                       capture_output=True)
        with open(out) as f:
            return f.read()


def _default(rule):
    # The fields Horizon's dump_default_policies writes.
    data = {"name": rule.name, "check_str": rule.check_str,
            "description": rule.description,
            "operations": getattr(rule, "operations", []),
            "scope_types": getattr(rule, "scope_types", None)}
    if rule.deprecated_for_removal:
        data.update(deprecated_for_removal=True,
                    deprecated_since=rule.deprecated_since,
                    deprecated_reason=rule.deprecated_reason)
    if rule.deprecated_rule:
        data["deprecated_rule"] = {
            "name": rule.deprecated_rule.name,
            "check_str": rule.deprecated_rule.check_str,
            "deprecated_since": rule.deprecated_rule.deprecated_since,
            "deprecated_reason": rule.deprecated_rule.deprecated_reason}
    return data


def _defaults():
    rules = generator.get_policies_dict([NAMESPACE])[NAMESPACE]
    return yaml.dump([_default(rule) for rule in rules])


def render():
    """{path under conf/: the text it must have}."""
    return {POLICY_FILE: _sample(), DEFAULTS_FILE: _defaults()}


def main():
    for name, text in render().items():
        with open(os.path.join(CONF, name), "w") as f:
            f.write(text)
        print("wrote %s" % os.path.join(CONF, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
