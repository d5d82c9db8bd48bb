"""DR actions go to the protector-api of the site they run on, and
operations are found on either site (api/protector.py)."""
import datetime
from unittest import mock

from django.test import override_settings
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3

from protector_dashboard.api import peer
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as data
from protectorclient import client as protector_client
from protectorclient import exceptions

PEER_ENDPOINT = "http://site-b.example.com:8788/v1/%(tenant_id)s"


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache")
class RoutingTests(helpers.TestCase):

    def setUp(self):
        super().setUp()
        sites = {s.id: s._apidict for s in self.protector_sites.list()}
        patches = [
            # site-a is the dashboard's own site.
            mock.patch.object(peer, "is_local",
                              lambda request, site: site.name == "site-a"),
            mock.patch.object(protector_client.Client, "site_show",
                              autospec=True,
                              side_effect=lambda client, s: sites[s]),
        ]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)

    def _sign_in(self):
        got = mock.Mock(auth_token="peer-token", username="demo",
                        project_name="demo", project_id="p2",
                        expires=datetime.datetime.now(datetime.timezone.utc)
                        + datetime.timedelta(hours=1))
        got.service_catalog.url_for.return_value = PEER_ENDPOINT
        with mock.patch.object(v3.Password, "get_access", return_value=got):
            peer.sign_in(self.request, self.protector_sites.list()[1],
                         "demo", "secret", "demo")

    def _group(self, group):
        return mock.patch.object(protector_client.Client, "pg_show",
                                 return_value=group._apidict)

    def test_action_whose_target_is_this_site_stays_here(self):
        failed_over = self.protection_groups.get(id=data.GROUP_FAILED_OVER)
        with self._group(failed_over):
            client = protector.action_client(self.request, failed_over.id,
                                             "failback")
        self.assertIs(client, protector.protectorclient(self.request))

    def test_action_on_the_peer_site_needs_its_sign_in(self):
        group = self.protection_groups.get(id=data.GROUP)
        with self._group(group), \
                self.assertRaises(exceptions.APIError) as caught:
            protector.action_client(self.request, group.id, "test_failover")
        self.assertEqual("protector.peer.token_required",
                         caught.exception.code)
        # The refusal names the site (the sign-in link is made from it).
        self.assertIn("for site site-b", caught.exception.detail)

    def test_action_on_the_peer_site_goes_to_its_protector_api(self):
        self._sign_in()
        group = self.protection_groups.get(id=data.GROUP)
        with self._group(group):
            client = protector.action_client(self.request, group.id,
                                             "failover")
        # The peer site's endpoint for the project signed in to, its token
        # as the user's, and this site's token as the peer token.
        self.assertEqual("http://site-b.example.com:8788/v1/p2",
                         client.endpoint)
        self.assertEqual("peer-token", client.session.auth.token)
        self.assertEqual(self.token.id, client.peer_token("required"))
        self.assertNotIn("secret", str(dict(self.request.session)))

    def test_operation_unknown_here_is_read_from_the_peer_site(self):
        self._sign_in()

        def show(client, op_id):
            if "site-b" not in client.endpoint:
                raise exceptions.APIError(
                    404, code="protector.operation.not_found")
            return {"id": op_id, "status": "running"}
        with mock.patch.object(protector_client.Client, "operation_show",
                               autospec=True, side_effect=show):
            op = protector.operation_get(self.request, "op-1")
        self.assertEqual("running", op.status)

    def test_operation_list_merges_both_sites_and_survives_the_peer_down(self):
        self._sign_in()
        here = {"id": "op-1", "created_at": "2026-12-01T10:00:00Z"}
        there = {"id": "op-2", "created_at": "2026-12-02T10:00:00Z"}

        def listing(client, **filters):
            return [there, here] if "site-b" in client.endpoint else [here]
        with mock.patch.object(protector_client.Client, "operation_list",
                               autospec=True, side_effect=listing):
            ops = protector.operation_list(self.request)
        self.assertEqual(["op-2", "op-1"], [op.id for op in ops])

        def down(client, **filters):
            if "site-b" in client.endpoint:
                raise ks_exc.ConnectFailure("site-b is down")
            return [here]
        with mock.patch.object(protector_client.Client, "operation_list",
                               autospec=True, side_effect=down):
            ops = protector.operation_list(self.request)
        self.assertEqual(["op-1"], [op.id for op in ops])
