"""protector-engine: run DR operations (see doc/engine.md).

Plain threads (no eventlet). SIGTERM/SIGINT stop taking work, let the
running steps finish and exit; the operations stay 'running' and this
engine (same ``[engine] host``) resumes them when it starts again.
"""
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from protector.common import config
from protector.db import api as db_api
from protector.engine import manager
from protector import rpc

LOG = logging.getLogger(__name__)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    rpc.register_opts(cfg.CONF)
    conf = config.parse_args(argv, conf=cfg.CONF)
    db_api.configure(conf)
    engine = manager.Engine(conf)
    stopping = threading.Event()

    def _signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    engine.start()
    while not stopping.wait(1):
        pass
    engine.stop()
    LOG.info("protector-engine stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
