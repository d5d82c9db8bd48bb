"""The sites table: register, validate, delete."""
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import messages
from horizon import tables

from protector_dashboard.api import protector

STATUS_CHOICES = (("active", True), ("unreachable", False),
                  ("error", False))


class RegisterSite(tables.LinkAction):
    name = "register"
    verbose_name = _("Register Site")
    url = "horizon:admin:dr_sites:register"
    classes = ("ajax-modal",)
    icon = "plus"
    policy_rules = (("protector", "protector:sites:create"),)


def validation_summary(result):
    """One line of a validation result (doc/api-ref.md "Sites")."""
    services = ", ".join("%s %s" % (name, state) for name, state in
                         sorted((result.get("services") or {}).items()))
    types = ", ".join(result.get("replicated_volume_types") or []) or "-"
    return _("Site %(site)s: %(reach)s; %(services)s; replicated volume "
             "types: %(types)s.") % {
        "site": result.get("site"),
        "reach": _("reachable") if result.get("reachable")
        else _("unreachable"),
        "services": services or "-", "types": types}


class ValidateSite(tables.BatchAction):
    name = "validate"
    policy_rules = (("protector", "protector:sites:validate"),)

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Validate Site", "Validate Sites", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Validated Site", "Validated Sites", count)

    def action(self, request, obj_id):
        result = protector.site_validate(request, obj_id)
        healthy = result.get("reachable") and all(
            state == "OK" for state in (result.get("services") or {})
            .values())
        (messages.info if healthy else messages.warning)(
            request, validation_summary(result))


class DeleteSite(tables.DeleteAction):
    policy_rules = (("protector", "protector:sites:delete"),)

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Delete Site", "Delete Sites", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Deleted Site", "Deleted Sites", count)

    def delete(self, request, obj_id):
        protector.site_delete(request, obj_id)


class SitesTable(tables.DataTable):
    name = tables.Column("name", verbose_name=_("Name"))
    site_type = tables.Column("site_type", verbose_name=_("Type"))
    status = tables.Column("status", verbose_name=_("Status"), status=True,
                           status_choices=STATUS_CHOICES)
    status_reason = tables.WrappingColumn(
        "status_reason", verbose_name=_("Status Reason"), empty_value="")
    auth_url = tables.Column("auth_url", verbose_name=_("Keystone"))
    region = tables.Column("region_name", verbose_name=_("Region"),
                           empty_value="")
    checked = tables.Column("last_checked_at",
                            verbose_name=_("Last Checked"), empty_value="")

    class Meta:
        name = "sites"
        verbose_name = _("Sites")
        status_columns = ("status",)
        table_actions = (RegisterSite, DeleteSite)
        row_actions = (ValidateSite, DeleteSite)
