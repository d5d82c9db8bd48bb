"""JSON schemas of request bodies, one module per resource."""

# Printable text with at least one visible character: no C0/C1 control
# characters or DEL anywhere (a name is printed on operators' terminals,
# where an ESC sequence would rewrite the screen).
_CTRL = r"\x00-\x1f\x7f-\x9f"
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^[^%s]*[^\s%s][^%s]*$" % (_CTRL, _CTRL, _CTRL)}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 1024}
UUID = {"type": "string", "format": "uuid"}
# An http(s) URL with a host (a name or a [IPv6] literal) and a port that
# exists ("http-url" is checked by util.FORMAT_CHECKER: urlsplit must
# accept it, e.g. no "http://[" or ":99999").
URL = {"type": "string", "minLength": 1, "maxLength": 1024,
       "pattern": r"^https?://[^\s/$.?#][^\s]*$", "format": "http-url"}
