"""Rows for engine and operations tests, written straight into a database.

Protection groups, members and policies are inserted with the models (not
through the API), so these tests need neither two sites nor Cinder.
"""
import datetime
import json
import uuid

import sqlalchemy as sa
from sqlalchemy import orm

from protector.db import models


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Rows:
    def __init__(self, db_url):
        self.engine = sa.create_engine(db_url)

    def session(self):
        return orm.Session(self.engine)

    def site(self, name, auth_url, protector_url=None):
        with self.session() as s, s.begin():
            row = s.scalars(sa.select(models.Site).where(
                models.Site.name == name)).first()
            if row is not None:
                return row.id
            site_id = str(uuid.uuid4())
            s.add(models.Site(id=site_id, name=name, site_type="primary",
                              auth_url=auth_url, status="active",
                              protector_url=protector_url,
                              created_at=_now()))
            return site_id

    def group(self, project_id, primary, secondary, name=None, members=1,
              policy=True, status="active", networks=("net-web",),
              flavor="m1.small"):
        pg_id = str(uuid.uuid4())
        with self.session() as s, s.begin():
            s.add(models.ProtectionGroup(
                id=pg_id, project_id=project_id,
                name=name or "pg-%s" % pg_id[:8], status=status,
                replication_type="async", primary_site_id=primary,
                secondary_site_id=secondary, current_primary_site_id=primary
                if status != "failed_over" else secondary,
                volume_type_id=str(uuid.uuid4()),
                volume_type_name="replicated-async", failover_count=0,
                metadata_version=1, created_at=_now()))
            s.flush()
            for i in range(members):
                member_id = str(uuid.uuid4())
                config = {"name": "vm-%d" % i,
                          "flavor": {"original_name": flavor},
                          "ports": [{"network_name": n} for n in networks]}
                s.add(models.Member(
                    id=member_id, protection_group_id=pg_id,
                    project_id=project_id, instance_id=str(uuid.uuid4()),
                    instance_name="vm-%d" % i, status="protected",
                    instance_config=json.dumps(config),
                    current_site_id=primary, created_at=_now()))
                s.flush()
                s.add(models.MemberVolume(
                    id=str(uuid.uuid4()), member_id=member_id,
                    volume_id=str(uuid.uuid4()), size_gb=1, boot_index=0,
                    bootable=True, created_at=_now()))
            if policy:
                s.add(models.ReplicationPolicy(
                    id=str(uuid.uuid4()), protection_group_id=pg_id,
                    primary_fa_url="https://fa-a", secondary_fa_url=
                    "https://fa-b", pure_pg_name="pg-x",
                    replication_interval=300, rpo_minutes=15,
                    created_at=_now()))
        return pg_id

    def group_row(self, pg_id):
        with self.session() as s:
            row = s.get(models.ProtectionGroup, pg_id)
            return {c.name: getattr(row, c.name)
                    for c in models.ProtectionGroup.__table__.columns}

    def set_group(self, pg_id, **values):
        with self.session() as s, s.begin():
            s.execute(sa.update(models.ProtectionGroup).where(
                models.ProtectionGroup.id == pg_id).values(**values))

    def operation(self, op_id):
        with self.session() as s:
            row = s.get(models.Operation, op_id)
            steps = s.scalars(sa.select(models.OperationStep).where(
                models.OperationStep.operation_id == op_id).order_by(
                models.OperationStep.position))
            data = {c.name: getattr(row, c.name)
                    for c in models.Operation.__table__.columns}
            data["steps"] = {st.name: {"status": st.status,
                                       "attempts": st.attempts,
                                       "error": st.error_message}
                             for st in steps}
            return data

    def pair(self, site_id, encryption_key, secret=None, key_id=None):
        """A pairing key for ``site_id`` (as ``site pair`` stores it),
        encrypted with the server's ``[storage] token_encryption_key``."""
        from cryptography import fernet
        secret = secret or uuid.uuid4().hex + uuid.uuid4().hex
        encrypted = fernet.Fernet(encryption_key.encode()).encrypt(
            secret.encode()).decode()
        with self.session() as s, s.begin():
            s.execute(sa.delete(models.SiteKey).where(
                models.SiteKey.site_id == site_id))
            s.add(models.SiteKey(site_id=site_id,
                                 key_id=key_id or str(uuid.uuid4()),
                                 secret_encrypted=encrypted,
                                 created_at=_now()))
        return secret

    def site_key(self, site_id):
        with self.session() as s:
            row = s.scalars(sa.select(models.SiteKey).where(
                models.SiteKey.site_id == site_id)).first()
            return {"key_id": row.key_id,
                    "secret_encrypted": row.secret_encrypted} if row \
                else None

    def add_resource(self, op_id, pg_id, rtype, key, resource_id=None,
                     status="created"):
        with self.session() as s, s.begin():
            s.add(models.RecoveryResource(
                id=str(uuid.uuid4()), operation_id=op_id,
                protection_group_id=pg_id, resource_type=rtype,
                logical_key=key, resource_id=resource_id, status=status,
                details="{}", created_at=_now()))


def queue(rows, pg_id, operation_type, parameters=None, project="p",
          source=None, target=None, hold=True):
    """Insert a queued operation with its pending steps (as the API does);
    ``hold`` also makes it the group's current operation."""
    from protector.engine import flows
    op_id = str(uuid.uuid4())
    names = flows.step_names(operation_type, parameters or {})
    with rows.session() as s, s.begin():
        s.add(models.Operation(
            id=op_id, project_id=project, protection_group_id=pg_id,
            operation_type=operation_type, status="queued", progress=0,
            source_site_id=source, target_site_id=target,
            parameters=json.dumps(parameters or {}), created_at=_now()))
        for position, name in enumerate(names):
            s.add(models.OperationStep(
                id=str(uuid.uuid4()), operation_id=op_id, name=name,
                position=position, status="pending", attempts=0,
                created_at=_now()))
        if hold:
            s.execute(sa.update(models.ProtectionGroup).where(
                models.ProtectionGroup.id == pg_id).values(
                current_operation_id=op_id))
    return op_id
