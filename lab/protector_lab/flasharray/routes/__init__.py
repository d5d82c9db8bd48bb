"""REST resource handlers of the FlashArray simulator, one module per family.

A handler takes a ``Request`` and returns the list of response items (the
server wraps them in the envelope and applies filter/sort/paging for GETs),
or ``None`` for replies without a body (DELETE). Errors are raised as
``query.ApiError``. Handlers run with ``Fabric.lock`` held.
"""

ROUTES = {}


class Request:
    def __init__(self, fabric, array, method, path, query, body):
        self.fabric = fabric
        self.array = array
        self.method = method
        self.path = path
        self.query = query
        self.body = body if body is not None else {}
        self.now = fabric.now()


def route(method, path):
    def deco(fn):
        ROUTES[(method, path)] = fn
        return fn
    return deco


def load_all():
    """Import every route module so their ``@route`` decorators run."""
    from . import arrays, hosts, pgroups, pgsnaps, pods, volumes  # noqa: F401
    return ROUTES
