"""``protector-lab``: the two-site OpenStack lab on 127.0.0.1.

    protector-lab up [--profile pure]     build/start and seed both sites
    protector-lab down [--purge]          remove everything the lab created
    protector-lab status [--json]         what runs where (exit 0 = all up)
    protector-lab env                     shell exports for openstack CLI
    protector-lab stop  SITE [SERVICE]    take a site or a service down
    protector-lab start SITE [SERVICE]    bring it back

Exit codes: 0 success (``status``: every process up), 1 error, 2 usage,
3 ``status``: no lab, 4 ``status``: lab exists but something is down.
"""
import argparse
import fcntl
import json
import os
import sys

from protector_lab import lab as lab_mod
from protector_lab import layout


def _parser():
    p = argparse.ArgumentParser(
        prog="protector-lab",
        description="Two OpenStack sites (Keystone, Glance, Cinder, "
        "Placement, Neutron, Nova, Protector) on 127.0.0.1 for Protector's "
        "tests and demos. State: $PROTECTOR_LAB_DIR or <repo>/.lab.")
    p.add_argument("--lab-dir", help="lab state directory (default: "
                   "$PROTECTOR_LAB_DIR or <repo>/.lab)")
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="build, start and seed both sites")
    u.add_argument("--profile", choices=["default", "pure"],
                   help="default: the lab Cinder driver and Protector's "
                   "mock storage; pure: Cinder's real Pure iSCSI driver "
                   "against a simulated FlashArray per site and Protector's "
                   "pure driver (default: $PROTECTOR_LAB_PROFILE or "
                   "'default')")
    d = sub.add_parser("down", help="stop everything and remove all the lab "
                       "created (processes, databases, vhosts, users, files)")
    d.add_argument("--purge", action="store_true",
                   help="also drop lab_site_* databases, users and vhosts "
                   "this lab directory has no record of")
    s = sub.add_parser("status", help="processes, pids, ports, up/down")
    s.add_argument("--json", action="store_true")
    sub.add_parser("env", help="print shell exports (eval \"$(protector-lab "
                   "env)\")")
    for name in ("stop", "start"):
        c = sub.add_parser(name, help="%s a site or one of its services" %
                           name)
        c.add_argument("site", choices=layout.SITE_NAMES)
        c.add_argument("service", nargs="?", choices=list(layout.SERVICES))
    return p


def _print_status(st):
    if not st["exists"]:
        print("no lab in %s" % st["state_dir"])
        return
    print("lab %s (%s, profile %s)" % (
        st["state_dir"], "ready" if st["ready"] else "NOT READY",
        st.get("profile", "default")))
    for name, arr in (st.get("flasharray") or {}).get("arrays", {}).items():
        print("%s: FlashArray %s https://%s" % (name, arr["name"],
                                              arr["endpoint"]))
    print("clouds.yaml: %s" % st["clouds_yaml"])
    for name, info in st["sites"].items():
        print("%s: keystone %s, protector %s" % (name, info["auth_url"],
                                                 info["protector_url"]))
        if info.get("dashboard"):
            d = info["dashboard"]
            print("%s: dashboard %s (user %s, domain %s; password: %s)"
                  % (name, d["url"], d["user"], d["domain"],
                     d["password_in"]))
    print("%-7s %-17s %-8s %-6s %s" % ("SITE", "PROCESS", "PID", "PORT",
                                       "STATE"))
    for p in st["processes"]:
        state = "up" if p["running"] else "DOWN"
        if p["running"] and p["answering"] is False:
            state = "running, not answering"
        print("%-7s %-17s %-8s %-6s %s" % (p["site"], p["process"],
                                           p["pid"] or "-", p["port"] or "-",
                                           state))


# The commands that change the lab: one at a time per lab directory.
CHANGING = ("up", "down", "stop", "start")


def hold_lock(state_dir, command):
    """Take the lab's lock (``<lab dir>.lock``, beside the directory, which
    ``down`` removes) for this process's life, or raise RuntimeError
    naming the holder. Two ``up`` at once (or an ``up`` and a ``down``)
    each started half the services, and one's ``down`` removed the state
    directory while the other's processes ran on without a pidfile."""
    path = os.path.abspath(state_dir).rstrip(os.sep) + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock = open(path, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "a process"
        lock.close()
        raise RuntimeError(
            "%s is changing the lab in %s; wait for it to end, then run "
            "this again (%s)" % (holder, state_dir, path))
    lock.seek(0)
    lock.truncate()
    lock.write("protector-lab %s (pid %d)" % (command, os.getpid()))
    lock.flush()
    return lock


def main(argv=None):
    args = _parser().parse_args(argv)
    lab = lab_mod.Lab(args.lab_dir,
                      log=lambda msg: print(msg, flush=True))
    lock = None
    try:
        if args.command in CHANGING:
            lock = hold_lock(lab.state_dir, args.command)
        if args.command == "up":
            lab.up(profile=args.profile)
        elif args.command == "down":
            lab.down(purge=args.purge)
        elif args.command == "status":
            st = lab.status()
            if args.json:
                print(json.dumps(st, indent=1))
            else:
                _print_status(st)
            if not st["exists"]:
                return 3
            return 0 if lab.is_up(st) else 4
        elif args.command == "env":
            print("\n".join(lab.env()))
        elif args.command == "stop":
            lab.stop(args.site, args.service)
        elif args.command == "start":
            lab.start(args.site, args.service)
    except RuntimeError as exc:  # LabError, InfraError, APIError, ...
        print("protector-lab: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("protector-lab: interrupted; 'protector-lab down' cleans up",
              file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
