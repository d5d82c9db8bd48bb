"""A small OpenStack REST client for seeding the lab (requests only).

The lab seeds its sites through the REST APIs rather than the
``openstack`` command: one Python process, no 2 s client start-up per
command, and exact control over fields OSC cannot set (group type specs,
``bootable`` on manage).
"""
import time

import requests


class APIError(RuntimeError):
    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> %s: %s" % (method, url, status,
                                               body[:500]))
        self.status = status


class Session:
    """Password-scoped Keystone v3 session with the service catalog."""

    def __init__(self, auth_url, username, password, project_name,
                 domain="Default", timeout=60):
        self.auth_url = auth_url.rstrip("/")
        self.timeout = timeout
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": username, "password": password,
                "domain": {"name": domain}}}},
            "scope": {"project": {"name": project_name,
                                  "domain": {"name": domain}}}}}
        resp = requests.post(self.auth_url + "/auth/tokens", json=body,
                             timeout=timeout)
        if resp.status_code != 201:
            raise APIError("POST", self.auth_url + "/auth/tokens",
                           resp.status_code, resp.text)
        self.token = resp.headers["X-Subject-Token"]
        data = resp.json()["token"]
        self.project_id = data["project"]["id"]
        self.user_id = data["user"]["id"]
        self.catalog = data.get("catalog", [])

    def endpoint(self, service_type, interface="public"):
        if service_type == "identity":
            return self.auth_url
        for entry in self.catalog:
            if entry["type"] == service_type:
                for ep in entry["endpoints"]:
                    if ep["interface"] == interface:
                        return ep["url"].replace(
                            "%(project_id)s", self.project_id).replace(
                            "%(tenant_id)s", self.project_id).rstrip("/")
        raise KeyError("no %s endpoint for %s in the catalog" % (
            interface, service_type))

    def request(self, method, service_type, path, json=None, data=None,
                headers=None, ok=(200, 201, 202, 204), retries=0):
        url = self.endpoint(service_type) + path
        hdrs = {"X-Auth-Token": self.token}
        if json is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in range(retries + 1):
            resp = requests.request(method, url, json=json, data=data,
                                    headers=hdrs, timeout=self.timeout)
            if resp.status_code in ok:
                if resp.status_code == 204 or not resp.content:
                    return {}
                try:
                    return resp.json()
                except ValueError:
                    return {}
            if attempt < retries and resp.status_code >= 500:
                time.sleep(1)
                continue
            raise APIError(method, url, resp.status_code, resp.text)

    def get(self, service_type, path, **kw):
        return self.request("GET", service_type, path, **kw)

    def post(self, service_type, path, body, **kw):
        return self.request("POST", service_type, path, json=body, **kw)

    def put(self, service_type, path, body=None, **kw):
        return self.request("PUT", service_type, path, json=body, **kw)

    def delete(self, service_type, path, **kw):
        return self.request("DELETE", service_type, path, **kw)


def wait_http(url, timeout=120.0, interval=0.25):
    """Wait until ``url`` answers HTTP at all (any status)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=3)
            return True
        except requests.RequestException as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError("%s did not answer within %.0f s (%s)" % (
        url, timeout, last))


def answers(url, timeout=2.0):
    try:
        requests.get(url, timeout=timeout)
        return True
    except requests.RequestException:
        return False
