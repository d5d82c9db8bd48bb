"""Who asks: the one value the API hands the domain layer.

The API builds it once per request (``api/util.caller``) from what the
middleware and the dispatcher established; everything below the API reads
it instead of the webob request, so no domain module knows about HTTP
headers (doc/architecture.md, "Layers").
"""
import dataclasses
import typing


@dataclasses.dataclass(frozen=True)
class Caller:
    # The request context (the caller's token, user and project).
    context: typing.Any
    # The project of the URL (``/v1/{tenant_id}``), checked against the
    # token's by the dispatcher.
    tenant_id: str
    # The caller's token for the peer site (``X-Protector-Peer-Token``,
    # the CLI's ``--secondary-cloud``), or None.
    peer_token: typing.Optional[str] = None
    # The peer site (a ``db.sites`` row) whose pairing key signed the
    # request (internal endpoints), or None.
    peer_site: typing.Optional[dict] = None
