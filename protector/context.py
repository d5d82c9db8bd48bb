"""Request context: who is calling, carried through the API and the DB."""
from oslo_context import context as oslo_context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(oslo_context.RequestContext):
    """oslo.context's context, able to hold an enginefacade transaction."""

    def __init__(self, *args, service_catalog=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_catalog = service_catalog or []

    def to_policy_values(self):
        values = super().to_policy_values()
        values["is_admin"] = self.is_admin
        return values


def get_admin_context():
    return RequestContext(is_admin=True, overwrite=False)
