"""FlashArray REST 2.x simulator (API versions 2.0-2.56) for Protector's lab.

Serves several simulated Pure Storage FlashArrays over HTTPS on 127.0.0.1,
one port per array, sharing one stateful ``Fabric`` so that replication
between them is real. Driven by the real ``py-pure-client`` and Cinder's
Pure driver. See doc/flasharray-simulator.md.

Modules: ``state`` (model + clock), ``replication`` (snapshots, transfers,
schedules, retention), ``query`` (filters, paging, envelope), ``routes``
(one module per resource family), ``server`` (HTTPS + auth + routing),
``control`` (``/_sim/`` endpoints), ``faults`` (knobs), ``simulator``
(in-process entry point), ``openapi_check`` (response validation against
the published OpenAPI description), ``cli`` (the
``protector-flasharray-sim`` process).
"""
from .simulator import Simulator
from .state import Fabric

__all__ = ["Simulator", "Fabric"]
