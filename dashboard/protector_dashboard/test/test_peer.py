"""The peer-site sign-in: what the session keeps, and what the pages say.

The sessions here are the cache backend's (server-side, as
doc/dashboard.md asks of a deployment), so the tests can look at what the
server keeps and at what the browser gets: the session id only. The peer
site's Keystone is keystoneauth's ``Password.get_access``, mocked.
"""
import datetime
import json
from unittest import mock

from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends import cache as cache_sessions
from django.test import override_settings
from django.urls import reverse
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import clouds
from protector_dashboard.api import peer
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids
from protectorclient import exceptions

SIGN_IN_URL = reverse("horizon:project:protection_groups:peer_sign_in")
SIGN_OUT_URL = reverse("horizon:project:protection_groups:peer_sign_out")
INDEX_URL = reverse("horizon:project:protection_groups:index")
PASSWORD = "pa55-w0rd-never-kept"
PEER_TOKEN = "gAAAAA-peer-site-token"
PEER_ENDPOINT = "http://site-b.example:8788/v1/%(tenant_id)s"
FORM = {"site": "site-b", "username": "demo", "password": PASSWORD,
        "project": "demo", "user_domain": "Default",
        "project_domain": "Default"}


def access(expires_in=3600, token=PEER_TOKEN):
    """What keystoneauth's get_access returns for a project-scoped token."""
    result = mock.Mock(
        auth_token=token, username="demo", project_name="demo",
        project_id="peer-project-id",
        expires=datetime.datetime.now(datetime.timezone.utc) +
        datetime.timedelta(seconds=expires_in))
    # The peer site's catalog: where its protector-api is.
    result.service_catalog.url_for.return_value = PEER_ENDPOINT
    return result


