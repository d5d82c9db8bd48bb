"""Request schemas are checked and compiled once (``api.util.validate``):
``jsonschema.validate`` checked the schema itself on every call, 18 ms
for a pushed document's on each metadata push (doc/benchmarks.md). The
errors stay those ``jsonschema.validate`` raises."""
import jsonschema
import pytest

from protector.api.schemas import protection_groups as pg_schema
from protector.api import util

BAD = [
    (pg_schema.METADATA, {}),
    (pg_schema.METADATA, {"metadata": {"version": 0, "checksum": "x",
                                       "document": {}}}),
    (pg_schema.DOCUMENT, {"id": "not-a-uuid", "members": [{"id": 1}]}),
    (pg_schema.CREATE, {"protection_group": {"name": "",
                                             "replication_type": "x"}}),
    (pg_schema.UPDATE, {"protection_group": {"foo": 1}}),
]


@pytest.mark.parametrize("schema,instance", BAD)
def test_the_same_error_as_jsonschema_validate(schema, instance):
    with pytest.raises(jsonschema.ValidationError) as theirs:
        jsonschema.validate(instance, schema,
                            format_checker=util.FORMAT_CHECKER)
    for _ in range(2):  # compiled, then from the cache
        with pytest.raises(jsonschema.ValidationError) as ours:
            util.validate(instance, schema)
        assert (ours.value.message, list(ours.value.absolute_path)) == (
            theirs.value.message, list(theirs.value.absolute_path))


def test_a_schema_is_checked_once(monkeypatch):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    checks = []
    cls = jsonschema.validators.validator_for(schema)
    real = cls.check_schema
    monkeypatch.setattr(cls, "check_schema", classmethod(
        lambda c, s, *a, **k: checks.append(s) or real(s, *a, **k)))
    for _ in range(3):
        util.validate({"a": 1}, schema)
    assert checks == [schema]
    with pytest.raises(jsonschema.SchemaError):
        util.validate({}, {"type": 12})


def test_schemas_made_per_request_do_not_grow_the_cache():
    for i in range(300):
        util.validate({}, {"type": "object", "maxProperties": i})
    assert len(util._VALIDATORS) <= 256
