"""Protector objects as protector-api returns them (doc/api-ref.md),
wrapped as the dashboard's API module wraps them."""
from openstack_dashboard.test.test_data import utils

from protector_dashboard.api import protector

SITE_A = "5b6c6f8e-0a57-4c1e-9d64-2f4a1c9e0a01"
SITE_B = "5b6c6f8e-0a57-4c1e-9d64-2f4a1c9e0a02"
GROUP = "9f1f4f0e-3c1b-4f6e-8a8e-7f1f4f0e3c01"
GROUP_FAILED_OVER = "9f1f4f0e-3c1b-4f6e-8a8e-7f1f4f0e3c02"
OPERATION_FAILED = "0c8e2d1a-6b7f-4c3e-9a1d-2e8f0c8e2d01"
OPERATION_DONE = "0c8e2d1a-6b7f-4c3e-9a1d-2e8f0c8e2d02"
INSTANCE = "1a2b3c4d-0000-4000-8000-000000000001"


def _group(**fields):
    group = {
        "id": GROUP, "project_id": "1", "name": "web-tier",
        "description": "front end", "status": "active",
        "status_reason": None, "replication_type": "async",
        "primary_site_id": SITE_A, "primary_site": "site-a",
        "secondary_site_id": SITE_B, "secondary_site": "site-b",
        "current_primary_site_id": SITE_A,
        "current_primary_site": "site-a",
        "volume_type_id": "vt-1", "secondary_volume_type_id": "vt-2",
        "consistency_group_id": "cg-1", "member_count": 1,
        "failover_count": 0, "last_failover_at": None,
        "created_at": "2026-12-01T10:00:00Z", "updated_at": None,
        "metadata_version": 3, "remote_sync_status": "SYNCED",
        "remote_sync_version": 3, "next_action": None,
    }
    group.update(fields)
    return group


