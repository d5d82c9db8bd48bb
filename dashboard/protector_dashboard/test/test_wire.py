"""What the dashboard sends to protector-api, on a real HTTP socket.

A small server on 127.0.0.1 stands in for protector-api; the request is
made by the API module as a page would make it, so the headers are those
of the real keystoneauth session (Horizon's TestCase blocks sockets, so
this test runs without it).
"""
import datetime
import http.server
import json
import threading
from unittest import mock

from django.test import override_settings
from django.test import SimpleTestCase
from keystoneauth1.identity import v3

from protector_dashboard.api import peer
from protector_dashboard.api import protector
from protectorclient import client as protector_client
from protectorclient import exceptions


class _Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.seen.append(("GET", self.path, dict(self.headers)))
        self._answer(200, {"protection_groups": [{"id": "g1", "name": "a"}]})

    def do_DELETE(self):
        self.seen.append(("DELETE", self.path, dict(self.headers)))
        self._answer(400, {"errors": [{
            "status": 400, "code": "protector.peer.token_required",
            "title": "Bad Request",
            "detail": "This request needs a token for site site-b"}]})

    def log_message(self, *args):
        pass


# The peer sign-in refuses cookie sessions (Horizon's test default).
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache")
class WireTests(SimpleTestCase):

    def setUp(self):
        _Handler.seen = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      _Handler)
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        url = "http://127.0.0.1:%d/v1/%%(tenant_id)s" % \
            self.server.server_address[1]
        user = mock.Mock(project_id="p1", services_region="RegionOne")
        user.token.id = "user-token"
        user.service_catalog = [{"type": "protector", "name": "protector",
                                 "endpoints": [{"region": "RegionOne",
                                                "interface": "public",
                                                "url": url}]}]
        # A dict stands in for the session (what the sign-in writes).
        self.request = mock.Mock(user=user, session={})

    def test_list_sends_the_users_token_and_microversion(self):
        groups = protector.pg_list(self.request)
        self.assertEqual(["a"], [g.name for g in groups])
        method, path, headers = _Handler.seen[0]
        self.assertEqual(("GET", "/v1/p1/protection-groups"), (method, path))
        self.assertEqual("user-token", headers["X-Auth-Token"])
        self.assertEqual("protector %s" % protector_client.DEFAULT_API_VERSION,
                         headers["OpenStack-API-Version"])

    def test_list_asks_for_the_rpo_state(self):
        # The RPO column needs microversion 1.5: asked for even by a
        # client set to an older one (still one request).
        protector.protectorclient(self.request).api_version = "1.2"
        protector.pg_list(self.request)
        (method, path, headers), = _Handler.seen
        self.assertEqual("protector %s" %
                         protector_client.RPO_LIST_API_VERSION,
                         headers["OpenStack-API-Version"])
        self.assertEqual("protector 1.5", headers["OpenStack-API-Version"])

    def _sign_in(self, expires_in):
        site = mock.Mock(auth_url="http://127.0.0.1:1/v3")
        site.name = "site-b"
        got = mock.Mock(
            auth_token="peer-token", username="demo", project_name="demo",
            project_id="p2",
            expires=datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(seconds=expires_in))
        with mock.patch.object(v3.Password, "get_access", return_value=got):
            peer.sign_in(self.request, site, "demo", "secret", "demo")

    def test_signed_in_change_sends_the_peer_token(self):
        self._sign_in(3600)
        protector.pg_list(self.request)
        with self.assertRaises(exceptions.APIError):
            protector.pg_delete(self.request, "g1")
        (_m, _p, list_headers), (method, _path, headers) = _Handler.seen
        self.assertEqual("DELETE", method)
        self.assertEqual("peer-token", headers["X-Protector-Peer-Token"])
        self.assertEqual("user-token", headers["X-Auth-Token"])
        # Reads carry no peer token.
        self.assertNotIn("X-Protector-Peer-Token", list_headers)

    def test_expired_peer_token_is_not_sent(self):
        self._sign_in(3600)
        later = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(hours=2)
        with mock.patch.object(peer, "_now", return_value=later), \
                self.assertRaises(exceptions.APIError):
            protector.pg_delete(self.request, "g1")
        self.assertNotIn("X-Protector-Peer-Token", _Handler.seen[0][2])

    def test_change_goes_without_peer_token_and_api_refusal_is_raised(self):
        with self.assertRaises(exceptions.APIError) as caught:
            protector.pg_delete(self.request, "g1")
        self.assertEqual("protector.peer.token_required",
                         caught.exception.code)
        method, path, headers = _Handler.seen[0]
        self.assertEqual(("DELETE", "/v1/p1/protection-groups/g1"),
                         (method, path))
        self.assertNotIn("X-Protector-Peer-Token", headers)
