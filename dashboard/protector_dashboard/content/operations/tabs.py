"""The tabs of an operation's detail page: overview and steps.

Both come from one ``GET /operations/{id}``; the steps are its ``steps``
(microversion 1.2, which protectorclient asks for).
"""
from django.utils.translation import gettext_lazy as _
from horizon import tables
from horizon import tabs

from protector_dashboard.api import protector

STEP_STATUS_CHOICES = (
    ("completed", True),
    ("skipped", True),
    ("failed", False),
    ("pending", None),
    ("running", None),
)


class StepsTable(tables.DataTable):
    name = tables.Column("name", verbose_name=_("Step"))
    status = tables.Column("status", verbose_name=_("Status"), status=True,
                           status_choices=STEP_STATUS_CHOICES)
    attempts = tables.Column("attempts", verbose_name=_("Attempts"))
    started = tables.Column("started_at", verbose_name=_("Started"),
                            empty_value="")
    completed = tables.Column("completed_at", verbose_name=_("Completed"),
                              empty_value="")
    error = tables.WrappingColumn("error_message", verbose_name=_("Error"),
                                  empty_value="")

    def get_object_id(self, step):
        return step.name

    class Meta:
        name = "steps"
        verbose_name = _("Steps")
        status_columns = ("status",)


class OverviewTab(tabs.Tab):
    name = _("Overview")
    slug = "overview"
    template_name = "protector_dashboard/operations/_detail_overview.html"

    def get_context_data(self, request):
        return {"operation": self.tab_group.kwargs["operation"]}


class StepsTab(tabs.TableTab):
    name = _("Steps")
    slug = "steps"
    table_classes = (StepsTable,)
    template_name = "horizon/common/_detail_table.html"

    def get_steps_data(self):
        operation = self.tab_group.kwargs["operation"]
        return [protector.Resource(step)
                for step in operation.get("steps") or []]


class OperationDetailTabs(tabs.DetailTabsGroup):
    slug = "operation_details"
    tabs = (OverviewTab, StepsTab)
