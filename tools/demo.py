"""The README's first command: bring the two-site lab up, run the DR drill.

Every step goes through the real ``openstack`` CLI (with the protectorclient
plugin) against the lab's real clouds and Protector services, and is printed
before it runs. The drill protects a VM (booted from a replicated volume) and
runs a test failover to site-b and its cleanup; it can be rerun on a
running lab (each step reuses what an earlier run made). Any step that
fails fails the demo (exit 1, naming the step).
"""
import json
import os
import shutil
import subprocess
import sys
import time

from protector_lab.info import LabInfo

BIN = os.path.dirname(sys.executable)


def run(args, cloud=None, secondary=None, check=True, capture=True):
    cmd = [os.path.join(BIN, "openstack")]
    if cloud:
        cmd += ["--os-cloud", cloud]
    if secondary:
        cmd += ["--secondary-cloud", secondary]
    cmd += args
    print("$ " + " ".join(cmd[0:1] and ["openstack"] + cmd[1:]), flush=True)
    result = subprocess.run(cmd, capture_output=capture, text=True)
    if capture:
        out = result.stdout.strip()
        if out:
            print(out)
        if result.stderr.strip():
            print(result.stderr.strip(), file=sys.stderr)
    if check and result.returncode != 0:
        raise SystemExit("demo: step failed (exit %d): %s" %
                         (result.returncode, " ".join(args)))
    return result


def lab_up():
    lab_cmd = os.path.join(BIN, "protector-lab")
    print("$ protector-lab up", flush=True)
    subprocess.run([lab_cmd, "up"], check=True)
    return LabInfo.load()


def main():
    lab = lab_up()
    os.environ["OS_CLIENT_CONFIG_FILE"] = lab.clouds_yaml
    for var in [v for v in os.environ if v.startswith("OS_")
                and v != "OS_CLIENT_CONFIG_FILE"]:
        del os.environ[var]
    a, b = lab.site("site-a"), lab.site("site-b")

    # One call per site (each CLI start costs about 2 s): the networks the
    # drill maps; the volume types are shown through Protector below.
    print("\n== Both clouds answer")
    for s in (a, b):
        run(["network", "list", "-c", "Name"], cloud=s.cloud)

    register_sites(a, b)
    print("\n== Pair the sites (the key their Protectors sign internal "
          "calls with)")
    run(["dr", "site", "pair", "site-b"], cloud=a.admin_cloud,
        secondary=b.admin_cloud)
    print("\n== Validate both sites (each through its own Protector)")
    run(["dr", "site", "validate", "site-a"], cloud=a.admin_cloud)
    run(["dr", "site", "validate", "site-b"], cloud=b.admin_cloud)
    run(["protector", "site", "list-volume-types", "site-a"],
        cloud=a.cloud)

    print("\n== DR drill")
    drill(a, b)
    dashboard()
    print("\nThe lab is still running. Use it with:\n"
          "  eval \"$(.venv/bin/protector-lab env)\"\n"
          "  openstack --os-cloud site-a server list\n"
          "Remove it with: make lab-down")


def dashboard():
    """Where the lab's Horizon with protector-dashboard is (doc/lab.md)."""
    from protector_lab import lab as lab_mod
    for name, info in lab_mod.Lab().status()["sites"].items():
        d = info.get("dashboard")
        if d:
            print("\n== Dashboard (%s): %s\n   user %s, project %s, domain "
                  "%s; the password is in %s" % (
                      name, d["url"], d["user"], d["project"], d["domain"],
                      d["password_in"]))


def register_sites(a, b):
    """doc/cli.md, "Sites": both sites registered once, from site-a, with
    site-b as the secondary cloud, so both sites hold them under the same
    IDs."""
    print("\n== Register both sites once, from site-a (site-b gets the "
          "same IDs)")
    names = {}
    for here in (a, b):
        existing = json.loads(run(["dr", "site", "list", "-f", "json"],
                                  cloud=here.admin_cloud).stdout or "[]")
        names[here.name] = {row["Name"] for row in existing}
    for s, kind in ((a, "primary"), (b, "secondary")):
        create = ["dr", "site", "create", "--name", s.name,
                  "--site-type", kind, "--auth-url", s.auth_url,
                  "--region-name", s.region,
                  "--description", "lab %s" % s.name]
        missing = [here for here in (a, b) if s.name not in names[here.name]]
        if len(missing) == 2:
            run(create, cloud=a.admin_cloud, secondary=b.admin_cloud)
        elif missing:
            # On one site only (an earlier run stopped half-way):
            # register it on the other alone, as older demos did.
            run(create, cloud=missing[0].admin_cloud)
    for here in (a, b):
        run(["dr", "site", "list"], cloud=here.admin_cloud)


def _exists(args, cloud):
    return run(args, cloud=cloud, check=False).returncode == 0


