"""Lab processes: started detached, tracked by pidfile, never found by name.

Each process runs in its own session (process group), so its workers and
children (uWSGI workers, cinder-volume's backend child, nova-conductor
workers) go with it. A pidfile holds ``<pid> <start time>``; the start time
(from /proc) guards against signalling a recycled pid that now belongs to
something else.
"""
import os
import signal
import subprocess
import time


def _start_time(pid):
    """Start time of ``pid`` in clock ticks, None if it does not run."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces; fields after ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def read_pidfile(pidfile):
    try:
        with open(pidfile) as f:
            parts = f.read().split()
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else None
    except (FileNotFoundError, ValueError, IndexError):
        return None, None


def running_pid(pidfile):
    """The pid recorded in ``pidfile`` if that very process still runs."""
    pid, started = read_pidfile(pidfile)
    if pid is None:
        return None
    now = _start_time(pid)
    if now is None or (started is not None and now != started):
        return None
    return pid


def start(cmd, pidfile, logfile, env=None, cwd=None):
    """Start ``cmd`` detached in a new session; return its pid."""
    for path in (pidfile, logfile):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(logfile, "ab") as log:
        log.write(("\n==== %s starting: %s\n" % (
            time.strftime("%Y-%m-%d %H:%M:%S"), " ".join(cmd))).encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=full_env,
                                cwd=cwd, start_new_session=True,
                                close_fds=True)
    started = None
    for _ in range(50):
        started = _start_time(proc.pid)
        if started is not None:
            break
        time.sleep(0.01)
    with open(pidfile, "w") as f:
        f.write("%d %s\n" % (proc.pid, started if started is not None
                             else ""))
    return proc.pid


def _group_members(pgid):
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


STOP_TIMEOUT = 20.0


def stop(pidfile, timeout=STOP_TIMEOUT):
    """Stop the process of ``pidfile`` and its process group.

    SIGTERM first, SIGKILL after ``timeout``. Returns True if something was
    running. The pidfile is removed.
    """
    pid, started = read_pidfile(pidfile)
    if pid is None:
        return False
    now = _start_time(pid)
    if now is not None and started is not None and now != started:
        # The pid was recycled by another process: not ours to signal.
        _unlink(pidfile)
        return False
    # The leader may have died and left workers behind; its process group
    # (pgid == its pid, since it was started in a new session) cannot have
    # been reused while those members exist.
    if now is None and not _group_members(pid):
        _unlink(pidfile)
        return False
    _killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_members(pid):
            break
        time.sleep(0.1)
    else:
        _killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
    _unlink(pidfile)
    return True


def _killpg(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
