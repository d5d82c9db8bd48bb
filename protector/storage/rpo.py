"""Replication lag against the policy's RPO, for the API and health.

``status(group, policy)`` asks the storage driver for the replication lag
(the age of the newest complete replicated snapshot on the target array)
and compares it with ``rpo_minutes``:

* ``ok``: lag <= rpo_minutes * 60;
* ``breached``: lag > rpo_minutes * 60 (health shows a warning);
* ``unknown``: no policy, nothing replicated yet, an array unreachable, or
  a driver that cannot tell; ``rpo_detail`` says which.

The arrays are probed quickly (no retries, a short timeout) so a lost
array does not hold up ``protection-group show``.
"""
from oslo_config import cfg
from oslo_log import log as logging

from protector.common import crypto
from protector import exception
from protector import storage

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


def _decrypted(row):
    out = {k: v for k, v in row.items() if not k.endswith("_encrypted")}
    for side in ("primary", "secondary"):
        enc = row.get(side + "_fa_api_token_encrypted")
        out[side + "_fa_api_token"] = crypto.decrypt(enc) if enc else None
    return out


def _result(lag, rpo_minutes, status, detail):
    return {"replication_lag_seconds": lag, "rpo_minutes": rpo_minutes,
            "rpo_status": status, "rpo_detail": detail}


def status(group, policy_row, conf=CONF):
    """RPO fields for ``group`` (a dict with its site ids) and its policy
    row as stored (tokens encrypted)."""
    if policy_row is None:
        return _result(None, None, "unknown", "no replication policy")
    rpo = policy_row.get("rpo_minutes")
    primary = group.get("current_primary_site_id") or \
        group.get("primary_site_id")
    target = group["secondary_site_id"] if primary == \
        group["primary_site_id"] else group["primary_site_id"]
    try:
        driver = storage.get_driver(_decrypted(policy_row), group,
                                    {"id": target}, conf=conf)
        if hasattr(driver, "quick"):
            driver.quick()
        lag = driver.replication_lag()
    except exception.ProtectorException as exc:
        return _result(None, rpo, "unknown", exc.message)
    except Exception as exc:  # never fail a show over the array probe
        LOG.warning("replication lag of group %s: %s", group.get("id"), exc)
        return _result(None, rpo, "unknown", "lag not available: %s" %
                       type(exc).__name__)
    if lag is None:
        return _result(None, rpo, "unknown",
                       "no complete replicated snapshot yet")
    if rpo is not None and lag > rpo * 60:
        return _result(lag, rpo, "breached",
                       "replication lag %ds exceeds the RPO of %d min" % (
                           lag, rpo))
    return _result(lag, rpo, "ok", "replication lag %ds within the RPO of "
                   "%s min" % (lag, rpo))
