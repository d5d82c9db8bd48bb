"""One FlashArray, reached through py-pure-client, with typed failures.

py-pure-client returns API errors as ``ErrorResponse`` values and raises
only on transport problems (``urllib3`` ``MaxRetryError``, not always
``PureError``; see flasharray-sim-notes.md). ``Array.call`` turns both into
Protector exceptions that name the array and the call, so a failed step
records a clear, stable error and can be resumed once the array is back.

Tokens are only handed to the client; they are never logged nor put into
messages.
"""
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from protector import exception

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

USER_AGENT = "openstack-protector"


def target_of(url):
    """py-pure-client's ``target`` (``host[:port]``) from a policy URL.

    The client always speaks HTTPS to ``https://<target>``, so only the
    network location of ``https://fa.example.com:8443/`` matters.
    """
    url = (url or "").strip()
    if "://" not in url:
        return url.rstrip("/")
    return urllib.parse.urlsplit(url).netloc or url


def _transport_errors():
    import urllib3
    from pypureclient import exceptions as pure_exc
    return (urllib3.exceptions.HTTPError, pure_exc.PureError, OSError)


def _error_text(resp):
    errors = getattr(resp, "errors", None) or []
    parts = []
    for err in errors:
        msg = getattr(err, "message", None) or str(err)
        ctx = getattr(err, "context", None)
        parts.append("%s (%s)" % (msg, ctx) if ctx and ctx not in msg
                     else msg)
    return "; ".join(parts) or "HTTP %s" % getattr(resp, "status_code", "?")


