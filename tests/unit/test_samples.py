"""The committed sample config and policy files match the code.

Regenerate with ``make samples`` (see doc/contributing.md).
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
BIN = os.path.dirname(sys.executable)


@pytest.mark.parametrize("tool,conf,sample", [
    ("oslo-config-generator", "protector-config-generator.conf",
     "protector.conf.sample"),
    ("oslopolicy-sample-generator", "protector-policy-generator.conf",
     "policy.yaml.sample"),
])
def test_sample_is_up_to_date(tmp_path, tool, conf, sample):
    out = tmp_path / sample
    subprocess.run(
        [os.path.join(BIN, tool), "--config-file",
         os.path.join(ROOT, "etc", "protector", conf),
         "--output-file", str(out)],
        check=True, capture_output=True, cwd=ROOT)
    committed = open(os.path.join(ROOT, "etc", "protector", sample)).read()
    assert out.read_text() == committed, (
        "etc/protector/%s is out of date: run 'make samples' and commit "
        "the result" % sample)


def test_sample_documents_the_deployment_options():
    text = open(os.path.join(ROOT, "etc", "protector",
                             "protector.conf.sample")).read()
    for option in ("#debug = false", "#log_dir = <None>",
                   "#state_path = /var/lib/protector",
                   "#use_mock_cinder = false", "#use_mock_storage = false",
                   "#bind_host = 0.0.0.0", "#bind_port = 8788",
                   "#workers = <None>", "#connection = <None>",
                   "#www_authenticate_uri = <None>",
                   "#default_trust_roles = member,_member_",
                   "#policy_file = policy.yaml"):
        assert option in text, option
