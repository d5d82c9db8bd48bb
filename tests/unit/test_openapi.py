"""doc/api/openapi.yaml is the code's: every route, the handlers' own
request schemas, regenerated when they change (tools/gen_openapi.py)."""
import ast
import os

import jsonschema
import yaml

from protector.api import handler
from protector.api import openapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
HANDLERS = os.path.join(ROOT, "protector", "api", "handlers")


def test_committed_document_is_up_to_date():
    from tools import gen_openapi
    committed = open(os.path.join(ROOT, "doc", "api", "openapi.yaml")).read()
    assert gen_openapi.render() == committed, (
        "doc/api/openapi.yaml is out of date: run 'make samples' and "
        "commit it")


def test_every_route_and_verb_is_described():
    doc = openapi.document()
    for path, methods in handler.ROUTE_DECLARATIONS.items():
        assert path in doc["paths"], path
        assert sorted(m.lower() for m in methods) == \
            sorted(doc["paths"][path]), path
    for path, method in openapi.REQUEST_BODIES:
        assert method in handler.ROUTE_DECLARATIONS[path], (path, method)


def test_request_schemas_are_valid_json_schema():
    for schema in openapi.REQUEST_BODIES.values():
        jsonschema.Draft7Validator.check_schema(schema)
    yaml.safe_load(open(os.path.join(ROOT, "doc", "api", "openapi.yaml")))


def _validated_schemas():
    """``schema.NAME`` arguments of util.extract_json in the handlers."""
    found = set()
    for name in os.listdir(HANDLERS):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(HANDLERS, name)).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(
                    node.func, "attr", None) == "extract_json" and \
                    isinstance(node.args[1], ast.Attribute):
                found.add(node.args[1].attr)
    return found


def test_no_handler_validates_with_a_schema_the_document_lacks():
    described = set()
    for schema in openapi.REQUEST_BODIES.values():
        for module in ("members", "operations", "protection_groups",
                       "replication_policies", "sites", "tenant_mappings"):
            mod = __import__("protector.api.schemas." + module,
                             fromlist=["x"])
            described |= {k for k, v in vars(mod).items() if v is schema}
    missing = _validated_schemas() - described
    assert not missing, "handlers validate with %s: add them to " \
        "openapi.REQUEST_BODIES" % sorted(missing)
