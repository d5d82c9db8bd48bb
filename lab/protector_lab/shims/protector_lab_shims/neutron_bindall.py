"""ML2 mechanism driver ``bindall``: binds every port on every host.

The lab runs Neutron API-only (no L2 agent, no OVS/OVN), and Nova's fake virt
driver plugs nothing, so a port just needs a successful binding for a server
to go ACTIVE. This driver binds the first segment it is offered as an OVS
port with status ACTIVE.
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: False},
                                status=constants.PORT_STATUS_ACTIVE)
            return
