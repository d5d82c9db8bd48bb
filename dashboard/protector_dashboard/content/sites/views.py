"""Views of the sites panel."""
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import tables

from protector_dashboard.api import protector
from protector_dashboard.content import pages
from protector_dashboard.content.sites import forms as site_forms
from protector_dashboard.content.sites import tables as site_tables


class IndexView(tables.DataTableView):
    table_class = site_tables.SitesTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Sites")

    def get_data(self):
        try:
            return protector.site_list(self.request)
        except Exception:
            exceptions.handle(self.request, _("Unable to retrieve sites."))
            return []


class RegisterView(pages.FormPage, forms.ModalFormView):
    form_class = site_forms.RegisterSiteForm
    # The modal (from a table, AJAX); as a page it is wrapped in Horizon's
    # (content/pages.py).
    ajax_template_name = "horizon/common/_modal_form.html"
    modal_id = "register_site_modal"
    page_title = _("Register Site")
    submit_label = _("Register")
    submit_url = reverse_lazy("horizon:admin:dr_sites:register")
    success_url = reverse_lazy("horizon:admin:dr_sites:index")
