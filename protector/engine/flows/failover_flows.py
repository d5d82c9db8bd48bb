"""The failover flow (its step names, in order: doc/engine.md).

validate_sites -> snapshot_consistency_group -> promote_volumes ->
recreate_instances -> update_protection_group. It runs on the target
site's engine. Every step is idempotent, so a crash anywhere is resumed by
re-running the interrupted step.
"""
from collections.abc import Mapping
from typing import Any

from protector.engine import flows
from protector.engine.tasks import compute_tasks
from protector.engine.tasks import database_tasks
from protector.engine.tasks import lifecycle_tasks
from protector.engine.tasks import storage_tasks


@flows.register("failover")
def get_failover_flow(parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="failover",
        steps=(
            flows.Step("validate_sites", lifecycle_tasks.validate_sites),
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
            # The released name, the same in every flow (flows/__init__.py);
            # the task says which update.
            flows.Step("update_protection_group",
                       database_tasks.mark_group_failed_over,
                       inputs=("servers", "volumes"), changes_cloud=True),
        ),
        on_start=lifecycle_tasks.mark_group_in_progress,
        on_failure=lifecycle_tasks.mark_group_after_failure,
    )
