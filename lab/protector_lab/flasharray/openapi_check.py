"""Check simulator exchanges against the FlashArray REST OpenAPI spec.

Pure publishes an OpenAPI 3.0 description per REST version (we use 2.56,
the highest version the simulator advertises, so py-pure-client talks
``/api/2.56/...``). py-pure-client does not validate replies (it builds
models with pydantic ``construct()``), so this is what keeps the simulator
honest. For each exchange:

* the path and method must exist in the spec (``/api/2.x/...`` is mapped
  to the ``/api/2.56/...`` template);
* every query parameter sent must be declared for that operation;
* a 2xx status must be declared; its JSON body must validate (JSON Schema
  draft 4 semantics, which is what OpenAPI 3.0 schemas use) against the
  declared schema, and declared response headers must be present; a
  declared empty content means an empty body;
* error replies must be ``_errorContextResponse`` bodies with a message;
* **strict mode**: every property in a reply must be declared somewhere in
  its schema (the spec has no ``additionalProperties: false``, so plain
  validation would let typos and sim-only fields through).

Needs PyYAML and jsonschema (with ``referencing``). Loading the 1.7 MB YAML
takes ~0.4 s with libyaml; a pickle cache makes it faster still.
"""
import copy
import gzip
import hashlib
import json
import os
import pickle
import re
import urllib.parse

import jsonschema
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:flasharray-spec"
_VERSIONED = re.compile(r"^/api/\d+\.\d+(/.*)$")


def _read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read()


def load_spec(path, cache_dir=None):
    """Parse the spec (YAML or .yaml.gz), using a pickle cache if given."""
    raw = _read(path)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    cache = None
    if cache_dir:
        cache = os.path.join(cache_dir, f"fa-openapi-{digest}.pickle")
        if os.path.exists(cache):
            with open(cache, "rb") as f:
                return pickle.load(f)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(raw, Loader=loader)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{cache}.{os.getpid()}"
        with open(tmp, "wb") as f:
            pickle.dump(spec, f)
        os.replace(tmp, cache)
    return spec


def _absolutize(node):
    """Point every local ``$ref`` at the registered spec resource."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            node["$ref"] = SPEC_URI + ref
        for v in node.values():
            _absolutize(v)
    elif isinstance(node, list):
        for v in node:
            _absolutize(v)


class SpecValidator:
    def __init__(self, spec):
        self.spec = copy.deepcopy(spec)
        _absolutize(self.spec)
        self.version = str(self.spec["info"]["version"])
        self.registry = Registry().with_resource(
            SPEC_URI, DRAFT4.create_resource(self.spec))
        self._props_cache = {}
        self._validators = {}
        self._error_schema = {"$ref": SPEC_URI +
                              "#/components/schemas/_errorContextResponse"}

    # ---- lookups
    def _deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith(SPEC_URI + "#/"), ref
            cur = self.spec
            for part in ref[len(SPEC_URI) + 2:].split("/"):
                cur = cur[part]
            node = cur
            seen += 1
            if seen > 50:
                raise ValueError(f"$ref loop at {ref}")
        return node

    def operation(self, path, method):
        m = _VERSIONED.match(path)
        template = f"/api/{self.version}{m.group(1)}" if m else path
        ops = self.spec["paths"].get(template)
        if ops is None:
            return template, None
        return template, ops.get(method.lower())

    def query_params(self, op):
        names = set()
        for p in op.get("parameters", []):
            p = self._deref(p)
            if p.get("in") == "query":
                names.add(p["name"])
        return names

    # ---- strict property check
    def _props(self, schema):
        key = id(schema)
        if key in self._props_cache:
            return self._props_cache[key]
        props, items, declared, free = {}, None, False, False
        stack = [schema]
        while stack:
            s = self._deref(stack.pop())
            if not isinstance(s, dict):
                continue
            if "properties" in s:
                declared = True
                for k, v in s["properties"].items():
                    props.setdefault(k, v)
            if "items" in s and items is None:
                items = s["items"]
            if s.get("additionalProperties") not in (None, False):
                free = True         # a map: any key is allowed
            for k in ("allOf", "oneOf", "anyOf"):
                stack.extend(s.get(k, []))
        out = (props if declared and not free else None, items)
        self._props_cache[key] = out
        return out

    def _unknown(self, schema, inst, where, out):
        props, items = self._props(schema)
        if isinstance(inst, dict) and props is not None:
            for k, v in inst.items():
                if k not in props:
                    out.append(f"{where}.{k}: property not in the spec schema")
                else:
                    self._unknown(props[k], v, f"{where}.{k}", out)
        elif isinstance(inst, list) and items is not None:
            for i, v in enumerate(inst):
                self._unknown(items, v, f"{where}[{i}]", out)

    def validate_body(self, schema, body, where="body"):
        errors = []
        validator = self._validators.get(id(schema))
        if validator is None:
            validator = jsonschema.Draft4Validator(schema,
                                                   registry=self.registry)
            self._validators[id(schema)] = validator
        for err in validator.iter_errors(body):
            loc = "/".join(str(p) for p in err.absolute_path)
            errors.append(f"{where}/{loc}: {err.message[:300]}")
        self._unknown(schema, body, where, errors)
        return errors

    # ---- one exchange
    def check(self, method, path, query_keys, status, headers, body):
        """Problems (list of strings) with one request/response pair.

        ``body`` is the raw response bytes; ``headers`` a dict.
        """
        if path.startswith("/_sim/"):
            return []
        template, op = self.operation(path, method)
        where = f"{method} {path} -> {status}"
        if op is None:
            return [f"{where}: {method} {template} is not in the spec"]
        problems = []
        allowed = self.query_params(op)
        for k in query_keys:
            if k not in allowed:
                problems.append(f"{where}: query parameter '{k}' is not "
                                f"declared for {method} {template}")
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return problems + [f"{where}: body is not JSON"]
        if status >= 400:
            if not isinstance(data, dict) or not data.get("errors"):
                return problems + [f"{where}: error reply without 'errors'"]
            problems += [f"{where}: {e}" for e in
                         self.validate_body(self._error_schema, data)]
            if not all(e.get("message") for e in data["errors"]):
                problems.append(f"{where}: error without a message")
            return problems
        resp = op.get("responses", {}).get(str(status))
        if resp is None:
            return problems + [f"{where}: status {status} not declared"]
        lower = {k.lower() for k in headers}
        for h in resp.get("headers", {}):
            if h.lower() not in lower:
                problems.append(f"{where}: declared header '{h}' missing")
        content = resp.get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            if data is not None:
                problems.append(f"{where}: spec declares no body, got one")
            return problems
        if data is None:
            return problems + [f"{where}: empty body, spec declares one"]
        problems += [f"{where}: {e}" for e in self.validate_body(schema, data)]
        return problems

    def check_exchange(self, exch):
        keys = [k for k, _ in urllib.parse.parse_qsl(exch.query,
                                                     keep_blank_values=True)]
        return self.check(exch.method, exch.path, keys, exch.status,
                          exch.headers, exch.body)
