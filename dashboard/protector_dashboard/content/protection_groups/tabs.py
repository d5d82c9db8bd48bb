"""The tabs of a protection group's detail page.

Only the overview is rendered with the page; the others load when opened
(``preload = False``), so opening a group costs one API call and the
slower ones (sync status asks the peer site) run only on demand.
"""
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tabs

from protector_dashboard.api import protector
from protector_dashboard.content.operations import tables as op_tables
from protector_dashboard.content.protection_groups import tables

TEMPLATES = "protector_dashboard/protection_groups/"


class OverviewTab(tabs.Tab):
    name = _("Overview")
    slug = "overview"
    template_name = TEMPLATES + "_detail_overview.html"

    def get_context_data(self, request):
        return {"group": self.tab_group.kwargs["group"]}


class MembersTab(tabs.TableTab):
    name = _("Members")
    slug = "members"
    table_classes = (tables.MembersTable,)
    template_name = "horizon/common/_detail_table.html"
    preload = False

    def get_members_data(self):
        group = self.tab_group.kwargs["group"]
        try:
            return protector.member_list(self.request, group.id)
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve the members."))
            return []


class _FetchTab(tabs.Tab):
    """A tab that shows one API object of the group (None on error)."""

    preload = False
    context_name = None
    error = None

    def fetch(self, request, group):
        raise NotImplementedError

    def get_context_data(self, request):
        group = self.tab_group.kwargs["group"]
        try:
            value = self.fetch(request, group)
        except Exception:
            exceptions.handle(request, self.error)
            value = None
        return {"group": group, self.context_name: value}


class ConsistencyGroupTab(_FetchTab):
    name = _("Consistency Group")
    slug = "consistency_group"
    template_name = TEMPLATES + "_detail_consistency_group.html"
    context_name = "consistency_group"
    error = _("Unable to retrieve the consistency group.")

    def fetch(self, request, group):
        return protector.consistency_group_get(request, group.id)


class PolicyTab(_FetchTab):
    name = _("Replication Policy")
    slug = "policy"
    template_name = TEMPLATES + "_detail_policy.html"
    context_name = "policy"
    error = _("Unable to retrieve the replication policy.")

    def fetch(self, request, group):
        return protector.policy_get(request, group.id)


class SyncStatusTab(_FetchTab):
    name = _("Sync Status")
    slug = "sync_status"
    template_name = TEMPLATES + "_detail_sync_status.html"
    context_name = "sync"
    error = _("Unable to retrieve the sync status.")

    def fetch(self, request, group):
        return protector.sync_status_get(request, group.id)


class OperationsTab(tabs.TableTab):
    name = _("Operation History")
    slug = "operations"
    table_classes = (op_tables.GroupOperationsTable,)
    template_name = "horizon/common/_detail_table.html"
    preload = False

    def get_operations_data(self):
        group = self.tab_group.kwargs["group"]
        try:
            return protector.operation_list(
                self.request, protection_group_id=group.id)
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve the operations."))
            return []


class GroupDetailTabs(tabs.DetailTabsGroup):
    slug = "group_details"
    tabs = (OverviewTab, MembersTab, ConsistencyGroupTab, PolicyTab,
            SyncStatusTab, OperationsTab)
