"""Declarative API tests across two sites: every gabbits/pair/*.yaml file.

They run against server A of a two-server pair (``pair`` fixture in
conftest.py) on SQLite and MariaDB; requests to server B use the absolute
URL ``$ENVIRON['PAIR_B_URL']``. Site IDs on A are
``$ENVIRON['PAIR_A_SITE_A_ID']`` etc.; the mock Cinder volume types are
``$ENVIRON['MOCK_TYPE_REPLICATED_ASYNC']`` etc.
"""
import glob
import os

import pytest

from tests.functional import test_api

HERE = os.path.dirname(__file__)
GABBITS = sorted(glob.glob(os.path.join(HERE, "gabbits", "pair", "*.yaml")))


@pytest.mark.keystone
@pytest.mark.parametrize("path", GABBITS,
                         ids=[os.path.basename(p) for p in GABBITS])
def test_pair_gabbits(pair, path):
    result, report = test_api.run_gabbits(path, pair.a.url)
    assert result.wasSuccessful(), report
