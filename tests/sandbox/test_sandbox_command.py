"""`migrate sandbox` as a user runs it: both emulators with the demo tenant, reachable by the
real `requests` and `slack_sdk` clients through the environment it prints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from migrate.sandbox.tenant import default_demo_folder

from ..conftest import ROOT


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    return env


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sandbox")
    env_file = folder / "sandbox.env"
    proc = subprocess.Popen(
        [sys.executable, "-m", "migrate", "sandbox", "--rate-scale", "1", "--env-file", str(env_file)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 30
    while not env_file.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the sandbox did not start"
        time.sleep(0.1)
    yield proc, read_env(env_file)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_prints_urls_and_exports(sandbox):
    _, env = sandbox
    assert set(env) == {"MIGRATE_GRAPH_URL", "MIGRATE_GRAPH_TOKEN", "MIGRATE_TENANT_ID",
                        "MIGRATE_GRAPH_RATE_SCALE", "MIGRATE_SLACK_URL", "MIGRATE_SLACK_TOKEN",
                        "MIGRATE_SLACK_RATE_SCALE"}
    assert env["MIGRATE_GRAPH_URL"].startswith("http://127.0.0.1:") and env["MIGRATE_GRAPH_URL"].endswith("/v1.0")
    assert env["MIGRATE_SLACK_URL"].startswith("http://127.0.0.1:") and env["MIGRATE_SLACK_URL"].endswith("/api/")


def test_requests_pages_the_demo_users(sandbox):
    _, env = sandbox
    demo = json.loads((default_demo_folder() / "graph" / "users.json").read_text())
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {env['MIGRATE_GRAPH_TOKEN']}"
    url, ids = f"{env['MIGRATE_GRAPH_URL']}/users?$top=10&$select=id", []
    while url:
        page = session.get(url, timeout=10).json()
        ids += [u["id"] for u in page["value"]]
        url = page.get("@odata.nextLink")
    assert ids == [u["id"] for u in demo]
    denied = requests.get(f"{env['MIGRATE_GRAPH_URL']}/users", timeout=10)
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_slack_sdk_posts_and_meets_the_real_per_channel_limit(sandbox):
    _, env = sandbox
    client = WebClient(token=env["MIGRATE_SLACK_TOKEN"], base_url=env["MIGRATE_SLACK_URL"])
    assert client.auth_test()["ok"]
    channel = client.conversations_create(name="sandbox-smoke-test")["channel"]["id"]
    first = client.chat_postMessage(channel=channel, text="hello")
    with pytest.raises(SlackApiError) as info:  # 1 message/s per channel at rate scale 1
        client.chat_postMessage(channel=channel, text="too soon")
    assert info.value.response.status_code == 429 and info.value.response["error"] == "ratelimited"
    assert int(info.value.response.headers["Retry-After"]) >= 1
    history = client.conversations_history(channel=channel)["messages"]
    assert first["ts"] in [m["ts"] for m in history]


def test_sigterm_stops_it_cleanly(sandbox):
    proc, env = sandbox
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(env["MIGRATE_GRAPH_URL"] + "/users", timeout=2)


def test_bad_tenant_folder_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "migrate", "sandbox", "--tenant", str(tmp_path)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "not a sandbox folder" in result.stderr and "Traceback" not in result.stderr
