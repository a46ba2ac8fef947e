"""The command line as an admin meets it: help, init, config errors, --json, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migrate.cli import app
from migrate.store import Store

from .conftest import run_migrate


def test_help_lists_commands_and_global_options():
    result = run_migrate("--help")
    assert result.returncode == 0
    for word in ("init", "config", "sandbox", "--config", "--workdir", "--json", "--verbose",
                 "--traceback"):
        assert word in result.stdout


@pytest.mark.parametrize("command", [c.name or c.callback.__name__ for c in app.registered_commands])
def test_every_command_has_help(command):
    result = run_migrate(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_init_writes_a_config_that_loads_back(tmp_path):
    result = run_migrate("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = tmp_path / "migrate.toml"
    assert "MIGRATE_SLACK_RATE_SCALE" in config.read_text()
    assert (tmp_path / "mappings" / "users.csv").read_text().startswith("teams_user,slack_user")
    shown = run_migrate("--json", "config", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["config_file"].endswith("migrate.toml")
    settings = {row["key"]: row for row in doc["settings"]}
    # relative to the file's folder, wherever migrate runs from
    assert settings["plan.user_map"]["value"] == str(tmp_path.resolve() / "mappings" / "users.csv")
    assert re.search(r"migrate\.toml:\d+$", settings["plan.user_map"]["source"])
    # A second init refuses to clobber the admin's file.
    again = run_migrate("init", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr


def test_init_json_reports_written_files(tmp_path):
    result = run_migrate("--json", "init", str(tmp_path / "site"))
    assert result.returncode == 0
    assert [p.split("/")[-1] for p in json.loads(result.stdout)["written"]] == [
        "migrate.toml", "users.csv", "channels.csv"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[slack]\nrate_scale = \"fast\"\n", "bad.toml:2: slack.rate_scale must be a number"),
        ("[export]\nmethod = \"delta\"\n", "bad.toml:2: export.method must be one of"),
        ("unknown_key = 1\n", "bad.toml:1: unknown setting 'unknown_key'"),
        ("[graph\n", "bad.toml: not valid TOML"),
    ],
)
def test_malformed_config_is_one_line_and_exit_2(tmp_path, text, expected):
    (tmp_path / "bad.toml").write_text(text)
    result = run_migrate("--config", "bad.toml", "config", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("migrate: error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_traceback_flag_shows_the_traceback(tmp_path):
    (tmp_path / "bad.toml").write_text("[graph\n")
    result = run_migrate("--traceback", "--config", "bad.toml", "config", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_secrets_are_shown_only_as_set(tmp_path):
    result = run_migrate("--json", "config", cwd=tmp_path,
                         env={"MIGRATE_SLACK_TOKEN": "xoxb-very-secret", "MIGRATE_CLIENT_SECRET": "pw"})
    assert "xoxb-very-secret" not in result.stdout + result.stderr
    assert "pw\"" not in result.stdout
    rows = {r["key"]: r for r in json.loads(result.stdout)["settings"]}
    assert rows["slack.token"]["value"] == "set" and rows["graph.client_secret"]["value"] == "set"
    assert rows["graph.token"]["value"] == "not set"


def test_usage_errors_exit_2(tmp_path):
    assert run_migrate("no-such-command", cwd=tmp_path).returncode == 2
    assert run_migrate("init", "--no-such-flag", cwd=tmp_path).returncode == 2


def test_version():
    result = run_migrate("--version")
    assert result.returncode == 0 and result.stdout.startswith("migrate ")


GLOBALS = ("--json", "--workdir", "--config", "--verbose", "--traceback")
SETTINGS_COMMANDS = ("config", "doctor", "export", "plan", "run", "sync", "status", "verify",
                     "adopt")


@pytest.mark.parametrize("command", [*SETTINGS_COMMANDS, "init", "demo", "sandbox"])
def test_every_command_lists_the_global_options(command):
    usage = run_migrate(command, "--help").stdout
    for option in GLOBALS:
        assert option in usage, f"`migrate {command} --help` does not list {option}"


@pytest.mark.parametrize("command", SETTINGS_COMMANDS)
def test_global_options_work_after_the_command_as_before_it(command, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("unknown_key = 1\n")
    before = run_migrate("--config", str(bad), command)
    after = run_migrate(command, "--config", str(bad))
    assert before.returncode == after.returncode == 2
    assert before.stderr == after.stderr and f"{bad}:1" in after.stderr
    # --traceback adds the traceback and keeps the exit code and the one-line error
    traced = run_migrate(command, "--config", str(bad), "--traceback")
    assert traced.returncode == 2 and "Traceback" in traced.stderr
    assert traced.stderr.rstrip().splitlines()[-1] == after.stderr.rstrip()


def test_json_and_workdir_after_the_command(tmp_path):
    workdir = tmp_path / "wd"
    Store.open(workdir).close()
    before = run_migrate("--json", "--workdir", str(workdir), "status")
    after = run_migrate("status", "--json", "--workdir", str(workdir))
    assert before.returncode == after.returncode == 0, after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(after.stdout)["workdir"] == str(workdir)
    shown = json.loads(run_migrate("config", "--json", "--workdir", str(workdir)).stdout)
    assert {r["key"]: r for r in shown["settings"]}["workdir"]["value"] == str(workdir)
    loud = run_migrate("status", "-vv", "--workdir", str(tmp_path / "none"))
    assert loud.returncode == 2


def test_long_channel_labels_keep_their_distinct_ends():
    from migrate.ui.progress import lane_label

    a = lane_label("engineering-platform-backend-services-eu")
    b = lane_label("engineering-platform-backend-services-us")
    assert a != b and len(a) <= 28 and a.startswith("#engineering") and a.endswith("-eu")
    assert lane_label("general") == "#general"


def test_plain_output_is_never_cut_at_80_columns(tmp_path):
    long_path = tmp_path / ("a-very-long-folder-name-" * 6) / "migration"
    result = run_migrate("config", env={"MIGRATE_WORKDIR": str(long_path)})
    assert result.returncode == 0
    assert str(long_path) in result.stderr.replace("\n", "") and str(long_path) in result.stderr


def test_the_demo_runs_and_says_where_its_reports_are(tmp_path):
    # Rate limits × 400 (the default is 50): not about rate limits, the demo as fast as it goes.
    result = run_migrate("demo", "--workdir", str(tmp_path / "demo"), "--rate-scale", "400",
                         timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["Open the plan"].endswith("plan.html") and Path(lines["Open the plan"]).is_file()
    assert Path(lines["Open the run report"]).is_file()
    assert "verified" in result.stderr


def test_readme_and_help_agree_on_the_demo_duration():
    from .conftest import ROOT

    readme = re.search(r"About (\d+) seconds", (ROOT / "README.md").read_text())
    helped = re.search(r"about (\d+) seconds", " ".join(run_migrate("demo", "--help").stdout.split()))
    assert readme and helped and readme.group(1) == helped.group(1)
