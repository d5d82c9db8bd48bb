"""The storage driver interface: what DR operations ask of the arrays.

One driver instance serves one protection group on one site (the site the
engine runs on), configured by the group's replication policy. Every
argument and return value is a plain dict or list of dicts, so results can
be stored as step results and a resumed step can pass them back.

Shapes used below:

* ``volume``: a member volume as the engine knows it, at least
  ``{"volume_id", "volume_name", "size_gb", "bootable", "backend_ref",
  "member_id", "image_name"?}`` (``volume_id`` is the source-site Cinder
  ID; ``backend_ref`` the array's name for it, if known).
* ``snapshot``: ``{"id", "name", "site", "created_at", "volumes":
  [volume...]}`` - a replicated, crash-consistent snapshot of the group.
* ``copy``: ``{"source_volume_id", "backend_ref", "cinder_volume_id"?}`` - a
  volume made on the target array from a snapshot. With
  ``cinder_volume_id`` set the driver already made it a Cinder volume;
  without it the engine brings ``backend_ref`` into Cinder with ``manage``.

Drivers must make every method idempotent for a given ``key`` (the
operation and volume), because the engine re-runs interrupted steps.

A driver is a subclass registered under its name in the
``protector.storage.drivers`` entry points (protector/storage/__init__.py);
it is made as ``cls(policy, group, site, cloud_factory, conf=conf)``, where
``conf`` is the oslo.config object to read its options from.
"""
import abc
from collections.abc import Callable
from typing import Any, Optional

from protector import exception

# The plain shapes above (JSON data, stored as step results).
Volume = dict[str, Any]
Snapshot = dict[str, Any]
Copy = dict[str, Any]


class StorageDriver(abc.ABC):
    """Array operations for one protection group on one site."""

    name = "base"

    def __init__(self, policy: dict[str, Any], group: dict[str, Any],
                 site: dict[str, Any],
                 cloud_factory: Optional[Callable[[], Any]] = None) -> None:
        """``policy``: the replication policy (tokens decrypted);
        ``group``: the protection group; ``site``: the site the driver acts
        on; ``cloud_factory()``: that site's ``SiteCloud``, for drivers
        that need the cloud (called lazily)."""
        self.policy = policy
        self.group = group
        self.site = site
        self._cloud_factory = cloud_factory
        self._cloud: Any = None

    @property
    def cloud(self) -> Any:
        """This site's ``SiteCloud`` (made on first use), or None."""
        if self._cloud is None and self._cloud_factory is not None:
            self._cloud = self._cloud_factory()
        return self._cloud

    @abc.abstractmethod
    def ensure_replication(self, volumes: list[Volume]) -> dict[str, Any]:
        """Make sure the array protection group (or pod) exists, replicates
        to the peer array on the policy's interval and holds ``volumes``.
        Returns ``{"pure_pg_name", "volumes": [backend_ref...]}``."""

    @abc.abstractmethod
    def create_replicated_snapshot(self, volumes: list[Volume],
                                   key: str) -> Snapshot:
        """Take a snapshot now and replicate it to the peer array (planned
        failover's final replication). Returns the ``snapshot`` once it is
        complete on the peer."""

    @abc.abstractmethod
    def latest_replicated_snapshot(self, volumes: list[Volume]) -> Snapshot:
        """The newest snapshot fully replicated to this site, or raise
        ``SnapshotNotFound``."""

    def check_promote(self, snapshot: Snapshot) -> None:
        """Raise what would stop ``promote_volumes`` from making any copy
        of ``snapshot`` (the promote step runs it; the rebuild then asks
        for each VM's copies). Nothing to check by default."""

    @abc.abstractmethod
    def promote_volumes(self, snapshot: Snapshot, key: str,
                        purpose: str = "failover",
                        fresh: frozenset = frozenset()) -> list[Copy]:
        """Make writable volumes on this site's array from ``snapshot``
        (one per snapshot volume). ``purpose`` is ``failover`` or
        ``test``; test copies are separate volumes that leave replication
        untouched. ``fresh``: source volume IDs the operation recorded
        just now, of which no earlier attempt can have made a copy (a
        driver need not look for one). Returns ``[copy...]``. Called from
        several threads at once, each with some of a snapshot's volumes
        (engine/tasks/storage_tasks.CopyRequests)."""

    @abc.abstractmethod
    def delete_copies(self, copies: list[Copy]) -> None:
        """Delete volumes made by ``promote_volumes`` (test cleanup, or the
        side being vacated after ``unmanage``). Only those volumes; a copy
        already gone is not an error."""

    @abc.abstractmethod
    def reverse_replication(
            self, volumes: Optional[list[Volume]] = None) -> dict[str, Any]:
        """Replicate from the peer (where the workload runs since the
        failover) back to this site's array and resync before the cut-over
        (failback with reverse replication). ``volumes``: the member
        volumes (drivers that need them to set up the peer's group).
        Returns details."""

    def restore_replication(
            self, volumes: Optional[list[Volume]] = None) -> dict[str, Any]:
        """Undo ``reverse_replication`` (the rollback of a failed failback
        that had reversed it): replication runs again from the peer's
        side as it did before the failback. Idempotent. Drivers that
        cannot do it safely say why in ``restore_refusal``, and the
        rollback of such a failback is refused before it starts."""
        raise exception.StorageError(
            driver=self.name, reason="this driver cannot undo a "
            "replication reversal")

    @classmethod
    def restore_refusal(cls, group: dict[str, Any]) -> Optional[str]:
        """Why ``restore_replication`` cannot be done safely for
        ``group`` (a sentence), or None when it can."""
        if cls.restore_replication is StorageDriver.restore_replication:
            return "the %s storage driver cannot undo a replication " \
                "reversal" % cls.name
        return None

    def find_copy(self, key: str, source_volume_id: str,
                  purpose: str = "failover") -> Optional[Copy]:
        """The copy ``promote_volumes(snapshot, key, purpose)`` made of
        ``source_volume_id`` (a ``copy``), or None. For the rollback of an
        operation that failed after the driver made a copy but before
        the engine recorded it; only what the driver can tell is its own
        for that key (never a guess by a name another operation could
        share)."""
        return None

    def probe_arrays(self) -> dict[str, Optional[str]]:
        """Whether the arrays answer, cheaply (the preflight asks before
        an operation starts): ``{"target": error-or-None, "source":
        error-or-None}``, ``target`` being the array of ``self.site``
        (where copies are made) and ``source`` the other one. Drivers
        without arrays of their own answer None for both."""
        return {"target": None, "source": None}

    @abc.abstractmethod
    def replication_lag(self) -> Optional[float]:
        """Seconds since the newest replicated snapshot (for the RPO), or
        None when nothing was replicated yet."""
