"""The message bus (oslo.messaging over RabbitMQ).

Work is durable in the database; a bus message only wakes an engine early.
So the bus is optional: with no ``[DEFAULT] transport_url`` configured,
``get_transport`` returns None, casts are skipped, and engines find work by
polling the database.
"""
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import opts as _om_opts  # noqa: F401 (messaging.opts)
from oslo_messaging import serializer as om_serializer

from protector import context as protector_context

TOPIC_ENGINE = "protector-engine"

_TRANSPORT = None


def register_opts(conf=cfg.CONF):
    """Register the transport options so they can be read before use.

    oslo.messaging defaults ``transport_url`` to ``rabbit://`` (a broker on
    localhost); Protector's default is no bus at all, so an engine without
    ``transport_url`` polls instead of failing to connect.
    """
    messaging.set_transport_defaults("protector")
    for group, opts in messaging.opts.list_opts():
        if group is None:
            conf.register_opts(opts)
    conf.set_default("transport_url", None)


def configured(conf=cfg.CONF):
    register_opts(conf)
    return bool(conf.transport_url)


def get_transport(conf=cfg.CONF):
    """The process-wide RPC transport, or None when no bus is configured."""
    global _TRANSPORT
    if _TRANSPORT is None and configured(conf):
        _TRANSPORT = messaging.get_rpc_transport(conf)
    return _TRANSPORT


def cleanup():
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
        _TRANSPORT = None


class ContextSerializer(om_serializer.Serializer):
    """Send the RequestContext as a plain dict; rebuild it on arrival."""

    def __init__(self, base=None):
        self._base = base or om_serializer.NoOpSerializer()

    def serialize_entity(self, ctxt, entity):
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt, entity):
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return protector_context.RequestContext.from_dict(ctxt)


def get_client(transport, topic=TOPIC_ENGINE, version="1.0"):
    target = messaging.Target(topic=topic, version=version)
    return messaging.get_rpc_client(transport, target,
                                    serializer=ContextSerializer())


def get_server(transport, host, endpoints, topic=TOPIC_ENGINE):
    target = messaging.Target(topic=topic, server=host)
    # No executor argument (deprecated): oslo.messaging picks threading,
    # as Protector never monkey-patches with eventlet.
    return messaging.get_rpc_server(transport, target, endpoints,
                                    serializer=ContextSerializer())
