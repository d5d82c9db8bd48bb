"""[database] options: registered from oslo.db, with Protector's default.

SQLite under ``state_path`` is the embedded default; production sites set
``connection = mysql+pymysql://...`` to their own MariaDB/MySQL database.
"""
from oslo_db import options as db_options

# Interpolated by oslo.config when read, so it follows [DEFAULT] state_path.
_DEFAULT_CONNECTION = "sqlite:///$state_path/protector.sqlite"


def register_opts(conf):
    db_options.set_defaults(conf, connection=_DEFAULT_CONNECTION)


def list_opts():
    # oslo.db's own namespace documents the group; nothing extra here.
    return {}