def drill(a, b):
    """Protect a VM and drill its recovery on site-b. Rerunnable: every
    step first looks for what an earlier run left."""
    pg, vm, vol = "demo-drill", "demo-vm", "demo-vm-root"
    if not _exists(["dr", "protection-group", "show", pg], a.cloud):
        run(["dr", "protection-group", "create", "--name", pg,
             "--replication-type", "async", "--primary-site", "site-a",
             "--secondary-site", "site-b", "--volume-type",
             "replicated-async"], cloud=a.cloud, secondary=b.cloud)

    print("\n== A VM booted from a replicated volume, in the demo project")
    if not _exists(["server", "show", vm, "-c", "status"], a.cloud):
        if not _exists(["volume", "show", vol, "-c", "status"], a.cloud):
            run(["volume", "create", "--image", a.image_name, "--size", "1",
                 "--type", "replicated-async", "--bootable", vol],
                cloud=a.cloud)
        _wait_volume(a, vol)
        run(["server", "create", "--flavor", a.flavor_names[0], "--volume",
             vol, "--network", a.network_name, "--wait", vm], cloud=a.cloud)
    server_id = run(["server", "show", vm, "-f", "value", "-c", "id"],
                    cloud=a.cloud).stdout.strip()

    print("\n== Replication policy (mock storage mode: any array URLs)")
    for here, peer in ((a, b),):
        # Create-or-replace, synced to site-b (the lab runs in mock mode).
        run(["dr", "policy", "create", pg,
             "--primary-fa-url", "https://flasharray-a.lab.example",
             "--primary-fa-token", "T-demo-site-a",
             "--secondary-fa-url", "https://flasharray-b.lab.example",
             "--secondary-fa-token", "T-demo-site-b",
             "--pure-pg-name", "pg-demo-drill",
             "--replication-interval", "300", "--rpo-minutes", "15"],
            cloud=here.cloud, secondary=peer.cloud)

    print("\n== The VM becomes a member (its volume joins the group)")
    added = run(["dr", "member", "add", pg, "--instance-id", server_id],
                cloud=a.cloud, secondary=b.cloud, check=False)
    # Already a member from an earlier run: fine.
    if added.returncode != 0 and not any(
            code in added.stderr for code in (
                "protector.member.duplicate",
                "protector.member.volume_in_use")):
        raise SystemExit("demo: member add failed (exit %d)" %
                         added.returncode)
    run(["dr", "protection-group", "show", pg], cloud=a.cloud)

    print("\n== Preflight: what the drill needs on site-b, nothing changed")
    mapping = "%s=%s" % (a.network_name, b.network_name)
    # Exit 5 lists what would fail (on a rerun: the test an earlier run
    # left active, which the next step cleans up).
    dry = run(["dr", "test-failover", pg, "--network-mapping", mapping,
               "--dry-run"], cloud=a.cloud, secondary=b.cloud, check=False)
    if dry.returncode not in (0, 5):
        raise SystemExit("demo: test-failover --dry-run failed (exit %d)" %
                         dry.returncode)

    print("\n== Test failover: a copy of the VM on site-b, primary untouched")
    started = run(["dr", "test-failover", pg, "--network-mapping", mapping,
                   "--wait"], cloud=a.cloud, secondary=b.cloud, check=False)
    if started.returncode == 4:
        # A test left active by an earlier run: clean it up, drill again.
        run(["dr", "test-cleanup", pg, "--wait"], cloud=a.cloud,
            secondary=b.cloud)
        started = run(["dr", "test-failover", pg, "--network-mapping",
                       mapping, "--wait"], cloud=a.cloud, secondary=b.cloud)
    elif started.returncode != 0:
        raise SystemExit("demo: test-failover failed (exit %d)" %
                         started.returncode)
    run(["server", "list", "--name", "%s-drtest" % vm, "-c", "Name", "-c",
         "Status", "-c", "Networks", "-c", "Flavor"], cloud=b.cloud)
    run(["server", "list", "--name", vm, "-c", "Name", "-c", "Status"],
        cloud=a.cloud)

    print("\n== Test cleanup: removes the test's resources, nothing else")
    run(["dr", "test-cleanup", pg, "--wait"], cloud=a.cloud,
        secondary=b.cloud)
    run(["server", "list", "--name", "%s-drtest" % vm, "-c", "Name"],
        cloud=b.cloud)


def _wait_volume(site, name, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        status = run(["volume", "show", name, "-f", "value", "-c", "status"],
                     cloud=site.cloud).stdout.strip()
        if status == "available":
            return
        if status == "error" or time.monotonic() > deadline:
            raise SystemExit("demo: volume %s is %s" % (name, status))
        time.sleep(2)


if __name__ == "__main__":
    if shutil.which("openstack", path=BIN) is None:
        raise SystemExit("demo: run it through 'make demo'")
    main()
