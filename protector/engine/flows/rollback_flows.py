"""The rollback flow: undo a failed failover, failback or test failover.

validate_sites -> delete_recovered_instances -> delete_recovered_networks
-> delete_recovered_volumes -> restore_replication (forward-only) ->
restart_source_instances -> update_protection_group.

It runs on the site of the operation it rolls back (that operation's
target) and is queued by ``dr/recovery.py`` with
``parameters.rolled_back_operation_id``. It deletes exactly what that
operation recorded as made (its ``RecoveryResource`` rows), restarts on
the source site what its planned shutdown stopped (the ``restore_source``
sub-operation), undoes a failback's replication reversal, and gives the
group back the status it had before. Steps that find nothing to do are
skipped; every step is idempotent, so a failed rollback is retried like
any operation. ``restore_replication`` is forward-only, like the reversal
it undoes.
"""
from collections.abc import Mapping
from typing import Any

from protector.engine import flows
from protector.engine.tasks import rollback_tasks


@flows.register("rollback")
def get_rollback_flow(parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="rollback",
        steps=(
            flows.Step("validate_sites", rollback_tasks.validate_sites),
            flows.Step("delete_recovered_instances",
                       rollback_tasks.delete_recovered_instances, weight=2,
                       changes_cloud=True),
            flows.Step("delete_recovered_networks",
                       rollback_tasks.delete_recovered_networks,
                       changes_cloud=True),
            flows.Step("delete_recovered_volumes",
                       rollback_tasks.delete_recovered_volumes, weight=2,
                       changes_cloud=True),
            flows.Step("restore_replication",
                       rollback_tasks.restore_replication,
                       forward_only=True, changes_cloud=True),
            flows.Step("restart_source_instances",
                       rollback_tasks.restart_source_instances, weight=2,
                       changes_cloud=True),
            # The released name, the same in every flow (flows/__init__.py).
            flows.Step("update_protection_group",
                       rollback_tasks.mark_group_rolled_back,
                       changes_cloud=True),
        ),
        on_failure=rollback_tasks.mark_group_after_failure,
        on_complete=rollback_tasks.release_rolled_back_credential,
    )
