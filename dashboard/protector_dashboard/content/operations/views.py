"""Views of the DR operations panel: the list and one operation."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tables
from horizon import tabs
from horizon.utils import memoized

from protector_dashboard.api import protector
from protector_dashboard.content.operations import tables as op_tables
from protector_dashboard.content.operations import tabs as op_tabs


class IndexView(tables.DataTableView):
    table_class = op_tables.OperationsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("DR Operations")

    def get_data(self):
        try:
            return protector.operation_list(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve DR operations."))
            return []


class DetailView(tabs.TabbedTableView):
    tab_group_class = op_tabs.OperationDetailTabs
    template_name = "horizon/common/_detail.html"
    page_title = _("Operation {{ operation.operation_type }} "
                   "{{ operation.id }}")

    @memoized.memoized_method
    def get_data(self):
        try:
            return protector.operation_get(self.request,
                                           self.kwargs["operation_id"])
        except Exception:
            exceptions.handle(self.request,
                              _("Unable to retrieve the operation."),
                              redirect=reverse(
                                  "horizon:project:dr_operations:index"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        operation = self.get_data()
        table = op_tables.OperationsTable(self.request)
        context["operation"] = operation
        context["url"] = reverse("horizon:project:dr_operations:index")
        # Retry / roll back in the page header, where the API allows them.
        context["actions"] = table.render_row_actions(operation)
        return context

    def get_tabs(self, request, *args, **kwargs):
        return self.tab_group_class(request, operation=self.get_data(),
                                    **kwargs)
