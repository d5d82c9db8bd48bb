"""Client-side errors and the CLI exit codes they map to (doc/cli.md).

Exit codes are derived from the stable API error ``code`` (doc/api-ref.md),
never from message text:

====  ==========================================================
0     success; for DR operations: accepted and queued
1     general error (auth failure, bad argument, missing flag, API error)
2     usage error (argparse: unknown command, missing positional, ...)
3     a site unreachable (``protector.peer.unreachable``,
      ``protector.site.unreachable``), or the protector-api this
      command talks to does not answer
4     operation conflict (``protector.operation.conflict``,
      ``protector.operation.test_active``)
5     precondition failed (``protector.precondition.*``, any 412, and
      a volume type that is not replicated)
====  ==========================================================
"""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PEER_UNREACHABLE = 3
EXIT_CONFLICT = 4
EXIT_PRECONDITION = 5

PEER_UNREACHABLE = "protector.peer.unreachable"
UNREACHABLE_CODES = frozenset({PEER_UNREACHABLE,
                               "protector.site.unreachable"})
CONFLICT_CODES = frozenset({"protector.operation.conflict",
                            "protector.operation.test_active"})
PRECONDITION_PREFIX = "protector.precondition."
# Checks before anything starts that doc/cli.md lists under exit 5
# although the API answers them with 400.
PRECONDITION_CODES = frozenset({"protector.volume_type.not_replicated"})


def exit_code_for(code, status=None):
    """Map an API error ``code`` (and HTTP status) to the CLI exit code
    of doc/cli.md, "Exit codes"."""
    if code in UNREACHABLE_CODES:
        return EXIT_PEER_UNREACHABLE
    if code in CONFLICT_CODES:
        return EXIT_CONFLICT
    if (code or "").startswith(PRECONDITION_PREFIX) or \
            code in PRECONDITION_CODES or status == 412:
        return EXIT_PRECONDITION
    return EXIT_ERROR


class ProtectorClientError(Exception):
    """Base of every error this client raises on purpose."""

    exit_code = EXIT_ERROR


class APIUnreachable(ProtectorClientError):
    """The connection to protector-api failed (refused, reset, timed out)
    before any HTTP answer: the request may be retried if it is a read.
    Exit 3: the site (its protector-api) is unreachable."""

    exit_code = EXIT_PEER_UNREACHABLE


class UsageError(ProtectorClientError):
    """A required flag is missing or a value is malformed (exit 1).

    doc/cli.md puts malformed values and missing required flags under exit
    code 1; exit 2 stays reserved for what argparse itself rejects.
    """


class PeerUnreachable(ProtectorClientError):
    """The client itself could not reach the peer (secondary) site."""

    exit_code = EXIT_PEER_UNREACHABLE


class OperationFailed(ProtectorClientError):
    """A DR operation followed with ``--wait`` ended in ``failed``."""


class APIError(ProtectorClientError):
    """An error response of protector-api (API-WG format)."""

    def __init__(self, status, code=None, detail=None, title=None,
                 request_id=None, url=None, method=None):
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.request_id = request_id
        self.url = url
        self.method = method
        super().__init__(self._message())

    def _message(self):
        text = self.detail or self.title or "HTTP %s" % self.status
        parts = ["%s (HTTP %s" % (text, self.status)]
        if self.code:
            parts.append(", code %s" % self.code)
        if self.request_id:
            parts.append(", request %s" % self.request_id)
        return "".join(parts) + ")"

    @property
    def exit_code(self):
        return exit_code_for(self.code, self.status)

    @property
    def not_found(self):
        return self.status == 404
