"""Register a site (doc/api-ref.md "Sites": POST /sites)."""
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import messages

from protector_dashboard.api import protector


class RegisterSiteForm(forms.SelfHandlingForm):
    name = forms.CharField(max_length=255, label=_("Name"))
    site_type = forms.ChoiceField(
        label=_("Type"),
        choices=(("primary", _("Primary")), ("secondary", _("Secondary"))))
    # A URL typed without a scheme is taken as https (Django 6's default,
    # chosen now so the form does not change meaning on upgrade).
    auth_url = forms.URLField(label=_("Keystone URL"), assume_scheme="https")
    region_name = forms.CharField(max_length=255, required=False,
                                  label=_("Region"))
    protector_url = forms.URLField(
        required=False, label=_("protector-api URL"), assume_scheme="https",
        help_text=_("Only when the site's catalog has no 'protector' "
                    "endpoint."))
    description = forms.CharField(max_length=255, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  label=_("Description"))

    def handle(self, request, data):
        try:
            site = protector.site_create(request, **data)
        except Exception as exc:
            exceptions.handle(request, "%s %s" % (
                _("Unable to register the site:"), exc))
            return False
        messages.success(request, _("Registered site %s.") % site.name)
        return site
