"""``openstack dr health show``: the local service and the remote sites."""
from protectorclient.osc.v1 import base

# doc/cli.md, "Health".
COLUMNS = [("Component", "component"), ("Status", "status"),
           ("Detail", "detail")]


class ShowHealth(base.Lister):
    """Health of protector-api, protector-engine, database and sites.

    Exits 0 even when degraded: this is a report; read the Status column.
    With --secondary-cloud the server also finds the peer site's
    protector-api in the peer's service catalog (when the site has no
    protector URL registered) and checks its version.
    """

    def take_action(self, parsed_args):
        health = self.client.health()
        return base.list_columns(health.get("components") or [], COLUMNS)
