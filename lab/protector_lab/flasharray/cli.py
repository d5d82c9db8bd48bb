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
    p.add_argument("--info-file", help="also write the startup JSON here")
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
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    names, ports, tokens = _parse_arrays(args.array)
    sim = Simulator(names, host=args.host, ports=ports, tokens=tokens,
                    control_port=args.control_port, cert_dir=args.cert_dir,
                    manual_clock=args.manual_clock,
                    connect=None if args.connection_type == "none"
                    else args.connection_type,
                    purity_version=args.purity_version)
    sim.start()
    info = json.dumps(sim.info(), indent=2)
    if args.info_file:
        tmp = args.info_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(info)
        os.replace(tmp, args.info_file)
    print(info, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
