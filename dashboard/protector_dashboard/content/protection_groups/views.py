"""Views of the protection groups panel."""
from django import http
from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import tables
from horizon import tabs
from horizon.utils import memoized

from protector_dashboard.api import protector
from protector_dashboard.content import pages
from protector_dashboard.content.protection_groups import forms as pg_forms
from protector_dashboard.content.protection_groups import peer
from protector_dashboard.content.protection_groups import tables as pg_tables
from protector_dashboard.content.protection_groups import tabs as pg_tabs

INDEX_URL = "horizon:project:protection_groups:index"
TEMPLATES = "protector_dashboard/protection_groups/"


class IndexView(tables.DataTableView):
    table_class = pg_tables.ProtectionGroupsTable
    # The table with the peer sign-in state above it.
    template_name = TEMPLATES + "index.html"
    page_title = _("Protection Groups")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(peer.context(self.request))
        return context

    def get_data(self):
        try:
            return protector.pg_list(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve protection groups."))
            return []


class _GroupMixin:
    """A view about one group: fetched once, a 404 sends to the list."""

    @memoized.memoized_method
    def get_group(self):
        try:
            return protector.pg_get(self.request, self.kwargs["group_id"])
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve the protection group."),
                              redirect=reverse(INDEX_URL))


class DetailView(_GroupMixin, tabs.TabbedTableView):
    tab_group_class = pg_tabs.GroupDetailTabs
    template_name = "horizon/common/_detail.html"
    page_title = "{{ group.name }}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.get_group()
        table = pg_tables.ProtectionGroupsTable(self.request)
        context["group"] = group
        context["url"] = reverse(INDEX_URL)
        context["actions"] = table.render_row_actions(group)
        return context

    def get_tabs(self, request, *args, **kwargs):
        return self.tab_group_class(request, group=self.get_group(),
                                    **kwargs)


class _GroupFormView(_GroupMixin, forms.ModalFormView):
    """A modal form about one group; back to its detail page."""

    url_name = None

    def get_success_url(self):
        return reverse("horizon:project:protection_groups:detail",
                       args=(self.kwargs["group_id"],))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["submit_url"] = self.get_submit_url()
        return context

    def get_submit_url(self):
        return reverse(self.url_name, args=(self.kwargs["group_id"],))

    def get_initial(self):
        return {"group_id": self.kwargs["group_id"]}


class CreateView(pages.FormPage, forms.ModalFormView):
    form_class = pg_forms.CreateGroupForm
    # The modal (from a table, AJAX); as a page it is wrapped in Horizon's
    # (content/pages.py).
    ajax_template_name = "horizon/common/_modal_form.html"
    modal_id = "create_protection_group_modal"
    page_title = _("Create Protection Group")
    submit_label = _("Create")
    submit_url = reverse_lazy("horizon:project:protection_groups:create")
    success_url = reverse_lazy(INDEX_URL)


class UpdateView(pages.FormPage, _GroupFormView):
    form_class = pg_forms.UpdateGroupForm
    ajax_template_name = "horizon/common/_modal_form.html"
    modal_id = "update_protection_group_modal"
    page_title = _("Edit Protection Group")
    submit_label = _("Save")
    url_name = "horizon:project:protection_groups:update"

    def get_initial(self):
        group = self.get_group()
        return {"group_id": self.kwargs["group_id"], "name": group.name,
                "description": group.get("description") or ""}


class AddMemberView(pages.FormPage, _GroupFormView):
    form_class = pg_forms.AddMemberForm
    ajax_template_name = "horizon/common/_modal_form.html"
    modal_id = "add_member_modal"
    page_title = _("Add Member")
    submit_label = _("Add")
    url_name = "horizon:project:protection_groups:add_member"

    def get_initial(self):
        # Instances already protected by this group are not offered.
        try:
            members = protector.member_list(self.request,
                                            self.kwargs["group_id"])
        except Exception:
            members = []
            exceptions.handle(self.request,
                              _("Unable to retrieve the members."))
        return {"group_id": self.kwargs["group_id"],
                "member_instance_ids": [m.instance_id for m in members]}


class SetPolicyView(pages.FormPage, _GroupFormView):
    form_class = pg_forms.SetPolicyForm
    ajax_template_name = "horizon/common/_modal_form.html"
    modal_id = "set_policy_modal"
    page_title = _("Set Replication Policy")
    submit_label = _("Save")
    url_name = "horizon:project:protection_groups:set_policy"

    def get_initial(self):
        initial = {"group_id": self.kwargs["group_id"]}
        try:
            policy = protector.policy_get(self.request,
                                          self.kwargs["group_id"])
        except Exception:
            policy = None
            exceptions.handle(self.request,
                              _("Unable to retrieve the replication "
                                "policy."))
        if policy is not None:
            # Everything but the tokens, which are never read back.
            for name in ("primary_fa_url", "secondary_fa_url",
                         "pure_pg_name", "replication_interval",
                         "rpo_minutes"):
                initial[name] = policy.get(name)
        return initial


ACTION_TITLES = {
    "failover": _("Failover"),
    "failback": _("Failback"),
    "test_failover": _("Test Failover"),
    "test_cleanup": _("Test Cleanup"),
}


class DRActionView(pages.FormPage, _GroupFormView):
    form_class = pg_forms.DRActionForm
    ajax_template_name = TEMPLATES + "dr_action.html"
    modal_id = "dr_action_modal"
    submit_label = _("Submit")

    def dispatch(self, request, *args, **kwargs):
        if kwargs["action"] not in ACTION_TITLES:
            raise http.Http404()
        return super().dispatch(request, *args, **kwargs)

    @property
    def page_title(self):
        return ACTION_TITLES[self.kwargs["action"]]

    def get_context_data(self, **kwargs):
        # The form names the group (and a missing one sends to the list),
        # and says whether the user is signed in to the peer site.
        context = super().get_context_data(**kwargs)
        context["group"] = self.get_group()
        context.update(peer.context(self.request))
        return context

    def get_submit_url(self):
        return reverse("horizon:project:protection_groups:dr_action",
                       args=(self.kwargs["group_id"], self.kwargs["action"]))

    def get_initial(self):
        return {"group_id": self.kwargs["group_id"],
                "action": self.kwargs["action"]}

    def get_success_url_from_handled(self, operation):
        return reverse("horizon:project:dr_operations:detail",
                       args=(operation.id,))
