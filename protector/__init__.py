"""Protector: disaster-recovery orchestration for pairs of OpenStack clouds."""

# oslo.messaging pulls in oslo.service, whose default backend is eventlet.
# Protector runs on plain threads (STYLE.md 8): choose the threading
# backend before anything asks oslo.service for one.
from oslo_service import backend as _oslo_service_backend  # noqa: E402

_oslo_service_backend.register_backend_default_hook(
    lambda: _oslo_service_backend.BackendType.THREADING)
