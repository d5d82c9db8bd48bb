"""How ``make test TEST_WORKERS=2`` splits the suite (tests/conftest.py):
the lab's tests must stay on one worker, since one lab serves them all."""
from tests import conftest


def test_every_lab_module_is_one_unit_and_the_rest_a_unit_per_module():
    split = conftest.LabScheduling._split_scope
    lab = [split(None, n) for n in (
        "tests/integration/test_lab.py::test_names_differ_between_sites",
        "tests/integration/test_dr_operations.py::test_preconditions[1]",
        "tests/integration/test_pure_profile.py::test_x")]
    assert lab == ["lab"] * 3
    assert split(None, "tests/unit/test_config.py::test_a") == \
        "tests/unit/test_config.py"
    assert split(None, "tests/functional/test_api.py::test_gabbits["
                 "sqlite-auth.yaml]") == "tests/functional/test_api.py"
    assert split(None, "client/protectorclient/tests/unit/test_x.py::T::t") \
        == "client/protectorclient/tests/unit/test_x.py"
