"""Run one function over many items in threads: the one fan-out helper.

Every caller wants the same: results in the order of the items, every
call finished before the caller goes on (a failed one must not leave the
others running unobserved, e.g. half-built servers), and then the first
error raised, if any.
"""
from concurrent import futures


def run(fn, items, width):
    """``[fn(item) for item in items]``, at most ``width`` at a time."""
    items = list(items)
    if not items:
        return []
    results, errors = [], []
    width = max(1, min(width, len(items)))
    with futures.ThreadPoolExecutor(max_workers=width) as pool:
        for job in [pool.submit(fn, item) for item in items]:
            try:
                results.append(job.result())
            except Exception as exc:  # wait for all, raise the first
                errors.append(exc)
    if errors:
        raise errors[0]
    return results
