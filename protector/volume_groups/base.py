"""The interface of a site's consistency-group driver.

Volume types are not part of it: they are always read from the site's
real Cinder (``pgroups/volume_types.py``), the mock driver included.
"""
import abc
from typing import Any, Optional

# Group spec that makes a generic volume group a consistency group.
CG_SPEC = "consistent_group_snapshot_enabled"
CG_SPEC_VALUE = "<is> True"
GROUP_TYPE_NAME = "protector-consistency-group"


class VolumeGroups(abc.ABC):
    """Consistency-group operations on one site's Cinder."""

    def __init__(self, site: dict[str, Any]) -> None:
        self.site = site

    @abc.abstractmethod
    def create_group(self, name: str, volume_type_id: str,
                     description: Optional[str] = None) -> dict[str, Any]:
        """Create a consistency group for ``volume_type_id``; return
        ``{"id", "group_type_id", "backend_name"}``."""

    @abc.abstractmethod
    def delete_group(self, group_id: str) -> None:
        """Delete the (empty) group; a group already gone is not an error.
        Volumes are never deleted."""

    @abc.abstractmethod
    def add_volumes(self, group_id: str, volume_ids: list[str]) -> None:
        """Put volumes into the group."""

    @abc.abstractmethod
    def remove_volumes(self, group_id: str,
                       volume_ids: list[str]) -> None:
        """Take volumes out of the group (they are not deleted)."""

    def update_volumes(self, group_id: str, add: list[str],
                       remove: list[str]) -> None:
        """Take ``remove`` (in the group) out of it and put ``add`` (not
        in it) in, as ``volumes_in_group`` told the caller; a driver whose
        backend takes both in one update overrides this."""
        if remove:
            self.remove_volumes(group_id, remove)
        if add:
            self.add_volumes(group_id, add)

    @abc.abstractmethod
    def volumes_in_group(self, group_id: str,
                         volume_ids: list[str]) -> list[str]:
        """Those of ``volume_ids`` that are in the group now."""
