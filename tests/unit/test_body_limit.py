"""The request body limit (protector.api.middleware.json_body_limit)."""
import io
import json

import webob

from protector.api import middleware


def _call(length, limit=1000):
    seen = []

    def app(environ, start_response):
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    stream = io.BytesIO(b"x" * length)  # wsgi.input: tell() is what was read
    req = webob.Request.blank("/v1/p/sites", method="POST",
                              headers={"Content-Type": "application/json"})
    req.body_file_raw = stream
    req.environ["wsgi.input"] = stream
    req.content_length = length
    resp = req.get_response(middleware.json_body_limit(limit)(app))
    return resp, stream, seen


def test_a_body_a_few_times_too_big_is_read_to_its_end_then_refused():
    """So the client is done sending when the 413 comes and reads it,
    rather than a broken pipe (seen with a 2 MiB body on a 1 MiB
    limit)."""
    resp, stream, seen = _call(3000)
    assert resp.status_int == 413
    error = json.loads(resp.body)["errors"][0]
    assert error["code"] == "protector.request.too_large"
    assert stream.tell() == 3000
    assert seen == []  # the application never saw it


def test_a_huge_body_is_refused_unread():
    resp, stream, seen = _call(middleware.DRAIN_FACTOR * 1000 + 1)
    assert resp.status_int == 413
    assert stream.tell() == 0
    assert seen == []


def test_a_body_within_the_limit_reaches_the_application():
    resp, stream, seen = _call(1000)
    assert resp.status_int == 200
    assert seen == [b"x" * 1000]
