"""Load Protector's test data onto a test case (after Horizon's)."""
from openstack_dashboard.test.test_data import utils


def load_test_data(load_onto=None):
    from protector_dashboard.test.test_data import protector_data
    loaders = (protector_data.data,)
    if load_onto:
        for data_func in loaders:
            data_func(load_onto)
        return load_onto
    return utils.TestData(*loaders)
