"""Tables of DR operations, with their retry and rollback actions.

Which failed operations may be retried or rolled back is the API's rule
(doc/api-ref.md "Retry and rollback of a failed operation"); the buttons
are offered for the types it names, and the API has the last word (its
412 says why and what to do instead, and is shown as the error).
"""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import messages
from horizon import tables

from protector_dashboard.api import protector
from protector_dashboard.content.protection_groups import peer

STATUS_CHOICES = (
    ("completed", True),
    ("failed", False),
    ("queued", None),
    ("running", None),
)
RETRYABLE = ("failover", "failback", "test_failover", "test_cleanup",
             "rollback")
ROLLBACKABLE = ("failover", "failback", "test_failover")


def detail_url(operation):
    return reverse("horizon:project:dr_operations:detail",
                   args=(operation.id,))


class _RecoveryAction(tables.BatchAction):
    """Retry or roll back a failed operation (one API call per row)."""

    kind = None
    types = ()

    def allowed(self, request, operation=None):
        return operation is None or (operation.status == "failed" and
                                     operation.operation_type in self.types)

    def action(self, request, obj_id):
        try:
            follow = protector.operation_action(request, obj_id, self.kind)
        except Exception as exc:
            peer.reraise_handled(request, exc)
        if follow.id != obj_id:
            messages.info(request, _("Rollback operation %s queued.")
                          % follow.id)


class RetryOperation(_RecoveryAction):
    name = "retry"
    kind = "retry"
    types = RETRYABLE
    policy_rules = (("protector", "protector:operations:retry"),)

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Retry Operation", "Retry Operations", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Queued Operation for Retry",
                             "Queued Operations for Retry", count)


class RollbackOperation(_RecoveryAction):
    name = "rollback"
    kind = "rollback"
    types = ROLLBACKABLE
    action_type = "danger"
    policy_rules = (("protector", "protector:operations:rollback"),)

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Roll Back Operation", "Roll Back Operations",
                             count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Started Rollback of Operation",
                             "Started Rollback of Operations", count)


def _progress(operation):
    return "%s%%" % operation.get("progress", 0)


class _OperationColumns(tables.DataTable):
    id = tables.Column("id", verbose_name=_("ID"), link=detail_url)
    operation_type = tables.Column("operation_type",
                                   verbose_name=_("Type"))
    status = tables.Column("status", verbose_name=_("Status"), status=True,
                           status_choices=STATUS_CHOICES)
    progress = tables.Column(_progress, verbose_name=_("Progress"))
    current_step = tables.Column("current_step",
                                 verbose_name=_("Current Step"),
                                 empty_value="")
    started = tables.Column("started_at", verbose_name=_("Started"),
                            empty_value="")
    completed = tables.Column("completed_at", verbose_name=_("Completed"),
                              empty_value="")


class OperationsTable(_OperationColumns):
    group = tables.Column(
        "protection_group_name", verbose_name=_("Protection Group"),
        link=lambda op: reverse("horizon:project:protection_groups:detail",
                                args=(op.protection_group_id,)))

    class Meta:
        name = "operations"
        verbose_name = _("DR Operations")
        status_columns = ("status",)
        columns = ("id", "group", "operation_type", "status", "progress",
                   "current_step", "started", "completed")
        row_actions = (RetryOperation, RollbackOperation)


class GroupOperationsTable(_OperationColumns):
    class Meta:
        name = "operations"
        verbose_name = _("Operation History")
        status_columns = ("status",)
        row_actions = (RetryOperation, RollbackOperation)
