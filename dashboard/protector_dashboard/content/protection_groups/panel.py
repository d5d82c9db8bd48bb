"""The protection groups panel (hidden without a protector-api)."""
from django.utils.translation import gettext_lazy as _
import horizon


class ProtectionGroups(horizon.Panel):
    name = _("Protection Groups")
    slug = "protection_groups"
    # Shown only when the catalog has the service (Horizon grants
    # "openstack.services.<type>" for each service type in it).
    permissions = ("openstack.services.protector",)
    policy_rules = (("protector", "protector:protection_groups:index"),)
