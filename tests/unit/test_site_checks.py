"""How per-service results become a site status."""
from protector.cloud import checks


def test_all_ok_is_active():
    assert checks.site_status({"keystone": "OK", "nova": "OK"}) == \
        ("active", None)


def test_a_stopped_service_on_a_reachable_site_is_error():
    status, reason = checks.site_status(
        {"keystone": "OK", "nova": "OK", "cinder": "UNREACHABLE: refused"})
    assert status == "error"
    assert "cinder" in reason


def test_keystone_unreachable_is_unreachable():
    status, _ = checks.site_status({"keystone": "UNREACHABLE: refused",
                                    "nova": "NOT CHECKED"})
    assert status == "unreachable"


def test_replication_type_parsing():
    assert checks.replication_type_of(
        {"replication_enabled": "<is> True",
         "replication_type": "<in> async"}) == "async"
    assert checks.replication_type_of(
        {"replication_enabled": "<is> True"}) == "unknown"
    assert checks.replication_type_of({"replication_enabled": "False"}) \
        is None
