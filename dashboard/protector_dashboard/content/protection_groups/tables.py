"""Tables of the protection groups panel: groups and a group's members.

The groups table is filled by one ``GET /protection-groups``: every column
is a field of the list (doc/api-ref.md "Protection group fields"); none
asks the API per row.
"""
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import tables

from protector_dashboard.api import protector
from protector_dashboard.content.protection_groups import peer

GROUP_STATUS_CHOICES = (
    ("active", True),
    ("failed_over", True),
    ("error", False),
    ("creating", None),
    ("deleting", None),
    ("failing_over", None),
    ("failing_back", None),
)
SYNC_CHOICES = (
    ("SYNCED", True),
    ("OUT_OF_SYNC", False),
    ("FAILED", False),
    ("UNREACHABLE", False),
    ("PENDING", None),
)
RPO_CHOICES = (("ok", True), ("breached", False), ("unknown", None))
# States in which a group is being changed: no action starts then.
BUSY = ("creating", "deleting", "failing_over", "failing_back")


def _policy(*names):
    return tuple(("protector", name) for name in names)


class PeerSignIn(tables.LinkAction):
    """The peer-site sign-in (doc/dashboard.md "Peer-site sign-in")."""

    name = "peer_sign_in"
    verbose_name = _("Sign In to Peer Site")
    url = "horizon:project:protection_groups:peer_sign_in"
    classes = ("ajax-modal",)
    icon = "sign-in"


class CreateGroup(tables.LinkAction):
    name = "create"
    verbose_name = _("Create Protection Group")
    url = "horizon:project:protection_groups:create"
    classes = ("ajax-modal",)
    icon = "plus"
    policy_rules = _policy("protector:protection_groups:create")


class UpdateGroup(tables.LinkAction):
    name = "update"
    verbose_name = _("Edit Protection Group")
    url = "horizon:project:protection_groups:update"
    classes = ("ajax-modal",)
    icon = "pencil"
    policy_rules = _policy("protector:protection_groups:update")

    def allowed(self, request, group=None):
        return group is None or group.status not in ("creating", "deleting")


class AddMember(tables.LinkAction):
    name = "add_member"
    verbose_name = _("Add Member")
    url = "horizon:project:protection_groups:add_member"
    classes = ("ajax-modal",)
    icon = "plus"
    policy_rules = _policy("protector:members:create")

    def allowed(self, request, group=None):
        return group is None or group.status == "active"


class SetPolicy(tables.LinkAction):
    name = "set_policy"
    verbose_name = _("Set Replication Policy")
    url = "horizon:project:protection_groups:set_policy"
    classes = ("ajax-modal",)
    policy_rules = _policy("protector:replication_policies:create")

    def allowed(self, request, group=None):
        return group is None or group.status not in BUSY


class DRAction(tables.LinkAction):
    """A DR action form (preflight first, then confirm)."""

    classes = ("ajax-modal", "btn-danger")
    policy_rules = _policy("protector:protection_groups:failover")
    # The group statuses the API accepts for the action
    # (doc/api-ref.md "DR operations", checks in order).
    statuses = ()

    def get_link_url(self, datum=None):
        return reverse("horizon:project:protection_groups:dr_action",
                       args=(datum.id, self.name))

    def allowed(self, request, group=None):
        return group is None or group.status in self.statuses


class Failover(DRAction):
    name = "failover"
    verbose_name = _("Failover")
    statuses = ("active",)


class Failback(DRAction):
    name = "failback"
    verbose_name = _("Failback")
    statuses = ("failed_over",)


class TestFailover(DRAction):
    name = "test_failover"
    verbose_name = _("Test Failover")
    classes = ("ajax-modal",)
    statuses = ("active", "failed_over")


class TestCleanup(DRAction):
    name = "test_cleanup"
    verbose_name = _("Test Cleanup")
    classes = ("ajax-modal",)
    statuses = ("active", "failed_over")


