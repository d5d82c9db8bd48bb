"""site create / site delete on both sites under one ID
(protectorclient.registration, the site commands, the REST layer)."""
from unittest import mock

from keystoneauth1 import session as ks_session
from keystoneauth1.token_endpoint import Token
import requests_mock
import testtools

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient.osc.v1 import site as site_cmd
from protectorclient import registration
from protectorclient.tests.unit import fakes

BODY = {"name": "site-b", "site_type": "secondary",
        "auth_url": "http://site-b-controller:5000/v3"}
CREATE = ["--name", "site-b", "--site-type", "secondary",
          "--auth-url", "http://site-b-controller:5000/v3"]


def _api_error(status, code, detail="refused"):
    return exceptions.APIError(status, code=code, detail=detail)


def _not_found():
    return _api_error(404, "protector.site.not_found", "no such site")


def _client(endpoint, label):
    client = mock.Mock(spec=protector_client.Client)
    client.endpoint = endpoint
    client.site_label = label
    client.api_version = "1.2"
    client.peer = None
    return client


class TestCreate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.here = _client("http://a:8788/v1/p", "the primary site")
        self.there = _client("http://b:8788/v1/p",
                             "the secondary site (cloud 'site-b')")
        self.here.site_create.return_value = fakes.copy_of(fakes.SITE_B)

    def test_without_a_secondary_cloud_this_site_only(self):
        self.assertEqual(fakes.SITE_B["id"],
                         registration.create(self.here, BODY)["id"])
        self.here.site_create.assert_called_once_with(BODY)

    def test_the_secondary_site_gets_the_same_id(self):
        registration.create(self.here, BODY, self.there)
        self.there.site_create.assert_called_once_with(
            dict(BODY, id=fakes.SITE_B["id"]))
        self.here.site_delete.assert_not_called()

    def test_a_refusal_there_removes_the_site_here(self):
        self.there.site_create.side_effect = _api_error(
            409, "protector.site.id_mismatch", "registered under another ID")
        err = self.assertRaises(registration.TwoSiteError,
                                registration.create, self.here, BODY,
                                self.there)
        self.here.site_delete.assert_called_once_with(fakes.SITE_B["id"])
        self.assertEqual(1, err.exit_code)
        self.assertIn("cloud 'site-b') refused it", str(err))
        self.assertIn("protector.site.id_mismatch", str(err))
        self.assertIn("removed again", str(err))

    def test_an_unreachable_api_there_exits_3(self):
        self.there.site_create.side_effect = exceptions.APIUnreachable(
            "connection refused")
        err = self.assertRaises(registration.TwoSiteError,
                                registration.create, self.here, BODY,
                                self.there)
        self.assertEqual(3, err.exit_code)
        self.here.site_delete.assert_called_once_with(fakes.SITE_B["id"])

    def test_a_failed_removal_says_what_to_delete(self):
        self.there.site_create.side_effect = _api_error(
            403, "protector.policy.forbidden")
        self.here.site_delete.side_effect = exceptions.APIUnreachable("gone")
        err = self.assertRaises(registration.TwoSiteError,
                                registration.create, self.here, BODY,
                                self.there)
        self.assertIn("could not be removed either", str(err))
        self.assertIn(fakes.SITE_B["id"], str(err))
        self.assertIn("'openstack dr site delete site-b' without "
                      "--secondary-cloud", str(err))

    def test_refused_here_nothing_is_sent_there(self):
        self.here.site_create.side_effect = _api_error(
            409, "protector.site.duplicate_name")
        self.assertRaises(exceptions.APIError, registration.create,
                          self.here, BODY, self.there)
        self.there.site_create.assert_not_called()


class TestPeerClient(testtools.TestCase):

    def test_none_without_a_secondary_cloud(self):
        self.assertIsNone(registration.peer_client(
            _client("http://a/v1/p", "a")))

    def test_the_secondary_sites_client(self):
        here = _client("http://a/v1/p", "a")
        there = _client("http://b/v1/p", "b")
        here.peer = mock.Mock()
        here.peer.client.return_value = there
        self.assertIs(there, registration.peer_client(here))
        here.peer.client.assert_called_once_with("1.2")

    def test_none_when_the_secondary_cloud_is_this_site(self):
        # OS_SECONDARY_CLOUD=site-b still exported while working on site-b.
        here = _client("http://b/v1/p", "a")
        here.peer = mock.Mock()
        here.peer.client.return_value = _client("http://b/v1/p", "b")
        self.assertIsNone(registration.peer_client(here))


