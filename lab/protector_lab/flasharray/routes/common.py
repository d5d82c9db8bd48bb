"""Helpers shared by the route modules: selection by name, references."""
import re

from ..query import bad

NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$")


def ref(name, id_=None):
    out = {"name": name}
    if id_ is not None:
        out["id"] = id_
    return out


def check_name(name, what):
    """Purity object names: letters, digits, '-' and '_' (pod prefix ok)."""
    base = name.split("::", 1)[-1]
    if not NAME_RE.match(base):
        raise bad(f"Invalid {what} name '{name}'.", name)


def select(req, objs, what, names_param="names", ids_param="ids",
           allow_all=True):
    """Pick objects by ``names``/``ids``; unknown names are a 400.

    Purity answers ``names=`` with an unknown name with 400 "... does not
    exist", and Cinder/py-pure-client callers rely on that for existence
    checks.
    """
    names = req.query.list(names_param)
    ids = req.query.list(ids_param) if ids_param else None
    if names is None and ids is None:
        if not allow_all:
            raise bad(f"The '{names_param}' parameter is required.")
        return list(objs)
    by_name = {o.name: o for o in objs}
    by_id = {getattr(o, "id", None): o for o in objs}
    out = []
    for n in names or []:
        if n not in by_name:
            raise bad(f"{what} '{n}' does not exist.", n)
        out.append(by_name[n])
    for i in ids or []:
        if i not in by_id:
            raise bad(f"{what} with id '{i}' does not exist.", i)
        out.append(by_id[i])
    return out


def filter_destroyed(req, objs):
    destroyed = req.query.bool("destroyed")
    if destroyed is None:
        return objs
    return [o for o in objs if bool(o.destroyed) == destroyed]


def required_list(req, param):
    value = req.query.list(param)
    if not value:
        raise bad(f"The '{param}' parameter is required.")
    return value


def time_remaining(obj, now):
    from ..state import ERADICATION_MS
    if not obj.destroyed or obj.destroyed_at is None:
        return None
    return max(0, ERADICATION_MS - (now - obj.destroyed_at))


def destroy_fields(obj, now, out):
    """Add ``destroyed``/``time_remaining`` (only when set: no nulls)."""
    out["destroyed"] = bool(obj.destroyed)
    tr = time_remaining(obj, now)
    if tr is not None:
        out["time_remaining"] = tr
    return out


def set_destroyed(obj, value, now):
    obj.destroyed = bool(value)
    obj.destroyed_at = now if value else None
