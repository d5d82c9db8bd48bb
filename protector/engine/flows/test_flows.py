"""Test failover (DR drill) and test cleanup flows.

A test failover builds copies on the target from the latest replicated
snapshot and never touches the source site or replication; everything it
makes is a RecoveryResource of the test operation. Test cleanup deletes
exactly those resources (instances, then networks, then volumes) and then
releases the group's test marker.
"""
from collections.abc import Mapping
from typing import Any

from protector.db import dr as dr_db
from protector.engine import flows
from protector.engine.tasks import compute_tasks
from protector.engine.tasks import database_tasks
from protector.engine.tasks import lifecycle_tasks
from protector.engine.tasks import storage_tasks


def _made_anything(ctx: Any, store: flows.Store) -> bool:
    # A failed test that created something stays "active" so that
    # test-cleanup removes it; one that made nothing frees the group.
    return bool(dr_db.resources(ctx, op_id=store["operation"]["id"]))


@flows.register("test_failover")
def get_test_failover_flow(parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="test_failover",
        steps=(
            flows.Step("validate_sites", lifecycle_tasks.validate_sites),
            # Replicates a snapshot now; the workload is not touched.
            flows.Step("snapshot_consistency_group",
                       storage_tasks.snapshot_consistency_group,
                       outputs=("snapshot",)),
            # Checks that the copies can be made; the rebuild asks for
            # each VM's copies (a pipeline per VM: storage_tasks).
            flows.Step("create_test_volumes",
                       storage_tasks.create_test_volumes,
                       inputs=("snapshot",), outputs=("volumes",)),
            flows.Step("create_test_network",
                       compute_tasks.create_test_network,
                       outputs=("network_id",), changes_cloud=True),
            # The failover's step name (stored with every test failover
            # ever queued: doc/engine.md); its task builds "-drtest" copies.
            flows.Step("recreate_instances",
                       compute_tasks.create_test_instances, weight=5,
                       inputs=("volumes", "network_id", "snapshot"),
                       outputs=("servers",), changes_cloud=True),
            # The released name, the same in every flow (flows/__init__.py).
            flows.Step("update_protection_group",
                       database_tasks.mark_test_active, changes_cloud=True),
        ),
        on_failure=lifecycle_tasks.mark_group_after_failure,
        keeps_test_on_failure=_made_anything,
    )


@flows.register("test_cleanup")
def get_test_cleanup_flow(parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="test_cleanup",
        steps=(
            flows.Step("validate_sites", lifecycle_tasks.validate_sites),
            flows.Step("delete_test_instances",
                       compute_tasks.delete_test_instances, weight=2,
                       changes_cloud=True),
            flows.Step("delete_test_networks",
                       compute_tasks.delete_test_networks,
                       changes_cloud=True),
            flows.Step("delete_test_volumes",
                       storage_tasks.delete_test_volumes, weight=2,
                       changes_cloud=True),
            # The released name, the same in every flow (flows/__init__.py).
            flows.Step("update_protection_group",
                       database_tasks.clear_test, changes_cloud=True),
        ),
    )