class DeleteGroup(tables.DeleteAction):
    policy_rules = _policy("protector:protection_groups:delete")

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Delete Protection Group",
                             "Delete Protection Groups", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Deleted Protection Group",
                             "Deleted Protection Groups", count)

    def allowed(self, request, group=None):
        # The API refuses a group with members or not active (409); the
        # list knows both, so the button is not offered in vain.
        return group is None or (group.status in ("active", "error")
                                 and not group.member_count)

    def delete(self, request, obj_id):
        try:
            protector.pg_delete(request, obj_id)
        except Exception as exc:
            peer.reraise_handled(request, exc)


RPO_LABELS = {"ok": _("OK"), "breached": _("Breached"),
              "unknown": _("Unknown")}


def _rpo(group):
    """The group's RPO state as the list carries it (microversion 1.5:
    what protector-engine's periodic check or the latest show found, not
    asked of the arrays per row), with its detail and time as the
    cell's tooltip."""
    status = group.get("rpo_status")
    if not status:  # a protector-api older than 1.5
        return _("See details")
    lag = group.get("replication_lag_seconds")
    if status == "breached" and lag is not None:
        label = _("Breached (lag %s s)") % lag
    else:
        label = RPO_LABELS.get(status, status)
    title = " ".join(str(part) for part in (
        group.get("rpo_detail"),
        group.get("rpo_checked_at") and
        _("(checked %s)") % group.get("rpo_checked_at")) if part)
    if not title:
        return label
    return format_html('<span title="{}">{}</span>', title, label)


class ProtectionGroupsTable(tables.DataTable):
    name = tables.WrappingColumn(
        "name", verbose_name=_("Name"),
        link="horizon:project:protection_groups:detail")
    status = tables.Column(
        "status", verbose_name=_("Status"), status=True,
        status_choices=GROUP_STATUS_CHOICES)
    current_primary = tables.Column(
        "current_primary_site", verbose_name=_("Current Primary"))
    secondary = tables.Column("secondary_site",
                              verbose_name=_("Secondary Site"))
    replication_type = tables.Column("replication_type",
                                     verbose_name=_("Replication"))
    sync = tables.Column(
        "remote_sync_status", verbose_name=_("Sync State"), status=True,
        status_choices=SYNC_CHOICES, empty_value=_("Unknown"))
    rpo = tables.Column(_rpo, verbose_name=_("RPO State"))
    members = tables.Column("member_count", verbose_name=_("Members"))
    next_action = tables.WrappingColumn(
        "next_action", verbose_name=_("Next Step"), empty_value="")

    class Meta:
        name = "protection_groups"
        verbose_name = _("Protection Groups")
        status_columns = ("status",)
        table_actions = (PeerSignIn, CreateGroup, DeleteGroup)
        row_actions = (Failover, Failback, TestFailover, TestCleanup,
                       AddMember, SetPolicy, UpdateGroup, DeleteGroup)


class RemoveMember(tables.DeleteAction):
    name = "remove_member"
    policy_rules = _policy("protector:members:delete")

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Remove Member", "Remove Members", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Removed Member", "Removed Members", count)

    def allowed(self, request, member=None):
        # Members change only while the group is active (the API's 409).
        return self.table.kwargs["group"].status == "active"

    def delete(self, request, obj_id):
        try:
            protector.member_remove(request, self.table.kwargs["group_id"],
                                    obj_id)
        except Exception as exc:
            peer.reraise_handled(request, exc)


class AddMemberToThisGroup(AddMember):
    def get_link_url(self, datum=None):
        return reverse("horizon:project:protection_groups:add_member",
                       args=(self.table.kwargs["group_id"],))

    def allowed(self, request, datum=None):
        return self.table.kwargs["group"].status == "active"


class MembersTable(tables.DataTable):
    instance_name = tables.Column(
        "instance_name", verbose_name=_("Instance"),
        link=lambda m: reverse("horizon:project:instances:detail",
                               args=(m.instance_id,)))
    instance_id = tables.Column("instance_id",
                                verbose_name=_("Instance ID"))
    status = tables.Column("status", verbose_name=_("Status"))
    volume_count = tables.Column("volume_count", verbose_name=_("Volumes"))
    created = tables.Column("created_at", verbose_name=_("Added"))

    class Meta:
        name = "members"
        verbose_name = _("Members")
        table_actions = (AddMemberToThisGroup, RemoveMember)
        row_actions = (RemoveMember,)
