"""``protector_lab.client`` without a lab: what its REST client sends.

The lab tests (tests/integration) drive the lab through this module; these
check the parts that need no cloud: the headers and URLs of
``Protector.call`` (with and without a microversion, with and without the
peer token), ``site_pair`` and ``make_room``.
"""
import types

import pytest

from protector_lab import client


class FakeConn:
    def __init__(self, token, project="p-demo"):
        self.auth_token = token
        self.current_project_id = project
        self.block_storage = types.SimpleNamespace(
            find_type=lambda name: types.SimpleNamespace(id="vt-" + name))


class FakeLab:
    def __init__(self):
        self.connected = []

    def site(self, name):
        port = 9788 if name == "site-a" else 9888
        return types.SimpleNamespace(
            protector_url="http://127.0.0.1:%d" % port,
            demo_project_id="p-demo")

    def connect(self, cloud):
        self.connected.append(cloud)
        project = "p-admin" if cloud.endswith("-admin") else "p-demo"
        return FakeConn("T-" + cloud, project)


class FakeResponse:
    status_code = 200
    content = b"{}"

    def __init__(self, body):
        self.body = body

    def json(self):
        return self.body


@pytest.fixture
def sent(monkeypatch):
    calls = []

    def request(method, url, json=None, headers=None, timeout=None):
        calls.append({"method": method, "url": url, "json": json,
                      "headers": headers, "timeout": timeout})
        name = url.rsplit("/", 1)[-1]
        return FakeResponse({"site": {"id": "id-" + name},
                             "operation": {"status": "completed"}})

    monkeypatch.setattr(client.requests, "request", request)
    return calls


def test_call_sends_the_microversion_and_both_tokens(sent):
    p = client.Protector(FakeLab(), "site-b", "site-a")
    assert p.call("GET", "/protection-groups") == (200, {
        "site": {"id": "id-protection-groups"},
        "operation": {"status": "completed"}})
    assert sent[0]["url"] == \
        "http://127.0.0.1:9888/v1/p-demo/protection-groups"
    assert sent[0]["headers"] == {
        "OpenStack-API-Version": "protector 1.2",
        "X-Auth-Token": "T-site-b", "X-Protector-Peer-Token": "T-site-a"}
    assert sent[0]["timeout"] == 300


def test_call_without_microversion_peer_or_own_project(sent):
    lab = FakeLab()
    p = client.Protector(lab, "site-a", "site-b", user="admin",
                         version=None)
    assert lab.connected == ["site-a-admin", "site-b-admin"]
    p.call("GET", "/protection-groups", peer=False, project="other")
    assert sent[0]["url"] == \
        "http://127.0.0.1:9788/v1/other/protection-groups"
    assert sent[0]["headers"] == {"X-Auth-Token": "T-site-a-admin"}


def test_action_and_wait(sent):
    p = client.Protector(FakeLab(), "site-b", "site-a")
    p.action("pg1", "test_failover")
    assert sent[0]["method"] == "POST"
    assert sent[0]["url"].endswith("/protection-groups/pg1/action")
    assert sent[0]["json"] == {"test_failover": {}}
    assert p.wait("op1") == {"status": "completed"}
    assert "X-Protector-Peer-Token" not in sent[1]["headers"]


def test_site_pair(sent):
    pair = client.site_pair(FakeLab(), version=None)
    assert pair["ids"] == {"site-a": "id-site-a", "site-b": "id-site-b"}
    assert pair["volume_type"] == "vt-replicated-async"
    assert pair["a"].url == "http://127.0.0.1:9788/v1/p-demo"
    assert pair["b"].url == "http://127.0.0.1:9888/v1/p-demo"
    assert all("OpenStack-API-Version" not in c["headers"] for c in sent)


def test_make_room_raises_only_what_is_missing(monkeypatch):
    lab, raised = FakeLab(), []
    admin = FakeConn("T")
    admin.set_volume_quotas = lambda project, **kw: raised.append(
        (project, kw))
    monkeypatch.setattr(lab, "connect", lambda cloud: admin)
    for limit, used, want, result in ((10, 6, 6, 12), (10, 2, 6, 10),
                                      (-1, 50, 6, -1)):
        admin.block_storage.get_quota_set = (
            lambda project, usage, limit=limit, used=used:
            types.SimpleNamespace(volumes=limit, usage={"volumes": used}))
        assert client.make_room(lab, "site-a", want) == result
    assert raised == [("p-demo", {"volumes": 12})]


def test_lab_command_prefers_the_venv(monkeypatch, tmp_path):
    exe = tmp_path / "protector-lab"
    exe.write_text("")
    monkeypatch.setattr(client.sys, "executable", str(tmp_path / "python"))
    assert client.lab_command() == [str(exe)]
