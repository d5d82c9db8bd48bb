"""Sub-operation flows: the source-site half of planned failover/failback.

They run on the source site's engine, queued by the target site's engine
through this site's protector-api (``dr/subops.py``); ``target_site_id``
of a sub-operation is *this* site (where its tasks act).

prepare_failover: shutdown_instances -> final_snapshot
vacate_site:      delete_instances -> unmanage_volumes
restore_source:   start_instances (rollback of a planned failover/failback:
                  starts what its prepare_failover stopped)
"""
from collections.abc import Mapping
from typing import Any

from protector.engine import flows
from protector.engine.tasks import source_tasks


@flows.register("prepare_failover")
def get_prepare_failover_flow(
        parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="prepare_failover",
        steps=(
            flows.Step("shutdown_instances", source_tasks.shutdown_instances,
                       weight=2, changes_cloud=True),
            # A snapshot: the workload is not changed.
            flows.Step("final_snapshot", source_tasks.final_snapshot,
                       weight=2),
        ),
    )


@flows.register("vacate_site")
def get_vacate_site_flow(
        parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="vacate_site",
        steps=(
            flows.Step("delete_instances", source_tasks.delete_instances,
                       weight=2, changes_cloud=True),
            flows.Step("unmanage_volumes", source_tasks.unmanage_volumes,
                       weight=2, changes_cloud=True),
        ),
    )


@flows.register("restore_source")
def get_restore_source_flow(
        parameters: Mapping[str, Any]) -> flows.Flow:
    return flows.Flow(
        name="restore_source",
        steps=(
            flows.Step("start_instances", source_tasks.start_instances,
                       weight=2, changes_cloud=True),
        ),
    )
