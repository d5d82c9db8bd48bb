"""The ``pure`` storage driver: Pure Storage FlashArray, REST 2.x.

Through ``py-pure-client`` (``from pypureclient import flasharray``).
Modules: ``client`` (one array, typed errors, TLS options), ``names``
(Cinder's and Protector's array names), ``pgroups`` (async protection
groups), ``pods`` (sync ActiveCluster pods), ``copies`` (Protector's
volumes made from snapshots), ``driver`` (the ``StorageDriver``),
``validate`` (policy checks at create time). See doc/storage.md.
"""
from protector.storage.pure.driver import PureStorageDriver

__all__ = ["PureStorageDriver"]
