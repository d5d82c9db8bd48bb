"""Microversion parsing and negotiation."""
import pytest

from protector.api import microversion as mv


def extract(value):
    headers = {} if value is None else {"OpenStack-API-Version": value}
    return mv.extract_version(headers)


def test_missing_header_is_the_minimum():
    assert extract(None) == (1, 1)


@pytest.mark.parametrize("value,expected", [
    ("protector 1.1", (1, 1)), ("protector 1.2", (1, 2)),
    ("protector 1.3", (1, 3)), ("protector 1.4", (1, 4)),
    ("protector 1.5", (1, 5)), ("protector 1.6", (1, 6)),
    ("protector latest", (1, 6)),
    ("PROTECTOR 1.2", (1, 2)),
    ("compute 2.1, protector 1.2", (1, 2)), ("compute 2.1", (1, 1)),
])
def test_accepted(value, expected):
    assert extract(value) == expected


@pytest.mark.parametrize("value", ["protector 1", "protector one.two",
                                   "protector 1.2.3", "protector 01.1",
                                   "protector", "protector -1.1"])
def test_malformed_is_invalid(value):
    with pytest.raises(mv.InvalidVersion) as exc:
        extract(value)
    assert exc.value.code == "protector.microversion.invalid"


@pytest.mark.parametrize("value", ["protector 1.0", "protector 1.7",
                                   "protector 2.0", "protector 0.9"])
def test_out_of_range_is_unsupported(value):
    with pytest.raises(mv.UnsupportedVersion) as exc:
        extract(value)
    assert exc.value.kind == "not_acceptable"


def test_version_ordering_and_matches():
    v = mv.Version.parse("1.2")
    assert v > mv.Version.parse("1.1")
    assert v.matches("1.2") and not v.matches("1.3")
    assert mv.Version.parse("1.10") > v  # numeric, not lexical
    assert str(v) == "1.2"
