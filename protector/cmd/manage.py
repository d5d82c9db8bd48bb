"""protector-manage: operator commands (``db sync``, ``db version``)."""
import sys

from oslo_config import cfg

from protector.common import config
from protector.db import api as db_api
from protector.db import migration


def do_db_sync(conf):
    migration.upgrade(conf.command.revision or "head")
    print("Database is at revision %s." % migration.version())
    return 0


def do_db_version(conf):
    current = migration.version()
    print(current if current else "None (run 'protector-manage db sync')")
    return 0


def add_command_parsers(subparsers):
    db = subparsers.add_parser("db", help="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command")
    db_sub.required = True
    sync = db_sub.add_parser("sync", help="Create or upgrade the schema.")
    sync.add_argument("revision", nargs="?",
                      help="Target revision (default: the newest).")
    sync.set_defaults(func=do_db_sync)
    ver = db_sub.add_parser("version", help="Print the schema revision.")
    ver.set_defaults(func=do_db_version)


command_opt = cfg.SubCommandOpt("command", title="Commands",
                                handler=add_command_parsers)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = cfg.CONF
    conf.register_cli_opt(command_opt)
    config.parse_args(argv, conf=conf)
    db_api.configure(conf)
    try:
        return conf.command.func(conf)
    except Exception as exc:  # an operator sees one line, the log the rest
        print("protector-manage: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
