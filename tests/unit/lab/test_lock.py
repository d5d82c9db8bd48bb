"""One changing ``protector-lab`` command at a time per lab directory
(lab/protector_lab/cli.py, ``hold_lock``)."""
import os

from protector_lab import cli


def test_a_second_changing_command_is_refused_and_changes_nothing(
        tmp_path, capsys):
    state = tmp_path / "lab"
    os.makedirs(state / "site-a")
    held = cli.hold_lock(str(state), "up")
    try:
        assert cli.main(["--lab-dir", str(state), "down"]) == 1
        err = capsys.readouterr().err
        assert "protector-lab up (pid %d) is changing the lab" % \
            os.getpid() in err, err
        assert (state / "site-a").is_dir()
        # Reading the lab is not changing it.
        assert cli.main(["--lab-dir", str(state), "status"]) in (3, 4)
    finally:
        held.close()
    # Released: the next command gets the lock.
    cli.hold_lock(str(state), "down").close()
    assert open(str(state) + ".lock").read() == \
        "protector-lab down (pid %d)" % os.getpid()
