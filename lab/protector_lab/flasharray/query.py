"""Generic query layer of the FlashArray simulator.

Everything here works on the *formatted* response items (plain dicts), so
each route only has to produce the full list of items for its resource and
can leave ``filter=``, ``sort=``, ``limit``/``offset``/``continuation_token``
and the response envelope to this module.

The filter grammar is the subset of Purity's filter language that
``py-pure-client`` callers (the orchestrator, Cinder's Pure driver) send:
``field='v'`` / ``field="v"`` with ``*`` globs, ``!=``, bare boolean fields
(``is_local``), ``not``, ``and``, ``or`` and parentheses; dotted field paths
(``pod.name``, ``eth.subtype``); a list-valued field matches when any
element matches (``iqns='iqn...'``).
"""
import base64
import re
import urllib.parse


class ApiError(Exception):
    """An error the simulator answers with ``{"errors": [...]}``.

    Purity's wording matters: Cinder's driver matches substrings such as
    "does not exist" or "already exists" in ``errors[0].message``.
    """

    def __init__(self, status, message, context=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.context = context

    def body(self):
        err = {"message": self.message}
        if self.context is not None:
            err["context"] = self.context
        return {"errors": [err]}


def bad(message, context=None):
    """Shorthand for the 400 answer every validation failure gets."""
    return ApiError(400, message, context)


class Query:
    """URL query parameters, decoded the way py-pure-client encodes them.

    The client csv-joins list parameters after quoting each element, so the
    query string is URL-decoded first and then split on ``,``.
    """

    def __init__(self, raw):
        self.raw = raw or ""
        self.params = {}
        for key, value in urllib.parse.parse_qsl(self.raw,
                                                 keep_blank_values=True):
            self.params[key] = value

    def __contains__(self, key):
        return key in self.params

    def str(self, key, default=None):
        return self.params.get(key, default)

    def list(self, key):
        value = self.params.get(key)
        if value is None or value == "":
            return None
        return [v for v in value.split(",") if v != ""]

    def bool(self, key, default=None):
        value = self.params.get(key)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise bad(f"Invalid value for boolean parameter {key}: {value}.")

    def int(self, key, default=None):
        value = self.params.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise bad(f"Invalid value for integer parameter {key}: {value}.")


# ----------------------------------------------------------------- filters

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<lp>\()|(?P<rp>\))|
      (?P<op>!=|=|<=|>=|<|>)|
      (?P<str>'[^']*'|"[^"]*")|
      (?P<word>[A-Za-z0-9_.\-:*]+)
    )""", re.VERBOSE)


def _tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad(f"Invalid filter: {text}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            out.append(("str", val[1:-1]))
        elif kind == "word" and val.lower() in ("and", "or", "not"):
            out.append((val.lower(), val))
        else:
            out.append((kind, val))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _lookup(item, path):
    cur = item
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return None
    return cur


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(value, op, wanted):
    if value is None:
        return op == "!="
    if isinstance(value, list):
        hits = [_compare(v, "=", wanted) for v in value]
        return any(hits) if op == "=" else not any(hits)
    if op in ("=", "!="):
        text = _as_text(value)
        if isinstance(value, float):
            # progress="1.0" must match 1 as well as 1.0
            try:
                eq = float(wanted) == value
            except ValueError:
                eq = False
        elif "*" in wanted:
            # Purity globs know only '*'; everything else is literal.
            pat = ".*".join(re.escape(p) for p in wanted.split("*"))
            eq = re.fullmatch(pat, text, re.S) is not None
        else:
            eq = text == wanted
        return eq if op == "=" else not eq
    try:
        a, b = float(value), float(wanted)
    except (TypeError, ValueError):
        a, b = _as_text(value), wanted
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


class _Parser:
    def __init__(self, tokens, text):
        self.toks, self.i, self.text = tokens, 0, text

    def peek(self):
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def take(self, kind=None):
        if self.i >= len(self.toks):
            raise bad(f"Invalid filter: {self.text}")
        tok = self.toks[self.i]
        if kind and tok[0] != kind:
            raise bad(f"Invalid filter: {self.text}")
        self.i += 1
        return tok

    def expr(self):
        left = self.conj()
        while self.peek() == "or":
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda it: a(it) or b(it))(left, right)
        return left

    def conj(self):
        left = self.unary()
        while self.peek() == "and":
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda it: a(it) and b(it))(left, right)
        return left

    def unary(self):
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda it: not inner(it)
        if self.peek() == "lp":
            self.take()
            inner = self.expr()
            self.take("rp")
            return inner
        field = self.take("word")[1]
        if self.peek() == "op":
            op = self.take()[1]
            kind, val = self.take()
            if kind not in ("str", "word"):
                raise bad(f"Invalid filter: {self.text}")
            return lambda it: _compare(_lookup(it, field), op, val)
        return lambda it: _lookup(it, field) is True


def compile_filter(text):
    """Return a predicate over formatted items for a ``filter=`` string."""
    parser = _Parser(_tokenize(text), text)
    pred = parser.expr()
    if parser.i != len(parser.toks):
        raise bad(f"Invalid filter: {text}")
    return pred


# ------------------------------------------------------- sort and paging

def apply_sort(items, sort):
    """Sort by ``field`` / ``field-`` keys (last key applied first)."""
    for key in reversed(sort or []):
        desc = key.endswith("-")
        field = key.rstrip("-+")

        def keyfn(it, field=field):
            v = _lookup(it, field)
            return (v is None,
                    v if not isinstance(v, (dict, list)) else str(v))
        items = sorted(items, key=keyfn, reverse=desc)
    return items


def encode_token(offset):
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token):
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        kind, _, num = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return int(num)
    except Exception:
        raise bad("Invalid continuation_token.")


def envelope(items, query, paginate=True):
    """Apply filter/sort/paging and wrap in Purity's list envelope.

    ``total_item_count`` is always sent (the client's iterator and Cinder's
    truthiness checks rely on it); ``continuation_token`` is only present
    when there is a next page, because the spec does not allow ``null``.
    """
    if paginate:
        if query.str("filter"):
            pred = compile_filter(query.str("filter"))
            items = [it for it in items if pred(it)]
        items = apply_sort(items, query.list("sort"))
    if not paginate:
        # Create/modify replies (VolumeResponse & co.) carry only 'items'.
        return {"items": items}
    total = len(items)
    start = 0
    limit = None
    if paginate:
        token = query.str("continuation_token")
        start = decode_token(token) if token else (query.int("offset") or 0)
        limit = query.int("limit")
    page = items[start:start + limit] if limit else items[start:]
    more = start + len(page) < total
    body = {"items": page, "total_item_count": total,
            "more_items_remaining": more}
    if more and limit:
        body["continuation_token"] = encode_token(start + len(page))
    if paginate and query.bool("total_only", False):
        body["items"] = []
    return body