# The sessions get a cache of their own: the default one is culled while
# a full page renders (LocMemCache's MAX_ENTRIES), which would drop them.
@override_settings(
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    SESSION_CACHE_ALIAS="sessions",
    CACHES={"default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "protector-dashboard-test-sessions"}})
class PeerSignInTests(helpers.TestCase):

    def _messages(self):
        request = mock.Mock(COOKIES=self.client.cookies)
        storage = default_storage(request)
        cookie = self.client.cookies.get("messages")
        return [str(m) for m in storage._decode(cookie.value)] \
            if cookie else []

    def _stored(self):
        """The session as the server keeps it (None if there is none)."""
        key = self.client.cookies.get("sessionid")
        if key is None:
            return None
        return cache_sessions.SessionStore(key.value).load()

    def _sign_in(self, get_access=None, **form):
        with mock.patch.object(protector, "site_list",
                               return_value=self.protector_sites.list()), \
                mock.patch.object(v3.Password, "get_access",
                                  autospec=True) as get:
            get.side_effect = get_access or (lambda auth, session: access())
            res = self.client.post(SIGN_IN_URL, dict(FORM, **form))
        return res, get

    def test_form_defaults(self):
        with mock.patch.object(protector, "site_list",
                               return_value=self.protector_sites.list()):
            res = self.client.get(SIGN_IN_URL)
        self.assertTemplateUsed(
            res, "protector_dashboard/protection_groups/peer_sign_in.html")
        form = res.context["form"]
        self.assertEqual(["site-a", "site-b"],
                         [c[0] for c in form.fields["site"].choices])
        self.assertEqual(self.user.name, form.initial["username"])
        self.assertEqual("Default", form.initial["project_domain"])
        content = res.content.decode()
        self.assertIn("Peer site: not signed in.", content)
        for field in ("id_site", "id_username", "id_password", "id_project",
                      "id_user_domain", "id_project_domain"):
            self.assertIn('id="%s"' % field, content)

    def test_table_opens_the_form_as_a_modal(self):
        with mock.patch.object(protector, "site_list",
                               return_value=self.protector_sites.list()):
            res = self.client.get(SIGN_IN_URL,
                                  HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        self.assertTemplateUsed(
            res, "protector_dashboard/protection_groups/_peer_sign_in.html")
        self.assertTemplateNotUsed(
            res, "protector_dashboard/protection_groups/peer_sign_in.html")
        with mock.patch.object(protector, "pg_list", return_value=[]):
            res = self.client.get(INDEX_URL)
        self.assertContains(res, 'href="%s"' % SIGN_IN_URL)

    def test_site_on_the_dashboards_keystone_is_not_offered(self):
        with override_settings(
                OPENSTACK_KEYSTONE_URL="http://site-a.example.com:5000/v3/"), \
                mock.patch.object(protector, "site_list",
                                  return_value=self.protector_sites.list()):
            res = self.client.get(SIGN_IN_URL)
        form = res.context["form"]
        self.assertEqual([("site-b", "site-b")], form.fields["site"].choices)
        self.assertEqual("site-b", form.initial["site"])
        self.assertIn("need no sign-in: site-a.", res.content.decode())

    def test_sign_in_keeps_the_token_server_side_and_never_the_password(self):
        res, get_access = self._sign_in()
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        auth = get_access.call_args[0][0]
        self.assertEqual("http://site-b.example.com:5000/v3", auth.auth_url)
        self.assertEqual(("demo", "Default", "demo", "Default"),
                         (auth.auth_methods[0].username,
                          auth.auth_methods[0].user_domain_name,
                          auth.project_name, auth.project_domain_name))
        record = self._stored()[peer.SESSION_KEY]
        self.assertEqual(("site-b", PEER_TOKEN, "demo", "demo"),
                         (record["site"], record["token"],
                          record["username"], record["project"]))
        # What the DR action forms list that site's clouds with (a Keystone
        # URL, project and region: api/clouds.py); still no password.
        self.assertEqual(("http://site-b.example.com:5000/v3",
                          "peer-project-id", "RegionOne"),
                         (record["auth_url"], record["project_id"],
                          record["region_name"]))
        self.assertNotIn(PASSWORD, json.dumps(self._stored(), default=str))
        # The browser holds the session id, nothing of the token.
        for cookie in self.client.cookies.values():
            self.assertNotIn(PEER_TOKEN, cookie.value)
            self.assertNotIn(PASSWORD, cookie.value)
        self.assertEqual(self.client.session.session_key,
                         self.client.cookies["sessionid"].value)
        self.assertIn("Signed in to site site-b as demo", self._messages()[0])

    def test_wrong_password_is_a_form_error_and_nothing_is_kept(self):
        def refuse(auth, session):
            raise ks_exc.Unauthorized("The request you have made requires "
                                      "authentication.", http_status=401)
        res, _get = self._sign_in(get_access=refuse)
        self.assertFormErrors(res, 1)
        content = res.content.decode()
        self.assertIn("did not accept these credentials (401)", content)
        self.assertNotIn(PASSWORD, content)
        self.assertNotIn(peer.SESSION_KEY, self._stored() or {})

    def test_cookie_sessions_are_refused(self):
        with override_settings(
                SESSION_ENGINE="django.contrib.sessions.backends."
                               "signed_cookies"):
            res, get_access = self._sign_in()
        self.assertFormErrors(res, 1)
        self.assertIn("sessions in the browser", res.content.decode())
        get_access.assert_not_called()

    def test_unreachable_keystone_is_a_form_error(self):
        def down(auth, session):
            raise ks_exc.ConnectFailure("connection refused")
        res, _get = self._sign_in(get_access=down)
        self.assertFormErrors(res, 1)
        self.assertIn("cannot be reached", res.content.decode())

    @os_helpers.create_mocks({protector: ("pg_list",)})
    def test_index_shows_the_state_and_the_sign_out(self):
        self.mock_pg_list.return_value = self.protection_groups.list()
        res = self.client.get(INDEX_URL)
        self.assertContains(res, "Peer site: not signed in.")
        self.assertContains(res, 'id="protector-peer-sign-in"')

        self._sign_in()
        res = self.client.get(INDEX_URL)
        content = res.content.decode()
        self.assertIn("signed in as <strong>demo</strong>", content)
        self.assertIn('id="protector-peer-sign-out"', content)
        self.assertNotIn(PEER_TOKEN, content)

    def test_token_near_its_expiry_counts_as_absent(self):
        self._sign_in()
        later = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(seconds=3600 - peer.DEFAULT_MARGIN + 5)
        with mock.patch.object(protector, "pg_list", return_value=[]), \
                mock.patch.object(peer, "_now", return_value=later):
            res = self.client.get(INDEX_URL)
        self.assertContains(res, "Peer site: not signed in.")

    def test_token_too_short_lived_is_refused(self):
        res, _get = self._sign_in(
            get_access=lambda auth, session: access(expires_in=60))
        self.assertFormErrors(res, 1)
        self.assertIn("expires in less than", res.content.decode())
        self.assertNotIn(peer.SESSION_KEY, self._stored() or {})

    def test_sign_out_forgets_the_token(self):
        self._sign_in()
        res = self.client.post(SIGN_OUT_URL)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.assertNotIn(peer.SESSION_KEY, self._stored())
        self.assertIn("Signed out of site site-b", self._messages()[-1])

    def test_sign_out_is_post_only(self):
        self._sign_in()
        self.assertEqual(405, self.client.get(SIGN_OUT_URL).status_code)
        self.assertIn(peer.SESSION_KEY, self._stored())

    def test_horizon_logout_forgets_the_token(self):
        self._sign_in()
        key = self.client.cookies["sessionid"].value
        self.assertIn(peer.SESSION_KEY, self._stored())
        res = self.client.post(reverse("logout"))
        self.assertEqual(302, res.status_code)
        # The session the token was in is gone from the backend.
        self.assertFalse(cache_sessions.SessionStore().exists(key))
        self.assertNotIn(peer.SESSION_KEY, self.client.session)

    @os_helpers.create_mocks({protector: ("pg_list", "pg_delete")})
    def test_token_required_refusal_links_to_the_sign_in(self):
        group = protector.Resource(dict(
            self.protection_groups.first().to_dict(), member_count=0))
        self.mock_pg_list.return_value = [group]
        self.mock_pg_delete.side_effect = exceptions.APIError(
            400, code="protector.peer.token_required",
            detail="This request needs a token for site site-b: send it in "
                   "the X-Protector-Peer-Token header (the CLI does this "
                   "with --secondary-cloud or OS_SECONDARY_CLOUD).",
            request_id="req-1")
        res = self.client.post(INDEX_URL, {
            "action": "protection_groups__delete__%s" % group.id})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        messages = self._messages()
        # One message, the peer one: not Horizon's "Unable to delete" too.
        self.assertEqual(1, len(messages), messages)
        self.assertIn("without your sign-in to that site", messages[0])
        self.assertIn('href="%s?site=site-b' % SIGN_IN_URL, messages[0])
        self.assertIn("protector.peer.token_required, request req-1",
                      messages[0])
        self.assertNotIn("--secondary-cloud", messages[0])

    @os_helpers.create_mocks({protector: ("pg_get", "pg_action")})
    def test_refused_peer_token_is_forgotten_and_said(self):
        self._sign_in()
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_pg_action.side_effect = exceptions.APIError(
            400, code="protector.peer.token_invalid",
            detail="The token given for site site-b was refused by its "
                   "Keystone (401). Get a fresh token for that site.")
        url = reverse("horizon:project:protection_groups:dr_action",
                      args=(ids.GROUP, "test_cleanup"))
        res = self.client.post(url, {"confirmed": "on"})
        self.assertEqual(200, res.status_code)
        self.assertNotIn(peer.SESSION_KEY, self._stored())
        message = [str(m) for m in res.context["messages"]][-1]
        self.assertIn("refused the token of your peer-site sign-in",
                      message)
        self.assertIn("Sign in to site-b</a>", message)

    @os_helpers.create_mocks({protector: ("pg_get",),
                              clouds: ("mapping_choices",)})
    def test_dr_action_form_shows_the_state(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_mapping_choices.side_effect = clouds.Unavailable("-")
        self._sign_in()
        url = reverse("horizon:project:protection_groups:dr_action",
                      args=(ids.GROUP, "failover"))
        res = self.client.get(url, HTTP_X_REQUESTED_WITH="XMLHttpRequest",
                              HTTP_REFERER="http://testserver" + INDEX_URL)
        self.assertContains(res, "Peer site <strong>site-b</strong>: "
                                 "signed in as <strong>demo</strong>")
        # No sign-out form inside the action's form (forms do not nest);
        # the link comes back to the page that opened the modal.
        self.assertNotContains(res, 'id="protector-peer-sign-out"')
        self.assertContains(res, "%s?next=http%%3A%%2F%%2Ftestserver%s" % (
            SIGN_IN_URL, INDEX_URL.replace("/", "%2F")))

    def test_sign_in_belongs_to_the_project_it_was_made_in(self):
        self._sign_in()
        other = self.tenants.list()[1]
        self.setActiveUser(
            id=self.user.id, token=self.token, username=self.user.name,
            tenant_id=other.id, service_catalog=self.service_catalog,
            authorized_tenants=self.tenants.list(),
            domain_id=self.domain.id)
        with mock.patch.object(protector, "pg_list", return_value=[]):
            res = self.client.get(INDEX_URL)
        self.assertContains(res, "Peer site: not signed in.")
