"""The DR operations panel (hidden without a protector-api)."""
from django.utils.translation import gettext_lazy as _
import horizon


class Operations(horizon.Panel):
    name = _("DR Operations")
    slug = "dr_operations"
    permissions = ("openstack.services.protector",)
    policy_rules = (("protector", "protector:operations:index"),)
