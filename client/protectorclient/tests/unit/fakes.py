"""Fakes shared by the unit tests: API bodies shaped like doc/api-ref.md."""
import copy
from unittest import mock

from osc_lib.test import base as osc_base

from protectorclient import client as protector_client

SITE_A = {
    "id": "3a1b2c3d-0001-0001-0001-aabbccdd0001", "name": "site-a",
    "description": "Primary datacenter - Boston", "site_type": "primary",
    "auth_url": "http://site-a-controller:5000/v3",
    "region_name": "RegionOne", "protector_url": None, "status": "active",
    "capabilities": {"replication": ["async"]},
    "created_at": "2025-06-01T10:00:00Z", "updated_at": None,
    "status_reason": None, "last_checked_at": None,
}
SITE_B = dict(SITE_A, id="4b2c3d4e-0002-0002-0002-bbccdd0002bb",
              name="site-b", site_type="secondary",
              auth_url="http://site-b-controller:5000/v3",
              description="Secondary datacenter - Seattle")
PG = {
    "id": "12345678-1234-1234-1234-123456789abc", "project_id": "p",
    "name": "prod-web-app", "description": "Production web application",
    "status": "active", "status_reason": None, "replication_type": "async",
    "primary_site_id": SITE_A["id"], "primary_site": "site-a",
    "secondary_site_id": SITE_B["id"], "secondary_site": "site-b",
    "current_primary_site_id": SITE_A["id"],
    "current_primary_site": "site-a",
    "volume_type_id": "9a9a9a9a-0000-0000-0000-000000000001",
    "consistency_group_id": "87654321-4321-4321-4321-876543210000",
    "member_count": 3, "failover_count": 0, "last_failover_at": None,
    "created_at": "2025-06-01T10:00:00Z", "updated_at": None,
    "metadata_version": 7, "remote_sync_status": "SYNCED",
    "remote_sync_version": 7, "next_action": None, "tier_delay": 0,
}
MEMBER = {
    "id": "aaaabbbb-1111-1111-1111-ccccdddd0000",
    "protection_group_id": PG["id"],
    "instance_id": "a1b2c3d4-0001-0001-0001-aabbccdd1111",
    "instance_name": "web-server-1", "status": "protected",
    "priority": 3, "volumes_added": 2, "volume_count": 2,
    "volumes": [{"volume_id": "v1", "name": "root", "size_gb": 10,
                 "device": "/dev/vda", "bootable": True},
                {"volume_id": "v2", "name": "data", "size_gb": 50,
                 "device": "/dev/vdb", "bootable": False}],
    "created_at": "2025-06-01T10:05:00Z",
}
POLICY = {
    "protection_group_id": PG["id"],
    "primary_fa_url": "https://flasharray-a.example.com",
    "primary_fa_api_token": "*** (masked)",
    "secondary_fa_url": "https://flasharray-b.example.com",
    "secondary_fa_api_token": "*** (masked)",
    "pure_pg_name": "pg-prod-web-app", "replication_interval": 300,
    "rpo_minutes": 15,
}
OPERATION = {
    "id": "abcdef12-1234-5678-abcd-ef1234567800",
    "protection_group_id": PG["id"], "protection_group_name": PG["name"],
    "operation_type": "failover", "status": "running",
    "source_site_id": SITE_A["id"], "target_site_id": SITE_B["id"],
    "progress": 10, "current_step": "validate_sites",
    "started_at": "2025-06-01T10:00:00Z", "completed_at": None,
    "error_message": None, "steps_completed": [], "steps_failed": [],
    "result_data": {},
}
TENANT_MAPPING = {
    "id": "tm-aabbcc-1234", "local_tenant": "local-project",
    "remote_site": "site-b", "remote_site_id": SITE_B["id"],
    "remote_tenant": "remote-project",
    "description": "myproject tenant mapping",
    "created_at": "2025-06-01T10:00:00Z",
}
HEALTH = {"status": "ok", "components": [
    {"component": "protector-api", "status": "ok",
     "detail": "Responding on port 8788"},
    {"component": "protector-engine", "status": "ok", "detail": "Running"},
    {"component": "database", "status": "ok",
     "detail": "Connected (MariaDB)"},
    {"component": "site-a", "status": "ok",
     "detail": "Reachable, version compatible"},
]}


def copy_of(value):
    return copy.deepcopy(value)


class FakeOptions:
    def __init__(self, **kwargs):
        self.debug = False
        self.cloud = None
        self.secondary_cloud = None
        self.__dict__.update(kwargs)


class TestProtectorCommand(osc_base.TestCommand):
    """osc-lib's TestCommand with a mocked protector REST client."""

    def setUp(self):
        super().setUp()
        self.client = mock.Mock(spec=protector_client.Client)
        self.client.api_version = "1.2"
        self.client.peer = None
        self.app.client_manager.protector = self.client
        self.app.client_manager.session = mock.Mock()
        self.app.client_manager.session.get_token.return_value = "ptok"
        self.app.options = FakeOptions()
        self.app.api_version = {"protector": "1.2"}
        self.fake_stderr = StringIO()
        self.app.stderr = self.fake_stderr

    def run_command(self, cmd_class, args, verify=()):
        """Parse like OSC and run the whole command (output + exit code)."""
        cmd = cmd_class(self.app, None)
        parsed = self.check_parser(cmd, args, list(verify))
        return cmd.run(parsed)

    def take(self, cmd_class, args, verify=()):
        cmd = cmd_class(self.app, None)
        parsed = self.check_parser(cmd, args, list(verify))
        return cmd, parsed, cmd.take_action(parsed)


class StringIO:
    """A stderr/stdin double with a settable isatty()."""

    def __init__(self, text="", tty=False):
        self.content = []
        self._lines = text.splitlines(keepends=True)
        self._tty = tty

    def write(self, text):
        self.content.append(text)

    def flush(self):
        pass

    def isatty(self):
        return self._tty

    def readline(self):
        return self._lines.pop(0) if self._lines else ""

    def getvalue(self):
        return "".join(self.content)