class TestDelete(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.here = _client("http://a:8788/v1/p", "the primary site")
        self.there = _client("http://b:8788/v1/p",
                             "the secondary site (cloud 'site-b')")
        self.here.site_show.return_value = fakes.copy_of(fakes.SITE_B)
        self.there.site_show.return_value = fakes.copy_of(fakes.SITE_B)

    def test_without_a_secondary_cloud_this_site_only(self):
        registration.delete(self.here, "site-b")
        self.here.site_delete.assert_called_once_with("site-b")
        self.here.site_show.assert_not_called()

    def test_both_sites(self):
        registration.delete(self.here, "site-b", self.there)
        self.here.site_delete.assert_called_once_with(fakes.SITE_B["id"])
        self.there.site_show.assert_called_once_with(fakes.SITE_B["id"])
        self.there.site_delete.assert_called_once_with(fakes.SITE_B["id"])

    def test_registered_apart_found_there_by_name(self):
        theirs = dict(fakes.SITE_B, id="77777777-0000-0000-0000-000000000007")
        self.there.site_show.side_effect = [_not_found(), theirs]
        registration.delete(self.here, fakes.SITE_B["id"], self.there)
        self.assertEqual([mock.call(fakes.SITE_B["id"]),
                          mock.call("site-b")],
                         self.there.site_show.call_args_list)
        self.there.site_delete.assert_called_once_with(theirs["id"])

    def test_refused_here_nothing_changes_there(self):
        self.here.site_delete.side_effect = _api_error(
            409, "protector.site.in_use")
        self.assertRaises(exceptions.APIError, registration.delete,
                          self.here, "site-b", self.there)
        self.there.site_delete.assert_not_called()

    def test_refused_there_says_how_to_finish(self):
        self.there.site_delete.side_effect = _api_error(
            409, "protector.site.in_use")
        err = self.assertRaises(registration.TwoSiteError,
                                registration.delete, self.here, "site-b",
                                self.there)
        self.assertIn("deleted on the primary site but not on the "
                      "secondary site", str(err))
        self.assertIn("--secondary-cloud again", str(err))

    def test_gone_here_finishes_there(self):
        self.here.site_show.side_effect = _not_found()
        registration.delete(self.here, "site-b", self.there)
        self.here.site_delete.assert_not_called()
        self.there.site_delete.assert_called_once_with(fakes.SITE_B["id"])

    def test_gone_there_deletes_here(self):
        self.there.site_show.side_effect = _not_found()
        registration.delete(self.here, "site-b", self.there)
        self.here.site_delete.assert_called_once_with(fakes.SITE_B["id"])
        self.there.site_delete.assert_not_called()

    def test_gone_from_both_is_this_sites_404(self):
        self.here.site_show.side_effect = _not_found()
        self.there.site_show.side_effect = _not_found()
        self.here.site_delete.side_effect = _not_found()
        err = self.assertRaises(exceptions.APIError, registration.delete,
                                self.here, "nope", self.there)
        self.assertTrue(err.not_found)
        self.here.site_delete.assert_called_once_with("nope")


class TestCommands(fakes.TestProtectorCommand):

    def setUp(self):
        super().setUp()
        self.client.endpoint = "http://a:8788/v1/p"
        self.client.site_label = "the primary site"
        self.there = _client("http://b:8788/v1/p",
                             "the secondary site (cloud 'site-b')")
        self.client.peer = mock.Mock()
        self.client.peer.client.return_value = self.there

    def test_create_registers_on_both(self):
        self.client.site_create.return_value = fakes.copy_of(fakes.SITE_B)
        self.assertEqual(0, self.run_command(site_cmd.CreateSite, CREATE))
        self.there.site_create.assert_called_once_with(
            dict(BODY, id=fakes.SITE_B["id"]))

    def test_create_refused_there_exits_1_and_removes_it_here(self):
        self.client.site_create.return_value = fakes.copy_of(fakes.SITE_B)
        self.there.site_create.side_effect = _api_error(
            409, "protector.site.id_mismatch")
        self.assertEqual(1, self.run_command(site_cmd.CreateSite, CREATE))
        self.client.site_delete.assert_called_once_with(fakes.SITE_B["id"])
        self.assertIn("protector.site.id_mismatch",
                      self.fake_stderr.getvalue())

    def test_delete_on_both(self):
        for client in (self.client, self.there):
            client.site_show.return_value = fakes.copy_of(fakes.SITE_B)
        self.assertEqual(0, self.run_command(site_cmd.DeleteSite,
                                             ["site-b"]))
        self.client.site_delete.assert_called_once_with(fakes.SITE_B["id"])
        self.there.site_delete.assert_called_once_with(fakes.SITE_B["id"])

    def test_an_unreachable_secondary_keystone_exits_3_first(self):
        self.client.peer.client.side_effect = exceptions.PeerUnreachable(
            "down")
        self.assertEqual(3, self.run_command(site_cmd.CreateSite, CREATE))
        self.client.site_create.assert_not_called()


class TestRestLayer(testtools.TestCase):

    BASE = "http://protector.example:8788/v1/proj"

    def setUp(self):
        super().setUp()
        session = ks_session.Session(auth=Token(self.BASE, "tok"))
        peer = mock.Mock()
        peer.token.return_value = "peer-token"
        self.client = protector_client.Client(session, self.BASE,
                                              api_version="1.2", peer=peer)
        self.m = requests_mock.Mocker()
        self.m.start()
        self.addCleanup(self.m.stop)
        self.m.post(self.BASE + "/sites", json={"site": {"id": "s"}},
                    status_code=201)

    def test_a_given_id_is_sent_at_1_3(self):
        self.client.site_create(dict(BODY, id="s"))
        self.assertEqual("protector 1.3", self.m.last_request.headers[
            "OpenStack-API-Version"])
        self.assertEqual("s", self.m.last_request.json()["site"]["id"])

    def test_without_an_id_the_chosen_version(self):
        self.client.site_create(BODY)
        self.assertEqual("protector 1.2", self.m.last_request.headers[
            "OpenStack-API-Version"])

    def test_a_later_chosen_version_is_kept(self):
        self.client.api_version = "1.10"
        self.client.site_create(dict(BODY, id="s"))
        self.assertEqual("protector 1.10", self.m.last_request.headers[
            "OpenStack-API-Version"])

    def test_no_peer_token_goes_to_this_site(self):
        # The secondary site's token goes to the secondary site only.
        self.client.site_create(BODY)
        self.assertNotIn("X-Protector-Peer-Token", self.m.last_request.headers)
        self.m.delete(self.BASE + "/sites/s", status_code=204)
        self.client.site_delete("s")
        self.assertNotIn("X-Protector-Peer-Token", self.m.last_request.headers)
