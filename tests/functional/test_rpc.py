"""The engine wake-up cast travels over a real RabbitMQ vhost."""
import threading

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import conffixture
import pytest

from protector import context
from protector.engine import rpcapi
from protector import rpc
from tests import conftest as top
from tests import services

pytestmark = pytest.mark.rabbitmq


class Endpoint:
    target = messaging.Target(version="1.0")

    def __init__(self):
        self.received = []
        self.event = threading.Event()

    def wake(self, ctxt, operation_id):
        self.received.append((ctxt.project_id, operation_id))
        self.event.set()


@pytest.fixture
def transport_url():
    if not services.rabbit_available():
        top.require_or_skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    with services.rabbit_vhost() as url:
        yield url


def test_wake_cast_reaches_an_engine(transport_url):
    conf = cfg.ConfigOpts()
    conffixture.ConfFixture(conf).setUp()  # every oslo.messaging option
    rpc.register_opts(conf)
    conf([], project="protector")
    transport = messaging.get_rpc_transport(conf, url=transport_url)
    endpoint = Endpoint()
    server = rpc.get_server(transport, "engine-1", [endpoint])
    server.start()
    try:
        api = rpcapi.EngineAPI(transport)
        ctxt = context.RequestContext(project_id="p1", user_id="u1")
        assert api.wake(ctxt, "op-1") is True
        assert endpoint.event.wait(30), "the cast never arrived"
        assert endpoint.received == [("p1", "op-1")]
    finally:
        server.stop()
        server.wait()
        transport.cleanup()


def test_without_a_bus_wake_is_skipped():
    conf = cfg.ConfigOpts()
    conf([], project="protector")
    assert rpc.configured(conf) is False
    conf.set_override("transport_url", "rabbit://guest:guest@h:5672/")
    assert rpc.configured(conf) is True
    api = rpcapi.EngineAPI.__new__(rpcapi.EngineAPI)
    api.transport, api.client = None, None
    assert api.wake(context.RequestContext(), "op-1") is False
