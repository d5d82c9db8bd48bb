"""Default policy rules, in code (oslo.policy), one module per resource."""
import itertools

from protector.policies import base
from protector.policies import health
from protector.policies import internal
from protector.policies import members
from protector.policies import operations
from protector.policies import protection_groups
from protector.policies import replication_policies
from protector.policies import sites
from protector.policies import sync
from protector.policies import tenant_mappings


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        sites.list_rules(),
        protection_groups.list_rules(),
        members.list_rules(),
        replication_policies.list_rules(),
        operations.list_rules(),
        tenant_mappings.list_rules(),
        sync.list_rules(),
        health.list_rules(),
        internal.list_rules(),
    ))
