"""Volumes Protector makes on an array from a snapshot, and their removal.

A copy has Protector's name (``names.copy_name``) so that:

* a re-run finds it: if the volume already exists and was copied from the
  same source it is reused, never copied twice;
* it is the only thing Protector overwrites or deletes: a name without
  the ``protector-`` prefix is refused, whatever the caller passes.
"""
from protector import exception
from protector.storage.pure import client as pure_client
from protector.storage.pure import names

get = pure_client.get


def make_copy(array, source, name):
    """``name`` on ``array`` holding ``source`` (a volume snapshot or a
    volume); returns ``(name, created)``."""
    from pypureclient import flasharray as fa
    if not names.is_copy(name):
        raise exception.ArrayError(array=array.display, call="copy",
                                   reason="refusing to write %s: not a "
                                   "Protector copy" % name)
    rows = array.items_or_none("get_volumes", names=[name])
    volume = fa.VolumePost(source=fa.Reference(name=source))
    if rows:
        row = rows[0]
        if get(row, "destroyed", False):
            # A destroyed copy still holds the name until eradicated.
            array.tolerant("delete_volumes", ok=("does not exist",),
                           names=[name])
        elif get(get(row, "source"), "name") == source:
            return name, False
        else:
            # Ours (by name) but from another point in time: overwrite.
            array.check("post_volumes", names=[name], volume=volume,
                        overwrite=True)
            return name, True
    array.check("post_volumes", names=[name], volume=volume)
    return name, True


def delete_copy(array, name):
    """Destroy and eradicate a Protector copy; gone already is fine.
    Returns True if something was removed."""
    from pypureclient import flasharray as fa
    if not names.is_copy(name):
        raise exception.ArrayError(array=array.display, call="delete copy",
                                   reason="refusing to delete %s: not a "
                                   "Protector copy" % name)
    rows = array.items_or_none("get_volumes", names=[name])
    if not rows:
        return False
    if not get(rows[0], "destroyed", False):
        array.check("patch_volumes", names=[name],
                    volume=fa.VolumePatch(destroyed=True))
    array.tolerant("delete_volumes", ok=("does not exist",), names=[name])
    return True
