"""Sim-only control API under ``/_sim/`` (JSON in, JSON out).

Served on the plain-HTTP control port of a ``Simulator`` (reachable even
while an array is "down") and, for convenience, under ``/_sim/`` on every
array's HTTPS port. Nothing here exists on a real FlashArray. Endpoints:

  GET  /_sim/info                                 ports, tokens, clock, cert
  GET  /_sim/clock                                {"now": ms}
  POST /_sim/clock/advance        {"seconds": N}  run schedules/transfers
  POST /_sim/arrays/<a>/down      {"mode": "refuse"|"503"}
  POST /_sim/arrays/<a>/up
  POST /_sim/arrays/<a>/latency   {"seconds": x}
  POST /_sim/arrays/<a>/inject    {"method","path","status","message","count"}
  POST /_sim/arrays/<a>/sessions/expire
  POST /_sim/arrays/<a>/clear     (latency + injected errors)
  POST /_sim/arrays/<a>/write/<volume>   {"data_version": N?}  bump contents
  GET  /_sim/arrays/<a>/data/<volume-or-snapshot>  {"data_version": N}
  POST /_sim/links/<a>/<b>/down | /up | /slow {"seconds": N}
  POST /_sim/links/<a>/<b>/connect {"type": "sync-replication"} | /disconnect
"""
import json
import urllib.parse


def _ok(body=None):
    return 200, {}, body if body is not None else {"ok": True}


def _err(status, message):
    return status, {}, {"error": message}


def handle(sim, method, path, query, raw_body):
    try:
        body = json.loads(raw_body) if raw_body else {}
    except ValueError:
        return _err(400, "body is not JSON")
    parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
    try:
        return _route(sim, method, parts, body or {})
    except KeyError as exc:
        return _err(404, f"unknown object {exc}")
    except (ValueError, PermissionError, TypeError) as exc:
        return _err(400, str(exc))


def _route(sim, method, parts, body):
    fab = sim.fabric
    faults = fab.faults
    if parts == ["info"] and method == "GET":
        return _ok(sim.info())
    if parts == ["clock"] and method == "GET":
        return _ok({"now": fab.now(), "manual": fab.clock.manual})
    if parts == ["clock", "advance"] and method == "POST":
        return _ok({"now": fab.advance(float(body.get("seconds", 0)))})
    if len(parts) >= 3 and parts[0] == "arrays" and method in ("POST", "GET"):
        name, action = parts[1], parts[2]
        fab.arrays[name]            # KeyError -> 404
        if method == "GET" and action == "data":
            obj = "/".join(parts[3:])
            return _ok({"name": obj,
                        "data_version": fab.data_version(name, obj)})
        if method != "POST":
            return _err(404, "unknown control endpoint")
        if action == "down":
            faults.array_down(name, body.get("mode", "refuse"))
            return _ok()
        if action == "up":
            faults.array_up(name)
            return _ok()
        if action == "latency":
            faults.latency(name, float(body.get("seconds", 0)))
            return _ok()
        if action == "inject":
            faults.inject_error(name, body["method"], body["path"],
                                body.get("status", 500),
                                body.get("message", "Injected fault"),
                                body.get("count", 1))
            return _ok()
        if action == "sessions" and parts[3:] == ["expire"]:
            faults.expire_sessions(name)
            return _ok()
        if action == "clear":
            faults.clear(name)
            return _ok()
        if action == "write":
            vol = "/".join(parts[3:])
            dv = fab.write(name, vol, body.get("data_version"))
            return _ok({"name": vol, "data_version": dv})
    if len(parts) == 4 and parts[0] == "links" and method == "POST":
        a, b, action = parts[1], parts[2], parts[3]
        fab.arrays[a], fab.arrays[b]
        if action == "connect":
            fab.connect(a, b, body.get("type", "sync-replication"))
            return _ok()
        if action == "disconnect":
            fab.disconnect(a, b)
            return _ok()
        if fab.link(a, b) is None:
            return _err(404, f"no array connection {a}<->{b}")
        if action == "down":
            faults.link_down(a, b)
            return _ok()
        if action == "up":
            faults.link_up(a, b)
            return _ok()
        if action == "slow":
            faults.slow_link(a, b, float(body.get("seconds", 0)))
            return _ok()
    return _err(404, "unknown control endpoint")
