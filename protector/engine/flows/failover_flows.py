"""The failover flow (seed 000's step names, in order).

validate_sites -> snapshot_consistency_group -> promote_volumes ->
recreate_instances -> update_protection_group. It runs on the target
site's engine. Every step is idempotent, so a crash anywhere is resumed by
re-running the interrupted step.
"""
from protector.engine import flows
from protector.engine.tasks import compute_tasks
from protector.engine.tasks import database_tasks
from protector.engine.tasks import lifecycle_tasks
from protector.engine.tasks import storage_tasks


@flows.register("failover")
def get_failover_flow(parameters):
    return flows.Flow(
        name="failover",
        steps=(
            flows.Step("validate_sites", lifecycle_tasks.validate_sites),
            flows.Step("snapshot_consistency_group",
                       storage_tasks.snapshot_consistency_group, weight=2),
            flows.Step("promote_volumes", storage_tasks.promote_volumes,
                       weight=3),
            flows.Step("recreate_instances",
                       compute_tasks.recreate_instances, weight=3),
            flows.Step("update_protection_group",
                       database_tasks.mark_group_failed_over),
        ),
        on_start=lifecycle_tasks.mark_group_in_progress,
        on_failure=lifecycle_tasks.mark_group_after_failure,
    )