def data(TEST):
    TEST.protection_groups = utils.TestDataContainer()
    TEST.protector_members = utils.TestDataContainer()
    TEST.protector_operations = utils.TestDataContainer()
    TEST.protector_sites = utils.TestDataContainer()

    # The list carries each group's cached RPO state (microversion 1.5).
    TEST.protection_groups.add(
        protector.Resource(_group(
            rpo_status="ok", replication_lag_seconds=120,
            rpo_detail="replication lag 120s within the RPO of 15 min",
            rpo_checked_at="2026-12-03T09:00:00Z")),
        protector.Resource(_group(
            id=GROUP_FAILED_OVER, name="db-tier", status="failed_over",
            current_primary_site_id=SITE_B, current_primary_site="site-b",
            member_count=0, remote_sync_status="OUT_OF_SYNC",
            failover_count=1, last_failover_at="2026-12-02T08:00:00Z",
            next_action="openstack dr failback db-tier",
            rpo_status="breached", replication_lag_seconds=1234,
            rpo_detail="replication lag 1234s exceeds the RPO of 15 min",
            rpo_checked_at="2026-12-03T09:00:00Z")))
    # What show adds to the list's fields: the RPO state.
    TEST.protection_group_detail = protector.Resource(_group(
        replication_lag_seconds=120, rpo_status="ok", rpo_minutes=15,
        rpo_detail="replication lag 120s within the RPO of 15 min"))

    TEST.protector_members.add(protector.Resource({
        "id": "m-1", "protection_group_id": GROUP,
        "instance_id": INSTANCE, "instance_name": "web-1",
        "status": "protected", "volumes_added": 1, "volume_count": 1,
        "volumes": [{"volume_id": "v-1", "name": "web-1-root",
                     "size_gb": 10, "device": "/dev/vda",
                     "bootable": True}],
        "created_at": "2026-12-01T10:05:00Z"}))

    TEST.protector_policy = protector.Resource({
        "protection_group_id": GROUP,
        "primary_fa_url": "https://array1.example.com",
        "primary_fa_api_token": "*** (masked)",
        "secondary_fa_url": "https://array2.example.com",
        "secondary_fa_api_token": "*** (masked)",
        "pure_pg_name": "web-tier-pg", "replication_interval": 300,
        "rpo_minutes": 15, "replication_lag_seconds": 120,
        "rpo_status": "ok", "rpo_detail": "within the RPO",
        "created_at": "2026-12-01T10:06:00Z", "updated_at": None})
    TEST.protector_consistency_group = protector.Resource({
        "id": "cg-1", "protection_group_id": GROUP, "name": "pg-web-tier",
        "volume_type_id": "vt-1", "volume_type_name": "replicated-async",
        "backend_name": "pure", "primary_cg_id": "cinder-g-1",
        "secondary_cg_id": "cinder-g-2", "status": "available",
        "volume_count": 1})
    TEST.protector_sync_status = protector.Resource({
        "protection_group_id": GROUP, "local_version": 3,
        "local_checksum": "ab", "current_site": "site-a",
        "last_modified": "2026-12-01T10:06:00Z", "remote_site": "site-b",
        "remote_status": "SYNCED", "remote_version": 3,
        "remote_checksum": "ab", "remote_checked": True, "ahead": None,
        "last_sync_at": "2026-12-01T10:06:01Z", "last_error": None,
        "in_sync": True})

    steps = [
        {"name": "validate_sites", "status": "completed", "attempts": 1,
         "started_at": "2026-12-03T09:00:00Z",
         "completed_at": "2026-12-03T09:00:05Z", "error_message": None,
         "result": {}},
        {"name": "recreate_instances", "status": "failed", "attempts": 1,
         "started_at": "2026-12-03T09:00:05Z", "completed_at": None,
         "error_message": "quota exceeded: raise the instances quota, "
                          "then retry", "result": None},
    ]
    TEST.protector_operations.add(
        protector.Resource({
            "id": OPERATION_FAILED, "protection_group_id": GROUP,
            "protection_group_name": "web-tier",
            "operation_type": "failover", "status": "failed",
            "source_site_id": SITE_A, "target_site_id": SITE_B,
            "progress": 40, "current_step": None,
            "started_at": "2026-12-03T09:00:00Z", "completed_at": None,
            "error_message": "recreate_instances: quota exceeded: raise "
                             "the instances quota, then retry",
            "steps_completed": ["validate_sites"],
            "steps_failed": ["recreate_instances"],
            "result_data": {}, "steps": steps}),
        protector.Resource({
            "id": OPERATION_DONE, "protection_group_id": GROUP_FAILED_OVER,
            "protection_group_name": "db-tier",
            "operation_type": "test_cleanup", "status": "completed",
            "source_site_id": SITE_A, "target_site_id": SITE_B,
            "progress": 100, "current_step": None,
            "started_at": "2026-12-02T09:00:00Z",
            "completed_at": "2026-12-02T09:01:00Z", "error_message": None,
            "steps_completed": ["delete_test_instances"],
            "steps_failed": [], "result_data": {}, "steps": []}))

    TEST.protector_preflight_ok = protector.Resource({
        "action": "failover", "ok": True, "checks": [
            {"check": "group_status", "result": "ok",
             "detail": "'active'"},
            {"check": "rpo", "result": "warn",
             "detail": "replication lag 1200s exceeds the RPO of 15 min"}]})
    TEST.protector_preflight_fail = protector.Resource({
        "action": "failover", "ok": False, "checks": [
            {"check": "quota_volumes", "result": "fail",
             "detail": "volumes: needs 6, 4 free of 10 (6 in use) on site "
                       "site-b"}]})

    for site_id, name, site_type, status in (
            (SITE_A, "site-a", "primary", "active"),
            (SITE_B, "site-b", "secondary", "unreachable")):
        TEST.protector_sites.add(protector.Resource({
            "id": site_id, "name": name, "description": "",
            "site_type": site_type,
            "auth_url": "http://%s.example.com:5000/v3" % name,
            "region_name": "RegionOne", "protector_url": None,
            "status": status, "capabilities": {},
            "status_reason": None if status == "active"
            else "Keystone unreachable: timed out",
            "last_checked_at": "2026-12-03T08:00:00Z",
            "created_at": "2026-11-30T08:00:00Z", "updated_at": None}))
    TEST.protector_site_validation = protector.Resource({
        "site": "site-b", "reachable": True,
        "services": {"keystone": "OK", "nova": "OK", "cinder": "OK",
                     "neutron": "OK"},
        "replicated_volume_types": ["replicated-async"],
        "capabilities": {}})
