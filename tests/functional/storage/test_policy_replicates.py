"""A stored replication policy sets up the array replication at once
(``pgroups/replication.py``), so the arrays replicate on the policy's
schedule before any DR operation: the real protector-api with the ``pure``
driver against the FlashArray simulator."""
import pytest
import sqlalchemy as sa

from protector.db import models
from tests.functional.storage.test_policy_api import _policy
from tests.functional.storage.test_policy_api import api  # noqa: F401
from tests.functional.storage.test_policy_api import cert_dir  # noqa: F401
from tests.functional.storage.test_policy_api import pure_api  # noqa: F401
# The simulator that writes its certificate where pure_api looks for it.
from tests.functional.storage.test_policy_api import sim  # noqa: F401

pytestmark = pytest.mark.keystone


def _member_volumes(rows, pg_id):
    with rows.session() as s:
        return [v.volume_id for v in s.scalars(
            sa.select(models.MemberVolume).join(
                models.Member,
                models.Member.id == models.MemberVolume.member_id).where(
                models.Member.protection_group_id == pg_id))]


def test_policy_put_starts_replication_of_the_members(api, sim):  # noqa
    from pypureclient import flasharray as fa
    rows = api.server.rows
    pg = rows.group(api.alpha, api.server.site_a, api.server.site_b,
                    members=2, policy=False)
    fa1 = sim.client("array1")
    names = []
    for vol_id in _member_volumes(rows, pg):
        names.append("volume-%s-cinder" % vol_id)
        res = fa1.post_volumes(names=[names[-1]], volume=fa.VolumePost(
            provisioned=1 << 30))
        assert res.status_code == 200, res
    # Nothing replicates before the policy.
    assert fa1.get_protection_groups(names=["dr-api"]).status_code == 400

    status, data = api.put(pg, _policy(sim, replication_interval=600))
    assert status == 201, data

    pgroup = list(fa1.get_protection_groups(names=["dr-api"]).items)[0]
    assert pgroup.replication_schedule.enabled is True
    assert pgroup.replication_schedule.frequency == 600 * 1000
    members = sorted(m.member.name for m in fa1.get_protection_groups_volumes(
        group_names=["dr-api"]).items)
    assert members == sorted(names)
    targets = list(fa1.get_protection_groups_targets(
        group_names=["dr-api"]).items)
    assert [t.member.name for t in targets] == ["array2"]
