"""Modal forms that also work as pages.

Horizon renders ``ajax_template_name`` when a form opens as a modal
(from a table or a button) and ``template_name`` otherwise. The plugin's
forms are one template each, the modal: as a page it would come without
Horizon's navigation and styles. ``FormPage`` gives the page the
navigation and includes the modal's template in it.
"""
PAGE_TEMPLATE = "protector_dashboard/form_page.html"


class FormPage:
    """Mixin for ``forms.ModalFormView`` subclasses: set
    ``ajax_template_name`` (the modal); the page wraps it."""

    template_name = PAGE_TEMPLATE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form_template"] = self.ajax_template_name
        return context
