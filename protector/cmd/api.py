"""protector-api: serve the REST API with gunicorn (pre-fork workers).

gunicorn is the production WSGI server here: pure Python (no compiler on
the host), one master and ``[api] workers`` worker processes, each building
its own application after the fork so no database connection is shared.
"""
import os
import sys

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg
from oslo_log import log as logging

from protector.api import deploy
from protector.common import config

LOG = logging.getLogger(__name__)


class Server(gunicorn_base.BaseApplication):
    def __init__(self, conf, argv):
        self.conf = conf
        self.argv = argv
        super().__init__()

    def load_config(self):
        api = self.conf.api
        workers = api.workers or os.cpu_count() or 1
        settings = {
            "bind": "%s:%d" % (api.bind_host, api.bind_port),
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 120,
            "graceful_timeout": 30,
            # No keep-alive: a client that reuses an idle connection just as
            # gunicorn closes it gets "connection reset" (seen with the CLI's
            # --wait polling); closing after each response avoids that race.
            "keepalive": 0,
            "proc_name": "protector-api",
            # oslo.log writes our logs; gunicorn only logs errors to stderr.
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "debug" if self.conf.debug else "warning",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        # Runs in each worker after fork: re-parse so oslo.log handlers and
        # the DB engine belong to this process.
        return deploy.deploy(self.conf)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = config.parse_args(argv, conf=cfg.CONF)
    LOG.info("protector-api listening on %s:%d with %s workers",
             conf.api.bind_host, conf.api.bind_port,
             conf.api.workers or os.cpu_count())
    # gunicorn parses sys.argv itself unless told otherwise.
    sys.argv = [sys.argv[0]]
    Server(conf, argv).run()


if __name__ == "__main__":
    main()
