"""Client side of the engine's RPC API.

Version history:

* 1.0 - ``wake(operation_id)``: a cast telling engines new work is queued.

Only casts: the operation itself is durable in the database, so a lost
message delays work until the next poll and loses nothing.
"""
from protector import rpc


class EngineAPI:
    VERSION = "1.0"

    def __init__(self, transport=None):
        self.transport = transport or rpc.get_transport()
        self.client = (rpc.get_client(self.transport, version=self.VERSION)
                       if self.transport else None)

    def wake(self, context, operation_id):
        """Ask any engine to look for queued work now (best effort)."""
        if self.client is None:
            return False
        cctxt = self.client.prepare(fanout=True)
        cctxt.cast(context, "wake", operation_id=operation_id)
        return True
