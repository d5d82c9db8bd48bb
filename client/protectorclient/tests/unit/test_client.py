"""The REST layer: URLs, headers, peer token, error parsing."""
from keystoneauth1 import session as ks_session
from keystoneauth1.token_endpoint import Token
import requests_mock
import testtools

from protectorclient import client as protector_client
from protectorclient import exceptions

BASE = "http://protector.example:8788/v1/proj"


class FakePeer:
    name = "site-b"

    def __init__(self, token="peer-token", error=None):
        self._token = token
        self.error = error
        self.calls = 0

    def token(self):
        self.calls += 1
        if self.error:
            raise self.error
        return self._token


class TestClient(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.session = ks_session.Session(auth=Token(BASE, "tok"))
        self.peer = FakePeer()
        self.client = protector_client.Client(self.session, BASE + "/",
                                              api_version="1.2",
                                              peer=self.peer)

    def _mocker(self):
        m = requests_mock.Mocker()
        m.start()
        self.addCleanup(m.stop)
        return m

    def test_get_sends_token_and_microversion(self):
        m = self._mocker()
        m.get(BASE + "/sites", json={"sites": [{"id": "1"}]})
        self.assertEqual([{"id": "1"}], self.client.site_list())
        req = m.request_history[0]
        self.assertEqual("tok", req.headers["X-Auth-Token"])
        self.assertEqual("protector 1.2",
                         req.headers["OpenStack-API-Version"])
        self.assertNotIn("X-Protector-Peer-Token", req.headers)
        self.assertEqual(0, self.peer.calls)

    def test_filters_drop_none(self):
        m = self._mocker()
        m.get(BASE + "/sites", json={"sites": []})
        self.client.site_list(name=None, site_type="primary")
        self.assertEqual({"site_type": ["primary"]}, m.last_request.qs)

    def test_names_are_quoted_in_paths(self):
        m = self._mocker()
        m.get(BASE + "/protection-groups/a%2Fb%20c",
              json={"protection_group": {"id": "x"}})
        self.assertEqual({"id": "x"}, self.client.pg_show("a/b c"))

    def test_peer_token_on_changes(self):
        m = self._mocker()
        m.post(BASE + "/protection-groups/pg/members",
               json={"member": {"id": "m"}}, status_code=201)
        self.client.member_add("pg", {"instance_id": "i"})
        req = m.last_request
        self.assertEqual("peer-token", req.headers["X-Protector-Peer-Token"])
        self.assertEqual({"member": {"instance_id": "i"}}, req.json())

    def test_member_set_puts_the_priority_at_1_4(self):
        # The client's version is 1.2 here: the call that needs 1.4 asks
        # for it, as site_create asks for 1.3.
        m = self._mocker()
        m.put(BASE + "/protection-groups/pg/members/m1",
              json={"member": {"id": "m1", "priority": 1}})
        self.assertEqual({"id": "m1", "priority": 1},
                         self.client.member_set("pg", "m1",
                                                {"priority": 1}))
        req = m.last_request
        self.assertEqual({"member": {"priority": 1}}, req.json())
        self.assertEqual("protector 1.4",
                         req.headers["OpenStack-API-Version"])
        self.assertEqual("peer-token", req.headers["X-Protector-Peer-Token"])

    def test_tier_fields_ask_for_1_4_only_when_sent(self):
        m = self._mocker()
        m.post(BASE + "/protection-groups/pg/members",
               json={"member": {"id": "m"}}, status_code=201)
        m.put(BASE + "/protection-groups/pg",
              json={"protection_group": {"id": "pg"}})
        m.post(BASE + "/protection-groups",
               json={"protection_group": {"id": "pg"}}, status_code=201)
        sent = []
        for call in (
                lambda: self.client.member_add("pg", {"instance_id": "i"}),
                lambda: self.client.member_add("pg", {"instance_id": "i",
                                                      "priority": 2}),
                lambda: self.client.pg_update("pg", {"name": "n"}),
                lambda: self.client.pg_update("pg", {"tier_delay": 5}),
                lambda: self.client.pg_create({"name": "n"}),
                lambda: self.client.pg_create({"name": "n",
                                               "tier_delay": 5})):
            call()
            sent.append(m.last_request.headers["OpenStack-API-Version"])
        self.assertEqual(["protector 1.2", "protector 1.4"] * 3, sent)
        # A client at a later version keeps its own.
        self.client.api_version = "1.5"
        self.client.member_add("pg", {"instance_id": "i", "priority": 1})
        self.assertEqual("protector 1.5",
                         m.last_request.headers["OpenStack-API-Version"])

    def test_default_version_is_the_newest_known(self):
        client = protector_client.Client(self.session, BASE)
        self.assertEqual("1.6", client.api_version)
        self.assertEqual(protector_client.PAGING_API_VERSION,
                         client.api_version)

    def test_list_with_rpo_asks_for_1_5(self):
        # The client's version is 1.2 here: only the list that wants the
        # RPO state asks for 1.5.
        m = self._mocker()
        m.get(BASE + "/protection-groups",
              json={"protection_groups": [{"id": "pg"}]})
        sent = []
        for call in (self.client.pg_list,
                     lambda: self.client.pg_list(rpo=True),
                     lambda: self.client.pg_list(rpo=True, name="n")):
            self.assertEqual([{"id": "pg"}], call())
            sent.append(m.last_request.headers["OpenStack-API-Version"])
        self.assertEqual(["protector 1.2", "protector 1.5",
                          "protector 1.5"], sent)
        self.assertEqual({"name": ["n"]}, m.last_request.qs)

    def test_list_follows_the_next_links(self):
        # A 1.6 server pages: every group, the link's limit and marker
        # sent to the client's own endpoint (not the link's host).
        m = self._mocker()
        pages = {None: (["g1", "g2"], "g2"), "g2": (["g3", "g4"], "g4"),
                 "g4": ([], None)}

        def page(request, context):
            marker = request.qs.get("marker", [None])[-1]
            ids, last = pages[marker]
            links = [{"rel": "next", "href": "http://internal:8788/v1/p/"
                      "protection-groups?status=active&limit=2&marker=%s"
                      % last}] if last else []
            return {"protection_groups": [{"id": i} for i in ids],
                    "protection_groups_links": links}
        m.get(BASE + "/protection-groups", json=page)
        groups = self.client.pg_list(status="active")
        self.assertEqual(["g1", "g2", "g3", "g4"],
                         [g["id"] for g in groups])
        self.assertEqual([{"status": ["active"]},
                          {"status": ["active"], "limit": ["2"],
                           "marker": ["g2"]},
                          {"status": ["active"], "limit": ["2"],
                           "marker": ["g4"]}],
                         [r.qs for r in m.request_history])
        self.assertTrue(all(r.url.startswith(BASE)
                            for r in m.request_history))

    def test_list_one_page_asks_for_1_6(self):
        m = self._mocker()
        m.get(BASE + "/protection-groups", json={
            "protection_groups": [{"id": "g3"}],
            "protection_groups_links": [{"rel": "next", "href":
                                         BASE + "/protection-groups?"
                                         "limit=1&marker=g3"}]})
        self.assertEqual([{"id": "g3"}],
                         self.client.pg_list(limit=1, marker="g2"))
        self.assertEqual(1, len(m.request_history))
        self.assertEqual("protector 1.6",
                         m.last_request.headers["OpenStack-API-Version"])
        self.assertEqual({"limit": ["1"], "marker": ["g2"]},
                         m.last_request.qs)

    def test_list_stops_on_a_repeated_marker(self):
        m = self._mocker()
        m.get(BASE + "/protection-groups", json={
            "protection_groups": [{"id": "g1"}],
            "protection_groups_links": [{"rel": "next", "href":
                                         BASE + "/protection-groups?"
                                         "limit=1&marker=g1"}]})
        with self.assertRaises(exceptions.ProtectorClientError) as err:
            self.client.pg_list()
        self.assertIn("same next page twice", str(err.exception))
        self.assertEqual(2, len(m.request_history))

    def test_validate_and_volume_types_send_the_peer_token(self):
        # Issue 14 item 1: 'site validate site-b' with OS_SECONDARY_CLOUD
        # set answered 400 protector.peer.token_required.
        m = self._mocker()
        m.post(BASE + "/sites/site-b/validate",
               json={"validation": {"site": "site-b"}})
        m.get(BASE + "/sites/site-b/volume-types",
              json={"volume_types": []})
        self.client.site_validate("site-b")
        self.assertEqual("peer-token",
                         m.request_history[-1].headers[
                             "X-Protector-Peer-Token"])
        self.client.site_volume_types("site-b")
        self.assertEqual("peer-token",
                         m.request_history[-1].headers[
                             "X-Protector-Peer-Token"])
        self.client.peer = None
        self.client.site_validate("site-b")
        self.assertNotIn("X-Protector-Peer-Token",
                         m.request_history[-1].headers)

    def test_tenant_mapping_needs_the_secondary_cloud(self):
        # Issue 14 item 4: optional in the client, required by the API.
        self.client.peer = None
        err = self.assertRaises(exceptions.UsageError,
                                self.client.tenant_mapping_create,
                                {"local_tenant": "p"})
        self.assertIn("--secondary-cloud", str(err))
        self.assertRaises(exceptions.UsageError,
                          self.client.tenant_mapping_delete, "m")

    def test_site_pair_sends_the_peer_token_and_needs_it(self):
        m = self._mocker()
        m.post(BASE + "/sites/site-b/pair",
               json={"site_key": {"site": "site-b", "key_id": "k"}})
        self.assertEqual("k", self.client.site_pair("site-b")["key_id"])
        self.assertEqual("peer-token",
                         m.last_request.headers["X-Protector-Peer-Token"])
        self.client.peer = None
        self.assertRaises(exceptions.UsageError, self.client.site_pair,
                          "site-b")

    def test_required_peer_missing(self):
        self.client.peer = None
        err = self.assertRaises(exceptions.UsageError, self.client.pg_delete,
                                "pg")
        self.assertIn("--secondary-cloud", str(err))

    def test_optional_peer_missing_is_fine(self):
        m = self._mocker()
        m.post(BASE + "/sites", json={"site": {"id": "s"}}, status_code=201)
        self.client.peer = None
        self.client.site_create({"name": "a"})
        self.assertNotIn("X-Protector-Peer-Token", m.last_request.headers)

    def test_peer_unreachable_propagates(self):
        self.peer.error = exceptions.PeerUnreachable("down")
        self.assertRaises(exceptions.PeerUnreachable, self.client.pg_create,
                          {"name": "x"})

    def test_delete_204(self):
        m = self._mocker()
        m.delete(BASE + "/sites/site-a", status_code=204)
        self.assertIsNone(self.client.site_delete("site-a"))

    def test_error_body_parsed(self):
        m = self._mocker()
        m.post(BASE + "/protection-groups/pg/action", status_code=409,
               json={"errors": [{"status": 409,
                                 "code": "protector.operation.conflict",
                                 "title": "Conflict",
                                 "detail": "An operation is running",
                                 "request_id": "req-9"}]})
        err = self.assertRaises(exceptions.APIError, self.client.pg_action,
                                "pg", "failover", {"type": "planned"})
        self.assertEqual(409, err.status)
        self.assertEqual("protector.operation.conflict", err.code)
        self.assertEqual(4, err.exit_code)
        self.assertEqual("req-9", err.request_id)
        self.assertEqual({"failover": {"type": "planned"}},
                         m.last_request.json())

    def test_non_json_error(self):
        m = self._mocker()
        m.get(BASE + "/health", status_code=502, text="Bad gateway",
              headers={"x-openstack-request-id": "req-x"})
        err = self.assertRaises(exceptions.APIError, self.client.health)
        self.assertIsNone(err.code)
        self.assertEqual(1, err.exit_code)
        self.assertEqual("req-x", err.request_id)
        self.assertIn("Bad gateway", str(err))

    def test_connection_failure(self):
        m = self._mocker()
        import requests
        m.get(BASE + "/sites", exc=requests.exceptions.ConnectionError)
        err = self.assertRaises(exceptions.ProtectorClientError,
                                self.client.site_list)
        # doc/cli.md exit 3: the site's protector-api does not answer.
        self.assertEqual(3, err.exit_code)
        self.assertIn("Could not reach protector-api", str(err))

    def test_every_call_matches_api_ref(self):
        m = self._mocker()
        c = self.client
        calls = [
            ("GET", "/sites/s", {"site": {}}, lambda: c.site_show("s")),
            ("POST", "/sites/s/validate", {"validation": {}},
             lambda: c.site_validate("s")),
            ("GET", "/sites/s/volume-types", {"volume_types": []},
             lambda: c.site_volume_types("s")),
            ("GET", "/protection-groups", {"protection_groups": []},
             c.pg_list),
            ("POST", "/protection-groups", {"protection_group": {}},
             lambda: c.pg_create({})),
            ("PUT", "/protection-groups/p", {"protection_group": {}},
             lambda: c.pg_update("p", {"name": "n"})),
            ("GET", "/protection-groups/p/sync-status", {"sync_status": {}},
             lambda: c.pg_sync_status("p")),
            ("POST", "/protection-groups/p/sync-force", {"sync_result": {}},
             lambda: c.pg_sync_force("p")),
            ("GET", "/protection-groups/p/consistency-group",
             {"consistency_group": {}}, lambda: c.pg_consistency_group("p")),
            ("GET", "/protection-groups/p/members", {"members": []},
             lambda: c.member_list("p")),
            ("GET", "/protection-groups/p/members/m", {"member": {}},
             lambda: c.member_show("p", "m")),
            ("GET", "/protection-groups/p/policy", {"policy": {}},
             lambda: c.policy_show("p")),
            ("PUT", "/protection-groups/p/policy", {"policy": {}},
             lambda: c.policy_set("p", {})),
            ("GET", "/operations", {"operations": []}, c.operation_list),
            ("GET", "/operations/o", {"operation": {}},
             lambda: c.operation_show("o")),
            ("GET", "/tenant-mappings", {"tenant_mappings": []},
             c.tenant_mapping_list),
            ("GET", "/tenant-mappings/t", {"tenant_mapping": {}},
             lambda: c.tenant_mapping_show("t")),
            ("POST", "/tenant-mappings", {"tenant_mapping": {}},
             lambda: c.tenant_mapping_create({})),
            ("GET", "/health", {"health": {}}, c.health),
        ]
        for method, path, body, call in calls:
            m.register_uri(method, BASE + path, json=body)
            call()
            self.assertEqual(method, m.last_request.method)
            self.assertEqual(BASE + path, m.last_request.url.split("?")[0])
        for path, call in (("/protection-groups/p", lambda: c.pg_delete("p")),
                           ("/protection-groups/p/members/m",
                            lambda: c.member_remove("p", "m")),
                           ("/tenant-mappings/t",
                            lambda: c.tenant_mapping_delete("t"))):
            m.delete(BASE + path, status_code=204)
            call()
            self.assertEqual("peer-token",
                             m.last_request.headers["X-Protector-Peer-Token"])

    def test_health_sends_the_peer_token(self):
        # The server reads the peer's Keystone catalog with it (the peer's
        # protector-api when the site has no protector_url).
        m = self._mocker()
        m.get(BASE + "/health", json={"health": {"status": "ok"}})
        self.assertEqual({"status": "ok"}, self.client.health())
        self.assertEqual("peer-token",
                         m.last_request.headers["X-Protector-Peer-Token"])

    def test_health_goes_without_a_peer_it_cannot_reach(self):
        # An unreachable peer is what the report is about: no exit 3.
        self.peer.error = exceptions.PeerUnreachable("site-b is down")
        m = self._mocker()
        m.get(BASE + "/health", json={"health": {"status": "degraded"}})
        self.assertEqual({"status": "degraded"}, self.client.health())
        self.assertNotIn("X-Protector-Peer-Token", m.last_request.headers)

    def test_health_without_a_peer(self):
        client = protector_client.Client(self.session, BASE, peer=None)
        m = self._mocker()
        m.get(BASE + "/health", json={"health": {}})
        client.health()
        self.assertNotIn("X-Protector-Peer-Token", m.last_request.headers)
