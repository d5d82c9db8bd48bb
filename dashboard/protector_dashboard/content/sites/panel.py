"""The sites panel of the admin dashboard."""
from django.utils.translation import gettext_lazy as _
import horizon


class Sites(horizon.Panel):
    name = _("Sites")
    slug = "dr_sites"
    permissions = ("openstack.services.protector",)
    # Reading sites is open to any project user; this panel is for the
    # admins who register, validate and delete them.
    policy_rules = (("protector", "protector:sites:create"),)
