"""``protector-flasharray-sim``: run the simulator as its own process.

    protector-flasharray-sim --array array1=8443 --array array2=8444 \\
        --control-port 8440 --info-file /tmp/fa-sim.json

Prints (and optionally writes) a JSON document with each array's endpoint,
API token, the control URL and the certificate path, then serves until
SIGINT/SIGTERM. The clock follows wall time (``--manual-clock`` freezes it
so only ``POST /_sim/clock/advance`` moves it).
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading

from .simulator import Simulator


def _parse_arrays(specs):
    names, ports, tokens = [], {}, {}
    for spec in specs or ["array1=0", "array2=0"]:
        # name[=port[:token]]
        name, _, rest = spec.partition("=")
        port, _, token = rest.partition(":")
        names.append(name)
        ports[name] = int(port or 0)
        if token:
            tokens[name] = token
    return names, ports, tokens


def build_parser():
    p = argparse.ArgumentParser(
        prog="protector-flasharray-sim",
        description="FlashArray REST 2.x simulator (API up to 2.56).")
    p.add_argument("--array", action="append", metavar="NAME[=PORT[:TOKEN]]",
                   help="an array to simulate (repeatable; default "
                        "array1 and array2 on ephemeral ports); the default "
                        "token is pure-sim-<name>-token")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--control-port", type=int, default=0,
                   help="plain-HTTP port for /_sim/ (0 = ephemeral)")
    p.add_argument("--cert-dir", help="where to write cert.pem/key.pem "
                                      "(default: a temporary directory)")
    p.add_argument("--info-file", help="also write the startup JSON here "
                   "(mode 0600: it holds the API tokens)")
    p.add_argument("--tokens-file",
                   help="JSON file {array name: API token} (e.g. the lab's "
                        "generated tokens); with it, tokens are neither on "
                        "the command line nor printed (masked on stdout)")
    p.add_argument("--connection-type", default="sync-replication",
                   choices=["sync-replication", "async-replication", "none"],
                   help="pre-connect every pair of arrays (default "
                        "sync-replication, which also carries async PGs)")
    p.add_argument("--manual-clock", action="store_true",
                   help="freeze the clock; move it with /_sim/clock/advance")
    p.add_argument("--purity-version", default="6.7.1")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    names, ports, tokens = _parse_arrays(args.array)
    if args.tokens_file:
        with open(args.tokens_file) as f:
            tokens.update(json.load(f))
    sim = Simulator(names, host=args.host, ports=ports, tokens=tokens,
                    control_port=args.control_port, cert_dir=args.cert_dir,
                    manual_clock=args.manual_clock,
                    connect=None if args.connection_type == "none"
                    else args.connection_type,
                    purity_version=args.purity_version)
    sim.start()
    info = sim.info()
    if args.info_file:
        tmp = args.info_file + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info, indent=2))
        os.replace(tmp, args.info_file)
    if args.tokens_file:
        for entry in info["arrays"].values():
            entry["api_token"] = "***"
    print(json.dumps(info, indent=2), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