class ApiError(Exception):
    """An ``ErrorResponse``: status and Purity's message (for matching)."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


class Array:
    """A lazily logged-in client for one array of a replication policy."""

    def __init__(self, url, token, label, conf=CONF):
        self.url = url
        self.target = target_of(url)
        self.label = label              # "primary"/"secondary": for messages
        self._token = token
        self._conf = conf
        self._client = None
        self._name = None
        # Status probes (RPO in show and health): no retries, short wait.
        self.probe = False

    def __repr__(self):
        return "<Array %s %s>" % (self.label, self.target)

    @property
    def display(self):
        """How messages name the array: ``name (address)`` once known."""
        if self._name:
            return "%s (%s)" % (self._name, self.target)
        return "%s (%s)" % (self.label, self.target)

    # -- connection ------------------------------------------------------

    def _connect(self):
        from pypureclient import configuration
        from pypureclient import exceptions as pure_exc
        from pypureclient import flasharray
        conf = self._conf.storage
        timeout = min(5, conf.pure_api_timeout) if self.probe else \
            conf.pure_api_timeout
        kwargs = {"target": self.target, "api_token": self._token,
                  "user_agent": USER_AGENT,
                  "timeout": (min(10, timeout), timeout),
                  "retries": 0 if self.probe else conf.pure_api_retries,
                  "verify_ssl": bool(conf.pure_verify_ssl)}
        if conf.pure_verify_ssl and conf.pure_ca_bundle:
            # ``ssl_cert=`` has no effect in py-pure-client 1.96.0; the
            # transport only reads the configuration's ``ssl_ca_cert``.
            config = configuration.Configuration()
            config.ssl_ca_cert = conf.pure_ca_bundle
            kwargs["configuration"] = config
        if not self._token:
            raise exception.ArrayAuthFailed(
                array=self.display, reason="the policy has no API token")
        try:
            return flasharray.Client(**kwargs)
        except pure_exc.PureError as exc:
            text = str(exc)
            # "Failed to retrieve session token ... (401)"; the address
            # is cut out first (a port may contain "401").
            bare = text.replace(self.target, "")
            if "session token" in bare or "(401)" in bare or \
                    "(403)" in bare:
                raise exception.ArrayAuthFailed(
                    array=self.display, reason=_short(text, self._token))
            raise exception.ArrayUnreachable(
                array=self.display, reason=_short(text, self._token))
        except ValueError as exc:
            # No REST version in common with the client.
            raise exception.ArrayError(array=self.display, call="login",
                                       reason=_short(str(exc), self._token))
        except _transport_errors() as exc:
            raise exception.ArrayUnreachable(
                array=self.display, reason=_short(_reason(exc), self._token))

    @property
    def client(self):
        if self._client is None:
            self._client = self._connect()
        return self._client

    def login(self):
        """Log in and learn the array's name (policy validation)."""
        return self.name

    @property
    def name(self):
        if self._name is None:
            info = self.items("get_arrays")[0]
            self._name = info.name
        return self._name

    def now_ms(self):
        """The array's clock (``_as_of`` of GET /arrays), in ms: lag is
        measured against the array's time, not this host's."""
        info = self.items("get_arrays")[0]
        # The REST field ``_as_of`` is the model's ``as_of``.
        as_of = _get(info, "as_of", _get(info, "_as_of"))
        if as_of is None:
            import time
            as_of = int(time.time() * 1000)
        return as_of

    # -- calls -------------------------------------------------------------

    def call(self, method, **kwargs):
        """Run ``client.<method>(**kwargs)``; return the ``ValidResponse``.

        Raises ``ApiError`` for an ``ErrorResponse`` (callers that expect
        "does not exist" and the like catch it; ``check`` turns the rest
        into ``ArrayError``) and ``ArrayUnreachable`` for transport errors.
        """
        client = self.client
        try:
            resp = getattr(client, method)(**kwargs)
        except _transport_errors() as exc:
            raise exception.ArrayUnreachable(
                array=self.display, reason=_short(_reason(exc), self._token))
        if getattr(resp, "errors", None) is not None or \
                not hasattr(resp, "items"):
            status = getattr(resp, "status_code", None)
            text = _error_text(resp)
            if status in (502, 503, 504):
                raise exception.ArrayUnreachable(
                    array=self.display, reason="HTTP %s: %s" % (status, text))
            raise ApiError(status, text)
        return resp

    def check(self, method, **kwargs):
        """``call`` with every API error raised as ``ArrayError``."""
        try:
            return self.call(method, **kwargs)
        except ApiError as exc:
            raise exception.ArrayError(array=self.display,
                                       call=_call_name(method, kwargs),
                                       reason=exc.text)

    def items(self, method, **kwargs):
        return list(self.check(method, **kwargs).items)

    def items_or_none(self, method, **kwargs):
        """Items, or None when the array says a named object does not
        exist (Purity answers 400 "does not exist" for unknown names)."""
        try:
            return list(self.call(method, **kwargs).items)
        except ApiError as exc:
            if "does not exist" in exc.text or "not exist" in exc.text:
                return None
            raise exception.ArrayError(array=self.display,
                                       call=_call_name(method, kwargs),
                                       reason=exc.text)

    def tolerant(self, method, ok=("already",), **kwargs):
        """A change whose "already done" answer counts as success (a
        re-run step repeats calls that worked the first time)."""
        try:
            return self.call(method, **kwargs)
        except ApiError as exc:
            if any(s in exc.text for s in ok):
                return None
            raise exception.ArrayError(array=self.display,
                                       call=_call_name(method, kwargs),
                                       reason=exc.text)


def _get(obj, attr, default=None):
    """Model attributes that are unset raise AttributeError (and the
    client's switch for that has no effect in 1.96.0)."""
    try:
        value = getattr(obj, attr)
    except AttributeError:
        return default
    return default if value is None else value


get = _get


def _reason(exc):
    # MaxRetryError's text carries the URL and the cause: keep the cause.
    reason = getattr(exc, "reason", None)
    return str(reason or exc)


def _short(text, token=None):
    if token:
        text = text.replace(token, "***")
    return text if len(text) <= 300 else text[:297] + "..."


def _call_name(method, kwargs):
    names = kwargs.get("names") or kwargs.get("group_names") or \
        kwargs.get("source_names")
    return "%s(%s)" % (method, ",".join(names) if names else "")
