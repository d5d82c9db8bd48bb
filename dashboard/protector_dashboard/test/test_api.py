"""The API module: the client it builds and what it asks protector-api."""
import datetime
from unittest import mock

from django.test import override_settings
from keystoneauth1.identity import v3
from keystoneauth1 import token_endpoint

from protector_dashboard.api import peer
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protectorclient import exceptions


# The peer sign-in refuses cookie sessions (Horizon's test default).
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache")
class ClientTests(helpers.TestCase):

    def test_client_uses_the_users_token_and_catalog_endpoint(self):
        client = protector.protectorclient(self.request)
        self.assertEqual(
            "http://protector.example.com:8788/v1/%s" % self.tenant.id,
            client.endpoint)
        auth = client.session.auth
        self.assertIsInstance(auth, token_endpoint.Token)
        self.assertEqual(self.token.id, auth.token)
        # One client per request.
        self.assertIs(client, protector.protectorclient(self.request))

    def test_changes_go_without_a_peer_token_until_signed_in(self):
        # Not signed in: no header, and the client does not refuse on its
        # own (the API decides).
        client = protector.protectorclient(self.request)
        self.assertIsInstance(client.peer, peer.SessionPeer)
        self.assertIsNone(client.peer_token("required"))
        self.assertIsNone(client.peer.name)

    def _sign_in(self, expires_in):
        expires = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(seconds=expires_in)
        got = mock.Mock(auth_token="peer-token", username="demo",
                        project_name="demo", project_id="p2",
                        expires=expires)
        with mock.patch.object(v3.Password, "get_access",
                               return_value=got):
            peer.sign_in(self.request, self.protector_sites.list()[1],
                         "demo", "secret", "demo")

    def test_signed_in_peer_token_goes_with_changes(self):
        self._sign_in(3600)
        client = protector.protectorclient(self.request)
        self.assertEqual("site-b", client.peer.name)
        self.assertEqual("peer-token", client.peer_token("required"))
        self.assertEqual("peer-token", client.peer_token("optional"))
        self.assertIsNone(client.peer_token(None))
        self.assertNotIn("secret", str(dict(self.request.session)))

    def test_token_near_or_past_expiry_is_not_sent(self):
        self._sign_in(3600)
        client = protector.protectorclient(self.request)
        self.assertEqual("peer-token", client.peer_token("required"))
        now = datetime.datetime.now(datetime.timezone.utc)
        for later in (3600 - peer.DEFAULT_MARGIN + 5, 3700):
            # The same (memoized) client: the peer reads the session on
            # each request.
            with mock.patch.object(peer, "_now", return_value=now +
                                   datetime.timedelta(seconds=later)):
                self.assertIsNone(client.peer_token("required"), later)
                self.assertIsNone(peer.status(self.request), later)

    def test_policy_tokens_are_masked_whatever_the_api_sends(self):
        client = mock.Mock()
        client.policy_show.return_value = {
            "primary_fa_api_token": "secret-1",
            "secondary_fa_api_token": "secret-2", "pure_pg_name": "pg"}
        with mock.patch.object(protector, "protectorclient",
                               return_value=client):
            policy = protector.policy_get(self.request, "g")
        self.assertEqual(protector.MASK, policy.primary_fa_api_token)
        self.assertEqual(protector.MASK, policy.secondary_fa_api_token)

    def test_no_policy_is_none(self):
        client = mock.Mock()
        client.policy_show.side_effect = exceptions.APIError(
            404, code="protector.policy.not_found")
        with mock.patch.object(protector, "protectorclient",
                               return_value=client):
            self.assertIsNone(protector.policy_get(self.request, "g"))

    def test_create_leaves_out_empty_fields(self):
        client = mock.Mock()
        client.pg_create.return_value = {"id": "x", "name": "n"}
        with mock.patch.object(protector, "protectorclient",
                               return_value=client):
            protector.pg_create(self.request, name="n", description="",
                                secondary_volume_type=None)
        client.pg_create.assert_called_once_with({"name": "n"})
