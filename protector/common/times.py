"""The one text form of a time in Protector's API and synced documents.

Times are naive UTC datetimes everywhere (the database columns,
``oslo_utils.timeutils.utcnow()``); rendered as ISO 8601 to the second with
a ``Z`` (doc/api-ref.md). oslo.utils no longer has ``isotime``.
"""


def isotime(value):
    """``2024-05-01T12:00:00Z`` for a naive UTC datetime; None for None."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + "Z"
