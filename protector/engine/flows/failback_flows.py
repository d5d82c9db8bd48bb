"""The failback flow: back to the original primary site.

validate_sites -> reverse_replication -> snapshot_consistency_group ->
promote_volumes -> recreate_instances -> retire_previous_instances ->
unmanage_source_volumes -> update_protection_group. It runs on the
original primary's engine. ``retire_previous_instances`` removes, on this
site, the instances the workload left here when it failed over (their
volumes are unmanaged, not deleted): see ``tasks/retire_tasks.py``.

``reverse_replication`` is forward-only: it swaps the arrays' replication
direction, and re-running a half-done swap could reverse it again, so an
interrupted swap fails the operation for the operator to check.
"""
from collections.abc import Mapping
from typing import Any

from protector.engine import flows
from protector.engine.tasks import compute_tasks
from protector.engine.tasks import database_tasks
from protector.engine.tasks import lifecycle_tasks
from protector.engine.tasks import retire_tasks
from protector.engine.tasks import storage_tasks


@flows.register("failback")
def get_failback_flow(parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="failback",
        steps=(
            flows.Step("validate_sites", lifecycle_tasks.validate_sites),
            flows.Step("reverse_replication",
                       storage_tasks.reverse_replication, forward_only=True,
                       weight=2, changes_cloud=True),
            # Planned: its prepare_failover sub-operation shuts the source
            # instances down.
            flows.Step("snapshot_consistency_group",
                       storage_tasks.snapshot_consistency_group, weight=2,
                       outputs=("snapshot",),
                       changes_cloud=parameters.get("type", "planned") ==
                       "planned"),
            # Checks that the copies can be made; the rebuild asks for
            # each VM's copies (a pipeline per VM: storage_tasks).
            flows.Step("promote_volumes", storage_tasks.promote_volumes,
                       inputs=("snapshot",), outputs=("volumes",)),
            flows.Step("recreate_instances",
                       compute_tasks.recreate_instances, weight=5,
                       inputs=("volumes", "snapshot"),
                       outputs=("servers",),
                       changes_cloud=True),
            flows.Step("retire_previous_instances",
                       retire_tasks.retire_previous_instances, weight=2,
                       inputs=("servers", "volumes"), changes_cloud=True),
            flows.Step("unmanage_source_volumes",
                       storage_tasks.unmanage_source_volumes,
                       changes_cloud=True),
            # The released name, the same in every flow (flows/__init__.py);
            # the task says which update.
            flows.Step("update_protection_group",
                       database_tasks.mark_group_failed_back,
                       inputs=("servers", "volumes"), changes_cloud=True),
        ),
        on_start=lifecycle_tasks.mark_group_in_progress,
        on_failure=lifecycle_tasks.mark_group_after_failure,
    )
