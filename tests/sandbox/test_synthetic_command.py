"""`migrate sandbox --synthetic N`: a generated tenant served as a user starts it (in the
background, waiting for --env-file), which `migrate export` reads whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ..conftest import ROOT, run_migrate


@pytest.mark.parametrize("people", [None, 90])
def test_a_synthetic_sandbox_serves_exactly_n_channel_messages(tmp_path, people):
    env_file = tmp_path / "sandbox.env"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
    proc = subprocess.Popen([sys.executable, "-m", "migrate", "sandbox", "--synthetic", "12000",
                             "--rate-scale", "200", "--env-file", str(env_file),
                             *(["--people", str(people)] if people else [])],
                            env={**base, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), proc.stderr.read() if proc.poll() is not None else "no env file"
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in env_file.read_text().splitlines() if line)
        result = run_migrate("--json", "export", env={**env, "MIGRATE_WORKDIR": str(tmp_path / "w")},
                             timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        found = json.loads(result.stdout)["found"]
        assert found["messages"] == 12000 and found["chat_messages"] == 1200
        assert found["teams"] == 3 and found["chats"] > 0
        assert json.loads(result.stdout)["users"] == (people or 400)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_synthetic_and_tenant_do_not_go_together(tmp_path):
    result = run_migrate("sandbox", "--synthetic", "100", "--tenant", str(tmp_path))
    assert result.returncode == 2 and "--synthetic generates its tenant" in result.stderr
    result = run_migrate("sandbox", "--people", "100")
    assert result.returncode == 2 and "use it with --synthetic" in result.stderr
