"""tools/demo.py: every drill step is implemented, so any failing step
fails the demo (issue 14 item 18: a 404 used to end it with exit 0)."""
import subprocess
import types

import pytest

from tools import demo


def test_a_failing_step_fails_the_demo_even_on_a_404(monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: types.
                        SimpleNamespace(returncode=1, stdout="", stderr=(
                            "The resource does not exist. (HTTP 404, code "
                            "protector.request.not_found)")))
    with pytest.raises(SystemExit) as exc:
        demo.run(["dr", "test-failover", "demo-drill"])
    assert "step failed" in str(exc.value.code)
    assert not hasattr(demo, "NotYet")
