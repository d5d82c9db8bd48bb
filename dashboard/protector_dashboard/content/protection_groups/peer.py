"""Peer-site sign-in: its form and views, and the messages that lead to it.

The user signs in to the peer site's Keystone here; the token is kept in
the session by :mod:`protector_dashboard.api.peer` (doc/dashboard.md
"Peer-site sign-in"). When protector-api refuses a request for want of a
good peer token, :func:`refusal_message` says so and links here.
"""
import re
from urllib import parse

from django import http
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.debug import sensitive_variables
from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon.utils import http as http_utils

from protector_dashboard.api import peer
from protector_dashboard.api import protector

SIGN_IN_URL = "horizon:project:protection_groups:peer_sign_in"
SIGN_OUT_URL = "horizon:project:protection_groups:peer_sign_out"
INDEX_URL = "horizon:project:protection_groups:index"
TEMPLATES = "protector_dashboard/protection_groups/"
TOKEN_REQUIRED = "protector.peer.token_required"
TOKEN_INVALID = "protector.peer.token_invalid"
# protector-api names the site in the detail of both refusals
# (protector/exception.py: "... a token for site X: ...", "... given for
# site X was refused ...").
_SITE_IN_DETAIL = re.compile(r"for site (\S+?)(?=[:\s]|$)")


def _safe_next(request, url):
    if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()},
            require_https=request.is_secure()):
        return url
    return None


def sign_in_url(request, site=None, next_url=None):
    """The sign-in page, for ``site``, coming back to ``next_url``."""
    query = {}
    if site:
        query["site"] = site
    next_url = _safe_next(request, next_url)
    if next_url:
        query["next"] = next_url
    url = reverse(SIGN_IN_URL)
    return url + "?" + parse.urlencode(query) if query else url


def context(request):
    """What the peer-status partial (_peer_status.html) reads."""
    state = peer.status(request)
    if state is not None:
        state["expires_text"] = state["expires"].strftime(
            "%Y-%m-%d %H:%M UTC")
    # Back to the page after signing in: a modal's own URL is no page, so
    # from a modal, the page that opened it.
    here = request.META.get("HTTP_REFERER") if http_utils.is_ajax(request) \
        else request.get_full_path()
    return {"peer_status": state,
            "peer_sign_in_url": sign_in_url(request, next_url=here)}


def refusal_message(request, exc):
    """For a refusal a peer sign-in fixes, a message (HTML, with a link to
    the sign-in page) to show instead of the API's, which speaks of the
    CLI's header and flag; None for any other error.

    A refused token (expired, revoked) is forgotten: the page then shows
    "not signed in" rather than a sign-in that does not work.
    """
    code = getattr(exc, "code", None)
    if code not in (TOKEN_REQUIRED, TOKEN_INVALID):
        return None
    found = _SITE_IN_DETAIL.search(getattr(exc, "detail", None) or "")
    site = found.group(1) if found else None
    where = site or _("the peer site")
    if code == TOKEN_REQUIRED:
        text = _("This request also reaches %(site)s, and protector-api "
                 "refused it without your sign-in to that site.") % {
                     "site": where}
    else:
        peer.sign_out(request)
        text = _("The Keystone of %(site)s refused the token of your "
                 "peer-site sign-in (expired or revoked); you are signed "
                 "out of it.") % {"site": where}
    referer = request.META.get("HTTP_REFERER")
    return format_html(
        '{} <a href="{}" class="protector-peer-sign-in">{}</a>, {} '
        '({}{})',
        text, sign_in_url(request, site, referer),
        _("Sign in to %s") % where, _("then try again."), code,
        ", request %s" % exc.request_id if getattr(exc, "request_id", None)
        else "")


def reraise_handled(request, exc):
    """In a table action's ``except``: show a peer refusal's message and
    stop Horizon from adding its own "Unable to ..." (a HandledException
    is not counted as a failure), or re-raise any other error."""
    message = refusal_message(request, exc)
    if message is None:
        raise exc
    messages.error(request, message)
    raise exceptions.HandledException((type(exc), exc, exc.__traceback__))


class PeerSignInForm(forms.SelfHandlingForm):
    site = forms.ChoiceField(
        label=_("Peer Site"),
        help_text=_("The registered sites whose Keystone is not this "
                    "dashboard's."))
    username = forms.CharField(max_length=255, label=_("User Name"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(render_value=False))
    project = forms.CharField(
        max_length=255, label=_("Project"),
        help_text=_("The project on the peer site that matches this one."))
    user_domain = forms.CharField(max_length=255, label=_("User Domain"))
    project_domain = forms.CharField(max_length=255,
                                     label=_("Project Domain"))

    no_autocomplete = True

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        try:
            sites = protector.site_list(request)
        except Exception:
            sites = []
            exceptions.handle(request, _("Unable to retrieve the sites."))
        # A site on the dashboard's own Keystone takes the user's token as
        # it is; protector-api wants no sign-in for it.
        self.sites = {s.name: s for s in sites
                      if not peer.is_local(request, s)}
        self.local_sites = [s.name for s in sites
                            if peer.is_local(request, s)]
        self.fields["site"].choices = [(name, name) for name in self.sites]
        if self.initial.get("site") not in self.sites and self.sites:
            self.initial["site"] = next(iter(self.sites))

    @sensitive_variables("data")
    def handle(self, request, data):
        try:
            state = peer.sign_in(
                request, self.sites[data["site"]], data["username"],
                data["password"], data["project"], data["user_domain"],
                data["project_domain"])
        except peer.SignInError as exc:
            self.api_error(str(exc))
            return False
        messages.success(request, _(
            "Signed in to site %(site)s as %(user)s (project %(project)s) "
            "until %(expires)s.") % {
                "site": state["site"], "user": state["username"],
                "project": state["project"],
                "expires": state["expires"].strftime("%Y-%m-%d %H:%M UTC")})
        return True


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class PeerSignInView(forms.ModalFormView):
    form_class = PeerSignInForm
    # A full page when opened from a link, the modal from the table.
    template_name = TEMPLATES + "peer_sign_in.html"
    ajax_template_name = TEMPLATES + "_peer_sign_in.html"
    modal_id = "peer_sign_in_modal"
    form_id = "peer_sign_in_form"
    page_title = _("Sign In to the Peer Site")
    submit_label = _("Sign In")

    def _next(self):
        return _safe_next(self.request, self.request.GET.get("next"))

    def get_success_url(self):
        return self._next() or reverse(INDEX_URL)

    def get_cancel_url(self):
        return self.get_success_url()

    def get_initial(self):
        user = self.request.user
        state = peer.status(self.request)
        return {
            "site": self.request.GET.get("site") or
            (state["site"] if state else None),
            "username": user.username,
            "project": getattr(user, "project_name", None) or "",
            "user_domain": getattr(user, "user_domain_name", None) or
            "Default",
            "project_domain": getattr(user, "project_domain_name", None) or
            "Default",
        }

    def get_context_data(self, **kwargs):
        data = super().get_context_data(**kwargs)
        data["submit_url"] = sign_in_url(self.request, None, self._next())
        data.update(context(self.request))
        return data


class PeerSignOutView(generic.View):
    """Forget the peer sign-in (POST only: it changes the session)."""

    def post(self, request):
        site = peer.sign_out(request)
        if site:
            messages.success(request, _("Signed out of site %s: its token "
                                        "is forgotten.") % site)
        return http.HttpResponseRedirect(
            _safe_next(request, request.POST.get("next")) or
            reverse(INDEX_URL))
