"""Declarative API tests: every gabbits/*.yaml file, on SQLite and MariaDB.

Each YAML file runs in order as one pytest test per database backend,
against the real protector-api over real HTTP with real Keystone tokens.
A failure prints gabbi's report of the failing request.
"""
import glob
import io
import os
import unittest
import urllib.parse

from gabbi import handlers
from gabbi import suitemaker
from gabbi import utils
import pytest

HERE = os.path.dirname(__file__)
GABBITS = sorted(glob.glob(os.path.join(HERE, "gabbits", "*.yaml")))


def run_gabbits(path, url):
    """Build the tests of one YAML file against ``url`` and run them."""
    loader = unittest.TestLoader()
    parsed = urllib.parse.urlsplit(url)
    suite_dict = utils.load_yaml(yaml_file=path)
    name = "gabbi_" + os.path.splitext(os.path.basename(path))[0]
    suite = suitemaker.test_suite_from_dict(
        loader, name, suite_dict, os.path.dirname(path), parsed.hostname,
        parsed.port, None, None,
        handlers=[h() for h in handlers.RESPONSE_HANDLERS])
    out = io.StringIO()
    result = unittest.TextTestRunner(stream=out, verbosity=2).run(suite)
    assert result.testsRun, "no tests found in %s" % path
    return result, out.getvalue()


@pytest.mark.keystone
@pytest.mark.parametrize("path", GABBITS,
                         ids=[os.path.basename(p) for p in GABBITS])
def test_gabbits(api, path):
    result, report = run_gabbits(path, api.url)
    assert result.wasSuccessful(), report
