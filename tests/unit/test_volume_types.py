"""How a new group's secondary volume type is chosen
(pgroups/volume_types.py), against small fake Cinder type catalogues."""
import contextlib
import types

import pytest

from protector import exception
from protector.pgroups import volume_types

NS = types.SimpleNamespace
SITES = ({"name": "site-a"}, {"name": "site-b"})


def specs(kind=None, **extra):
    out = dict(extra)
    if kind:
        out.update(replication_enabled="<is> True",
                   replication_type="<in> %s" % kind)
    return out


class Cloud:
    """A SiteCloud whose Cinder holds ``{id: (name, extra_specs)}``."""

    def __init__(self, catalogue):
        self.types = [NS(id=i, name=n, extra_specs=s, is_public=True)
                      for i, (n, s) in catalogue.items()]
        self.conn = NS(block_storage=NS(find_type=self.find_type,
                                        types=lambda: list(self.types)))

    def find_type(self, ident, ignore_missing=True):
        return next((t for t in self.types if ident in (t.id, t.name)),
                    None)

    @contextlib.contextmanager
    def guard(self, service):
        yield


PRIMARY = Cloud({"a1": ("ssd", specs("async", storage_protocol="iSCSI",
                                     volume_backend_name="pure-a"))})


def resolve(secondary, **body):
    body = dict({"replication_type": "async", "volume_type_id": "a1"},
                **body)
    return volume_types.resolve(SITES, (PRIMARY, Cloud(secondary)), body)


def test_the_same_name_first_even_where_others_match():
    _, vt = resolve({"b1": ("ssd", specs("async")),
                     "b2": ("other", specs("async"))})
    assert vt["id"] == "b1"


def test_one_match_by_extra_specs_whatever_the_backend_name():
    _, vt = resolve({"b1": ("ssd-b", specs("async", storage_protocol="iscsi",
                                           volume_backend_name="pure-b")),
                     "b2": ("fc-b", specs("async", storage_protocol="FC")),
                     "b3": ("sync-b", specs("sync")),
                     "b4": ("plain", specs())})
    assert vt["id"] == "b1"


def test_several_matches_are_ambiguous_and_named():
    with pytest.raises(exception.VolumeTypeAmbiguous) as exc:
        resolve({"b1": ("x", specs("async")), "b2": ("y", specs("async"))})
    assert exc.value.code == "protector.volume_type.ambiguous"
    assert exc.value.kind == "invalid"
    assert "x (b1), y (b2)" in exc.value.message
    assert "--secondary-volume-type" in exc.value.message


def test_no_match_is_not_found():
    with pytest.raises(exception.VolumeTypeNotFound) as exc:
        resolve({"b1": ("fc", specs("async", storage_protocol="FC")),
                 "b2": ("hidden", {"replication_enabled": "<is> True"})})
    assert "ssd does not exist on site site-b" in exc.value.message
    assert "--secondary-volume-type" in exc.value.message


def test_a_named_type_is_taken_if_it_replicates_as_asked():
    catalogue = {"b1": ("fc", specs("async", storage_protocol="FC")),
                 "b2": ("sync", specs("sync")), "b3": ("plain", specs())}
    assert resolve(catalogue, secondary_volume_type="fc")[1]["id"] == "b1"
    assert resolve(catalogue, secondary_volume_type="b1")[1]["id"] == "b1"
    with pytest.raises(exception.VolumeTypeNotReplicated):
        resolve(catalogue, secondary_volume_type="sync")
    with pytest.raises(exception.VolumeTypeNotReplicated):
        resolve(catalogue, secondary_volume_type="plain")
    with pytest.raises(exception.VolumeTypeNotFound):
        resolve(catalogue, secondary_volume_type="ssd")


def test_comparable_backends():
    iscsi = specs(storage_protocol="iSCSI", vendor_name="Pure")
    assert volume_types.comparable(iscsi, specs(storage_protocol="ISCSI "))
    assert volume_types.comparable(iscsi, specs())
    assert not volume_types.comparable(iscsi, specs(vendor_name="Other"))
    assert not volume_types.comparable(
        specs(**{"capabilities:dedup": "<is> True"}),
        specs(**{"capabilities:dedup": "<is> False"}))
    assert volume_types.comparable(specs(volume_backend_name="a"),
                                   specs(volume_backend_name="b"))
